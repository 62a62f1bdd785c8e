"""A Glue 5.0 PySpark job that reads one zone prefix and writes others, and nothing more.

Fixed (security and correctness): Glue 5.0 (Spark 3.5, Python 3.11; the L2's default is older);
job bookmarks on, so each run reads only files not yet processed; at most one concurrent run
(two runs would read the same bookmark state and process the same files twice); the security
configuration (encrypted S3 output, logs and bookmarks); metrics, observability metrics and
continuous logging to an encrypted log group with a retention. The role can read
``source_prefix`` only, write (and delete, for Spark's committer) under ``target_prefixes``
only, read the one script object (and locate its bucket), and never touches the Glue Data
Catalog. A script in a bucket encrypted with a customer managed key needs that key granted to
``role`` by the caller.
Tunable: worker type and count, timeout, retries, job arguments, log retention.
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
from constructs_lib.common.monitoring import encrypted_log_group
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, integer, string_list, string_map, text
from constructs_lib.governance.lake_access import check_prefix, grant_prefix_read, grant_prefix_write

#: Glue's own job arguments that this construct sets; callers may not override them.
RESERVED_ARGUMENTS = frozenset(
    {
        "--job-bookmark-option",
        "--enable-metrics",
        "--enable-observability-metrics",
        "--enable-continuous-cloudwatch-log",
        "--continuous-log-logGroup",
        # The role has no catalog permissions by design; a job that needs the catalog as its
        # metastore is a different construct, not an argument.
        "--enable-glue-datacatalog",
    }
)


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
        target_bucket: s3.IBucket,
        target_prefixes: Sequence[str],
        data_key: kms.IKey | None,
        security: GlueSecurity,
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
        integer("LakeEtlJob", "number_of_workers", number_of_workers, minimum=1)
        integer("LakeEtlJob", "max_retries", max_retries, minimum=0, maximum=10)
        instance("LakeEtlJob", "timeout", timeout, cdk.Duration)
        if arguments is not None:
            arguments = string_map("LakeEtlJob", "arguments", arguments)
        if not target_prefixes:
            raise ValueError("LakeEtlJob: target_prefixes must name at least one prefix the job writes")
        for prefix in target_prefixes:
            check_prefix(prefix, owner="LakeEtlJob")
        overridden = sorted(RESERVED_ARGUMENTS & set(arguments or {}))
        if overridden:
            raise ValueError(
                f"LakeEtlJob: these job arguments are fixed by the construct and cannot be passed: {', '.join(overridden)}"
            )
        if number_of_workers < 2:
            raise ValueError(f"LakeEtlJob: Glue Spark jobs need at least 2 workers; got {number_of_workers}")

        self.role: iam.Role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue job {job_name}: reads {source_prefix}, writes {', '.join(target_prefixes)}",
        )
        grant_prefix_read(self.role, source_bucket, source_prefix, data_key)
        for prefix in target_prefixes:
            grant_prefix_write(self.role, target_bucket, prefix, data_key, delete=True)
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

        # Glue downloads the script with the job's role when a run starts. The L2 would add CDK's read
        # grant for it (s3:GetObject*, GetBucket* and List* on the object and the whole bucket: for an
        # asset, the CDK bootstrap assets bucket), so it gets the role without policy updates and the
        # role reads the one object: s3:GetObject on it, and s3:GetBucketLocation on its bucket, the two
        # S3 actions AWSGlueServiceRole grants a job for that ("Step 1: Create an IAM policy for the AWS
        # Glue service", https://docs.aws.amazon.com/glue/latest/dg/create-service-policy.html).
        job_role = self.role.without_policy_updates()
        script_location = script.bind(self, job_role).s3_location
        stack = cdk.Stack.of(self)
        script_bucket = f"arn:{stack.partition}:s3:::{script_location.bucket_name}"
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadTheJobScript", actions=["s3:GetObject"],
                resources=[f"{script_bucket}/{script_location.object_key}"],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="LocateTheScriptBucket", actions=["s3:GetBucketLocation"], resources=[script_bucket])
        )

        self.job: glue.PySparkEtlJob = glue.PySparkEtlJob(
            self,
            "Job",
            job_name=job_name,
            description=description,
            role=job_role,
            script=script,
            glue_version=glue.GlueVersion.V5_0,
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
