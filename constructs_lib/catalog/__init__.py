"""The Glue Data Catalog and what reads and writes it: catalog encryption, Glue security
configurations, crawlers, ETL jobs and their workflow, and Athena workgroups."""
