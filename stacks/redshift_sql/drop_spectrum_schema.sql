-- Run when the schema resource is deleted. Without DROP EXTERNAL DATABASE only Redshift's
-- pointer goes: the Glue database, its tables and the curated data are untouched.
DROP SCHEMA IF EXISTS ${schema};
