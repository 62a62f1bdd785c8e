"""OpenSearch: the VPC domain (``SearchDomain``), the Firehose delivery into it
(``StreamToSearchDelivery``) and the mapping of IAM roles to its security roles
(``SearchSecurityRoles``, whose function is ``functions/opensearch_security/``)."""
