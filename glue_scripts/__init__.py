"""Glue PySpark jobs; each module is one job (see README.md)."""
