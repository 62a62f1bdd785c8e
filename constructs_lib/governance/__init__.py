"""Who may read and write what in the lake: IAM access to lake prefixes and the catalog
(``lake_access``) and Lake Formation (``lake_formation``: settings, registered locations, grants,
data cells filters, and the ``IAMAllowedPrincipals`` revocation, whose function is
``functions/lake_formation_revoke/``)."""
