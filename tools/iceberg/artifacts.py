"""The pinned Iceberg runtime: the one place its version and checksums live.

AWS Glue 5.1 runs Spark 3.5.6 (Scala 2.12) with Iceberg 1.10.0 (AWS Glue developer guide,
"Migrating AWS Glue for Spark jobs to AWS Glue version 5.1" and "Using the Iceberg framework in
AWS Glue", whose table lists Glue 5.1 -> Iceberg 1.10.0). The local job runs on those exact
versions: ``pyspark==3.5.6`` (requirements-dev.txt; a test holds it equal to
:data:`SPARK_VERSION`) and the runtime jar below, which bundles Iceberg's core, Parquet writer
and the Hadoop catalog that the local warehouse uses (no other jar is needed locally; on Glue,
``--datalake-formats iceberg`` supplies the same version with the AWS bundle).

The SHA-256 was computed from the download and the SHA-1 is the one Maven Central publishes
beside the jar; tools/maven.py verifies both and the size.
"""

from __future__ import annotations

from tools.maven import Artifact

#: AWS Glue 5.1's versions.
GLUE_VERSION = "5.1"
SPARK_VERSION = "3.5.6"
SCALA_BINARY_VERSION = "2.12"
ICEBERG_VERSION = "1.10.0"

SPARK_RUNTIME = Artifact(
    group_path="org/apache/iceberg",
    artifact_id=f"iceberg-spark-runtime-3.5_{SCALA_BINARY_VERSION}",
    version=ICEBERG_VERSION,
    extension="jar",
    sha256="70f9471870b2d456167d703c829f098a446b86bb1379eee338c0efa03a341026",
    sha1="e9e56f219ee65d302a96d598470365733b824018",
    size=47_130_096,
)
ARTIFACTS = (SPARK_RUNTIME,)
