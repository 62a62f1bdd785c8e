-- The Spectrum external schema over the curated Glue database, created at deploy time so that
-- SELECT * FROM ${schema}.telemetry works right after `cdk deploy`. The role is the cluster's
-- Spectrum role: it reads the catalog and the curated zone, nothing else. IF NOT EXISTS makes a
-- re-run (an update of this resource) harmless.
CREATE EXTERNAL SCHEMA IF NOT EXISTS ${schema}
FROM DATA CATALOG
DATABASE '${database}'
IAM_ROLE '${role_arn}';
