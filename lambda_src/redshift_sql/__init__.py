"""Deploy-time SQL on a provisioned Redshift cluster: the CloudFormation custom resource
``Custom::RedshiftSql`` (``constructs_lib.redshift_sql.RedshiftSql``).

``handler`` is self-contained (standard library and the runtime's boto3 only): the function's
asset is this folder alone, and its entry point is ``handler.lambda_handler``.
"""
