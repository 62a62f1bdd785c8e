"""The Redshift warehouse (``RedshiftWarehouse``) and deploy-time SQL against it (``RedshiftSql``,
whose function is ``functions/redshift_sql/``)."""
