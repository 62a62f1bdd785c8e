"""A Glue security configuration and the key it encrypts logs and job bookmarks with.

Glue's rule checks (cdk-nag GL1, GL3) only recognise a security configuration in the same stack
as the crawlers and jobs that use it, so create this construct next to them.

Fixed (security): data written to S3 by jobs is SSE-KMS with the data lake's key; CloudWatch
logs of crawlers and jobs are encrypted with a customer-managed, rotating key that only the
Logs service of this account and region may use; job bookmarks are client-side encrypted with
the same key.
Tunable: the configuration's name and the removal policy (of the key and the configuration).
``existing_key``: a key of your own for the logs and bookmarks, instead of a new one; its policy must
let CloudWatch Logs of this account and region use it (as :func:`allow_cloudwatch_logs` grants).
"""

from __future__ import annotations

from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import allow_cloudwatch_logs
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, text

#: Glue creates the log groups of crawlers and jobs that use a security configuration itself,
#: under names it derives from the role and the configuration, below these prefixes, and
#: associates the key with them.
GLUE_LOG_GROUP_PREFIXES = {"crawler": "/aws-glue/crawlers", "job": "/aws-glue/jobs"}


class GlueSecurity(Construct):
    """Attributes: ``key`` (logs and bookmarks: created, or ``existing_key``), ``configuration``
    (``glue.SecurityConfiguration``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        configuration_name: str,
        data_key: kms.IKey,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        existing_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        text("GlueSecurity", "configuration_name", configuration_name)
        instance("GlueSecurity", "data_key", data_key, kms.IKey)
        check_data_removal_policy(removal_policy, owner="GlueSecurity")
        if existing_key is None:
            apply_data_removal_policy(self, removal_policy, what="the key of the Glue logs and bookmarks")
            created = rotating_key(
                self,
                "Key",
                description="Encrypts Glue crawler and job logs and job bookmarks",
                removal_policy=removal_policy,
            )
            allow_cloudwatch_logs(created)
            self.key: kms.IKey = created
        else:
            instance("GlueSecurity", "existing_key", existing_key, kms.IKey)
            # DESTROY still reaches the configuration (which holds no data): no data-destroyed warning.
            self.key = existing_key
        self.configuration: glue.SecurityConfiguration = glue.SecurityConfiguration(
            self,
            "Configuration",
            security_configuration_name=configuration_name,
            # A retained configuration keeps its name, and the next deployment of the stack
            # would fail creating it again: it follows the key's removal policy.
            removal_policy=removal_policy,
            s3_encryption=glue.S3Encryption.kms(data_key),
            cloud_watch_encryption=glue.CloudWatchEncryption.kms(self.key),
            job_bookmarks_encryption=glue.JobBookmarksEncryption.client_side_kms(self.key),
        )

    def log_groups_arn(self, runs: Literal["crawler", "job"]) -> str:
        """The ARN pattern of the log groups Glue creates for crawlers or jobs of this account and
        region: what :meth:`grant_use` grants, and what an acknowledgment of it names."""
        return cdk.Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{GLUE_LOG_GROUP_PREFIXES[runs]}*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

    def grant_use(self, grantee: iam.IGrantable, *, runs: Literal["crawler", "job"]) -> None:
        """What a crawler or job role needs to run under this configuration: write encrypted
        logs to Glue's log groups of its kind, and, for jobs, read and write encrypted
        bookmarks."""
        log_groups = self.log_groups_arn(runs)
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                resources=[log_groups],
            )
        )
        actions = ["kms:Decrypt", "kms:GenerateDataKey"]
        if runs == "job":
            actions.append("kms:Encrypt")
        principal.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[self.key.key_arn]))
