"""An Athena workgroup whose settings users cannot override, with its saved (named) queries.

Fixed (security and cost): the workgroup's configuration is enforced (clients cannot choose
another result location or turn encryption off); results are SSE-KMS with the given key in the
given bucket prefix; Athena engine version 3; per-query CloudWatch metrics; requester-pays off.
Tunable: the result location and key, the bytes-scanned cutoff per query (Athena's minimum is
10,000,000 bytes), the named queries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.common.validation import instance_list, integer, text
from constructs_lib.governance.lake_access import check_prefix, grant_prefix_write

ENGINE_VERSION = "Athena engine version 3"
#: Athena rejects a smaller BytesScannedCutoffPerQuery.
MIN_BYTES_SCANNED_CUTOFF = 10_000_000
#: What a user of the workgroup needs to run queries and read their results.
QUERY_ACTIONS = (
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:GetQueryResultsStream",
    "athena:ListQueryExecutions",
    "athena:BatchGetQueryExecution",
    "athena:GetWorkGroup",
    "athena:GetNamedQuery",
    "athena:ListNamedQueries",
    "athena:BatchGetNamedQuery",
)


def _construct_id(name: str) -> str:
    """``latest-reading-per-device`` -> ``QueryLatestReadingPerDevice``: the query's logical id
    follows its name, not its position, so adding a query never replaces another."""
    words = [part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part]
    if not words:
        raise ValueError(f"AthenaWorkgroup: a named query's name needs letters or digits; got {name!r}")
    return "Query" + "".join(words)


@dataclass(frozen=True)
class NamedQuery:
    """A saved query: ``sql`` runs against ``database``; ``?`` marks a parameter that Athena
    asks for when the query is run."""

    name: str
    description: str
    database: str
    sql: str


class AthenaWorkgroup(Construct):
    """Attributes: ``workgroup`` (``AWS::Athena::WorkGroup``), ``workgroup_name``,
    ``named_queries`` (name -> ``AWS::Athena::NamedQuery``), ``output_location``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workgroup_name: str,
        results_bucket: s3.IBucket,
        results_prefix: str,
        results_key: kms.IKey,
        bytes_scanned_cutoff_per_query: int,
        description: str | None = None,
        named_queries: Sequence[NamedQuery] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        check_prefix(text("AthenaWorkgroup", "results_prefix", results_prefix), owner="AthenaWorkgroup")
        text("AthenaWorkgroup", "workgroup_name", workgroup_name)
        integer("AthenaWorkgroup", "bytes_scanned_cutoff_per_query", bytes_scanned_cutoff_per_query)
        named_queries = instance_list("AthenaWorkgroup", "named_queries", named_queries, NamedQuery)
        if bytes_scanned_cutoff_per_query < MIN_BYTES_SCANNED_CUTOFF:
            raise ValueError(
                f"AthenaWorkgroup: bytes_scanned_cutoff_per_query must be at least {MIN_BYTES_SCANNED_CUTOFF:,} "
                f"(Athena's minimum); got {bytes_scanned_cutoff_per_query:,}"
            )
        ids = [_construct_id(q.name) for q in named_queries]
        if len(set(ids)) != len(ids):
            raise ValueError(
                f"AthenaWorkgroup: named query names must differ in more than punctuation and case; got {[q.name for q in named_queries]}"
            )
        self.workgroup_name = workgroup_name
        self._results_bucket = results_bucket
        self._results_prefix = results_prefix
        self._results_key = results_key
        self.output_location: str = f"s3://{results_bucket.bucket_name}/{results_prefix}"
        self.workgroup: athena.CfnWorkGroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=workgroup_name,
            description=description,
            state="ENABLED",
            # Saved queries and history go with the workgroup; the results stay in S3.
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                requester_pays_enabled=False,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_per_query,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version=ENGINE_VERSION),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.output_location,
                    expected_bucket_owner=cdk.Stack.of(self).account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=results_key.key_arn
                    ),
                ),
            ),
        )
        self.named_queries: dict[str, athena.CfnNamedQuery] = {}
        for query in named_queries:
            named = athena.CfnNamedQuery(
                self,
                _construct_id(query.name),
                name=query.name,
                description=query.description,
                database=query.database,
                query_string=query.sql,
                work_group=self.workgroup.ref,
            )
            self.named_queries[query.name] = named

    @property
    def workgroup_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(service="athena", resource="workgroup", resource_name=self.workgroup_name)

    def grant_query(self, grantee: iam.IGrantable) -> None:
        """Run queries in this workgroup and write and read its results. Reading the tables
        themselves (catalog, S3, keys, Lake Formation) is granted separately."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=list(QUERY_ACTIONS), resources=[self.workgroup_arn])
        )
        grant_prefix_write(grantee, self._results_bucket, self._results_prefix, self._results_key)
