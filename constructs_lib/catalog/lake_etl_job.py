"""A Glue 5 PySpark job that reads one zone prefix and writes others (plain prefixes, or Apache
Iceberg tables it commits to), and nothing more.

Fixed (security and correctness): Glue 5.0 or 5.1 (Spark 3.5, Python 3.11; the L2's default is
older); job bookmarks on, so each run reads only files not yet processed; at most one concurrent run
(two runs would read the same bookmark state and process the same files twice); the security
configuration (encrypted S3 output, logs and bookmarks); metrics, observability metrics and
continuous logging to an encrypted log group with a retention. The role can read
``source_prefix`` only, write (and delete, for Spark's committer) under ``target_prefixes``
only, read the script object and the ``extra_python_files`` objects (and locate their buckets), and
touches the Glue Data Catalog only to commit to ``iceberg_tables`` (each table's
``IcebergTable.grant_write``: the table and its database, ``glue:UpdateTable`` on the table, its
prefix, its key). A script in a bucket encrypted with a customer managed key needs that key granted
to ``role`` by the caller.
Tunable: Glue version (5.0 or 5.1), worker type and count, timeout, retries, job arguments, extra
Python modules, log retention.

Why the Iceberg tables are a prop, not a ``target_prefixes`` entry: an Iceberg commit is a catalog
write (Iceberg's Glue catalog swaps the table's ``metadata_location`` with ``UpdateTable``), so a
prefix grant alone would fail at the first commit, and a catalog grant written by the caller would
be the whole database. The job still needs Iceberg's Spark runtime and catalog settings in its
``arguments`` (``--datalake-formats iceberg`` and ``--conf``), which are the caller's: they name the
caller's catalog and warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.catalog.glue_security import GlueSecurity
from constructs_lib.catalog.iceberg_table import IcebergTable
from constructs_lib.common.monitoring import encrypted_log_group
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, instance_list, integer, string_list, string_map, text
from constructs_lib.governance.lake_access import check_prefix, grant_prefix_read, grant_prefix_write

#: Glue's own job arguments that this construct sets; callers may not override them.
RESERVED_ARGUMENTS = frozenset(
    {
        "--job-bookmark-option",
        "--enable-metrics",
        "--enable-observability-metrics",
        "--enable-continuous-cloudwatch-log",
        "--continuous-log-logGroup",
        # The role has no catalog permissions beyond its Iceberg tables: the Hive metastore client
        # this flag turns on would need the catalog's databases and tables at large. Iceberg's Glue
        # catalog (iceberg_tables plus the caller's --conf) does not use it.
        "--enable-glue-datacatalog",
    }
)
#: The Glue versions the construct runs: Spark 3.5 and Python 3.11 (5.0: Spark 3.5.4, Iceberg 1.7.1;
#: 5.1: Spark 3.5.6, Iceberg 1.10.0). Older versions lack Python 3.11; newer ones are not checked.
GLUE_VERSIONS = (glue.GlueVersion.V5_0, glue.GlueVersion.V5_1)


class LakeEtlJob(Construct):
    """Attributes: ``job`` (``glue.PySparkEtlJob``), ``role``, ``log_group`` (continuous logs)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_name: str,
        script: glue.Code,
        source_bucket: s3.IBucket,
        source_prefix: str,
        data_key: kms.IKey | None,
        security: GlueSecurity,
        target_bucket: s3.IBucket | None = None,
        target_prefixes: Sequence[str] = (),
        iceberg_tables: Sequence[IcebergTable] = (),
        catalog_key: kms.IKey | None = None,
        extra_python_files: Sequence[glue.Code] = (),
        glue_version: glue.GlueVersion = glue.GlueVersion.V5_0,
        worker_type: glue.WorkerType = glue.WorkerType.G_1X,
        number_of_workers: int = 2,
        timeout: cdk.Duration = cdk.Duration.hours(1),
        max_retries: int = 0,
        arguments: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_data_removal_policy(log_removal_policy, owner="LakeEtlJob")
        apply_data_removal_policy(self, log_removal_policy, what="the job's continuous log group")
        check_prefix(text("LakeEtlJob", "source_prefix", source_prefix), owner="LakeEtlJob")
        text("LakeEtlJob", "job_name", job_name)
        target_prefixes = string_list("LakeEtlJob", "target_prefixes", target_prefixes, unique=True)
        iceberg_tables = instance_list("LakeEtlJob", "iceberg_tables", iceberg_tables, IcebergTable)
        extra_python_files = instance_list("LakeEtlJob", "extra_python_files", extra_python_files, glue.Code)
        if target_bucket is not None:
            instance("LakeEtlJob", "target_bucket", target_bucket, s3.IBucket)
        if catalog_key is not None:
            instance("LakeEtlJob", "catalog_key", catalog_key, kms.IKey)
        instance("LakeEtlJob", "glue_version", glue_version, glue.GlueVersion)
        integer("LakeEtlJob", "number_of_workers", number_of_workers, minimum=1)
        integer("LakeEtlJob", "max_retries", max_retries, minimum=0, maximum=10)
        instance("LakeEtlJob", "timeout", timeout, cdk.Duration)
        if arguments is not None:
            arguments = string_map("LakeEtlJob", "arguments", arguments)
        if not target_prefixes and not iceberg_tables:
            raise ValueError("LakeEtlJob: target_prefixes must name at least one prefix the job writes, or iceberg_tables a table it commits to")
        if target_prefixes and target_bucket is None:
            raise ValueError("LakeEtlJob: target_prefixes need the target_bucket they are in")
        if target_bucket is not None and not target_prefixes:
            raise ValueError("LakeEtlJob: target_bucket has no effect without target_prefixes; leave it out")
        if catalog_key is not None and not iceberg_tables:
            raise ValueError("LakeEtlJob: catalog_key has no effect without iceberg_tables (the role reads no other catalog entry); leave it out")
        if glue_version not in GLUE_VERSIONS:
            raise ValueError(f"LakeEtlJob: glue_version must be 5.0 or 5.1 (Spark 3.5, Python 3.11); got {glue_version}")
        for prefix in target_prefixes:
            check_prefix(prefix, owner="LakeEtlJob")
        arns = [table.table_arn for table in iceberg_tables]
        if len(set(arns)) != len(arns):
            raise ValueError("LakeEtlJob: iceberg_tables names a table more than once")
        overridden = sorted(RESERVED_ARGUMENTS & set(arguments or {}))
        if overridden:
            raise ValueError(
                f"LakeEtlJob: these job arguments are fixed by the construct and cannot be passed: {', '.join(overridden)}"
            )
        if extra_python_files and "--extra-py-files" in (arguments or {}):
            raise ValueError("LakeEtlJob: pass the modules as extra_python_files or as the --extra-py-files argument, not both")
        if number_of_workers < 2:
            raise ValueError(f"LakeEtlJob: Glue Spark jobs need at least 2 workers; got {number_of_workers}")

        self.role: iam.Role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue job {job_name}: reads {source_prefix}, writes "
            + ", ".join([*target_prefixes, *(f"{t.database_name}.{t.table_name}" for t in iceberg_tables)]),
        )
        grant_prefix_read(self.role, source_bucket, source_prefix, data_key)
        for prefix in target_prefixes:
            grant_prefix_write(self.role, target_bucket, prefix, data_key, delete=True)
        for table in iceberg_tables:
            table.grant_write(self.role, catalog_key=catalog_key)
        security.grant_use(self.role, runs="job")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            )
        )

        self.log_group: logs.LogGroup = encrypted_log_group(
            self, "ContinuousLogs", key=security.key, retention=log_retention, removal_policy=log_removal_policy
        )
        self.log_group.grant_write(self.role)

        # Glue downloads the script (and the extra Python modules) with the job's role when a run
        # starts. The L2 would add CDK's read grant for each (s3:GetObject*, GetBucket* and List* on the
        # object and the whole bucket: for an asset, the CDK bootstrap assets bucket), so it gets the
        # role without policy updates and the role reads the objects themselves: s3:GetObject on each,
        # and s3:GetBucketLocation on their buckets, the two S3 actions AWSGlueServiceRole grants a job
        # for that ("Step 1: Create an IAM policy for the AWS Glue service",
        # https://docs.aws.amazon.com/glue/latest/dg/create-service-policy.html).
        job_role = self.role.without_policy_updates()
        stack = cdk.Stack.of(self)
        locations = [code.bind(self, job_role).s3_location for code in (script, *extra_python_files)]
        objects = [f"arn:{stack.partition}:s3:::{location.bucket_name}/{location.object_key}" for location in locations]
        buckets = list(dict.fromkeys(f"arn:{stack.partition}:s3:::{location.bucket_name}" for location in locations))
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="ReadTheJobScript", actions=["s3:GetObject"], resources=objects[:1])
        )
        if extra_python_files:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(sid="ReadTheExtraPythonFiles", actions=["s3:GetObject"], resources=objects[1:])
            )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="LocateTheScriptBucket", actions=["s3:GetBucketLocation"], resources=buckets)
        )

        self.job: glue.PySparkEtlJob = glue.PySparkEtlJob(
            self,
            "Job",
            job_name=job_name,
            description=description,
            role=job_role,
            script=script,
            extra_python_files=list(extra_python_files) or None,
            glue_version=glue_version,
            worker_configuration=glue.WorkerConfiguration(
                worker_type=worker_type, number_of_workers=number_of_workers
            ),
            timeout=timeout,
            max_retries=max_retries,
            max_concurrent_runs=1,
            security_configuration=security.configuration,
            enable_metrics=True,
            enable_observability_metrics=True,
            continuous_logging=glue.ContinuousLoggingProps(enabled=True, log_group=self.log_group),
            default_arguments={"--job-bookmark-option": "job-bookmark-enable", **(arguments or {})},
        )
