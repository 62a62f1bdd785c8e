"""The Iceberg Spark runtime on this machine, at exactly the versions AWS Glue 5.1 runs.

- ``tools.iceberg.artifacts``: the pinned versions (Glue 5.1 = Spark 3.5.6, Iceberg 1.10.0) and
  the runtime jar's checksums.
- ``python -m tools.iceberg.install`` (``make iceberg``): fetch and verify the jar into the
  git-ignored ``.cache/iceberg/``; ``ensure_iceberg_runtime() -> Path`` returns it, or raises
  :class:`~tools.iceberg.install.IcebergRuntimeNotInstalled` naming ``make iceberg``.

The job's local session (glue_scripts/lakehouse.py) puts that jar on Spark's class path.
"""
