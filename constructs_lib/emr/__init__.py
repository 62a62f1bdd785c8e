"""The long-running EMR cluster with the Glue Data Catalog as its metastore (``EmrCluster``)."""
