"""Take ``IAM_ALLOWED_PRINCIPALS`` off Glue databases that Lake Formation governs.

Until Lake Formation governs a database, the group ``IAM_ALLOWED_PRINCIPALS`` (every IAM principal
whose IAM policies allow the Glue and S3 calls) holds ``ALL`` on it and on each of its tables: Lake
Formation grants then change nothing. ``DataLakeSettings`` stops that for databases and tables created
afterwards; this module handles the rest:

- ``IamAllowedPrincipalsRevocation``: revokes the group's permissions on existing databases, their
  tables and their table wildcards, at deploy time. CloudFormation has no resource for a revocation,
  so each database gets a ``Custom::IamAllowedPrincipalsRevocation`` (its own physical id, so a failure
  names its database), all answered by one small Python function of the construct
  (``constructs_lib/governance/functions/lake_formation_revoke/handler.py``, which documents the request
  semantics; no Provider framework). One function, role, log group and dead-letter queue serve every
  database of the construct.
- ``disable_iam_allowed_principals_for_new_tables(database)``: makes the database itself stop
  giving tables created later to the group (``DatabaseInput.CreateTableDefaultPermissions: []``, an
  update without interruption of the ``AWS::Glue::Database``).

**Delete leaves the database governed (fail closed).** CloudFormation deletes a custom resource not
only when governance ends, but also when it is *replaced*: a renamed or moved construct (a new logical
id), or a database renamed (a new construct id, derived from the name). It creates the new resource
first (which revokes) and deletes the old one afterwards. If Delete granted ``ALL`` back to
``IAM_ALLOWED_PRINCIPALS``, such a replacement would silently re-open the old database -- or, for a
logical-id rename, the very database just revoked -- to every IAM principal. So Delete restores only
when the resource says ``RestoreOnDelete: "true"`` (``restore_on_delete=True``); by default it answers
SUCCESS and leaves Lake Formation governing the database. Resources created before the property
existed have none, and are treated as ``"false"``.

The trade-off: ending governance of a database does not give it back to IAM by itself. Either

1. deploy once with ``restore_on_delete=True`` (an in-place update: the physical id stays, the
   database is revoked again, which changes nothing), then remove the database or the construct in a
   later deployment, whose Delete grants ``ALL`` back on the database and each of its tables. Do not
   rename or move the construct while the flag is on: a replacement would then restore; or
2. after removing it, grant the group its permissions back as a data lake administrator::

       ACCOUNT=111122223333 DB=my_database
       aws lakeformation grant-permissions --catalog-id "$ACCOUNT" \\
         --principal DataLakePrincipalIdentifier=IAM_ALLOWED_PRINCIPALS --permissions ALL \\
         --resource "{\\"Database\\": {\\"CatalogId\\": \\"$ACCOUNT\\", \\"Name\\": \\"$DB\\"}}"
       for TABLE in $(aws glue get-tables --catalog-id "$ACCOUNT" --database-name "$DB" \\
                        --query 'TableList[].Name' --output text); do
         aws lakeformation grant-permissions --catalog-id "$ACCOUNT" \\
           --principal DataLakePrincipalIdentifier=IAM_ALLOWED_PRINCIPALS --permissions ALL \\
           --resource "{\\"Table\\": {\\"CatalogId\\": \\"$ACCOUNT\\", \\"DatabaseName\\": \\"$DB\\", \\"Name\\": \\"$TABLE\\"}}"
       done

   (what the function's restore does: the database and each table). Tables created later still get
   nothing while the database keeps ``CreateTableDefaultPermissions: []``.

**Why grant options, not admin.** Only data lake administrators, or principals that hold a
permission *with the grant option*, may grant or revoke it. An admin can grant itself anything in the
account's catalog; so instead of making the function an admin, the construct grants its role ``ALL``
with the grant option on each of its databases and on their table wildcards (two
``AWS::LakeFormation::PrincipalPermissions`` per database, created by the deployment role, which must
be a data lake admin), and each custom resource waits for its two. The trade-off: the role can grant
any permission on these databases and their tables to any principal, and can read and change their
tables. It can be assumed only by Lambda for this one function (invoked by CloudFormation), which
makes only the calls the handler makes; Lake Formation's IAM actions have no resource-level
permissions, so the role's IAM policy cannot narrow them further.

Fixed (as ``RedshiftSql``; both are built by ``constructs_lib.common.deploy_time_function``): the function
answers CloudFormation itself, always; no asynchronous retries (failed invocations go to a
KMS-encrypted dead-letter queue); one concurrent execution per database (CloudFormation sends the
requests of several databases at the same time, and a throttled asynchronous request would wait in
Lambda's queue, with growing back-off, while CloudFormation's service timeout runs); a KMS-encrypted
log group with a retention; an encrypted environment; active X-Ray tracing; ARM64 and the newest
Python runtime. It runs outside any VPC: it only calls the Lake Formation and Glue APIs.

Tunable: timeout (1 to 15 minutes; a database with many tables needs two calls per table), log
retention, removal policy (log group, dead-letter queue, own key), the key, ``restore_on_delete``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from constructs_lib.common.deploy_time_function import check_timeout, deploy_time_function
from constructs_lib.common.nag import LAMBDA_IN_VPC_RULES, acknowledge, nag_resource
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, sequence
from constructs_lib.governance.lake_access import glue_catalog_arns
from constructs_lib.governance.lake_formation_common import check_name, construct_id_of
from constructs_lib.governance.lake_formation_grants import DatabaseGrant, TableGrant, principal_permissions

OWNER = "IamAllowedPrincipalsRevocation"
#: The handler's source: a self-contained folder shipped as package data (standard library and the
#: runtime's boto3 only).
HANDLER_DIR = Path(__file__).resolve().parent / "functions" / "lake_formation_revoke"
RESOURCE_TYPE = "Custom::IamAllowedPrincipalsRevocation"
IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"
#: Concurrent executions per database: every custom resource's request runs at once.
CONCURRENCY_PER_DATABASE = 1
LAKE_FORMATION_ACTIONS = (
    "lakeformation:GrantPermissions",
    "lakeformation:ListPermissions",
    "lakeformation:RevokePermissions",
)
GLUE_ACTIONS = ("glue:GetDatabase", "glue:GetTable", "glue:GetTables")


def database_key(database_name: str) -> str:
    """The key a database's custom resource and grants are filed under (their construct id is
    derived from it, so adding or removing a database never renames the others)."""
    return f"Database:{database_name}"


_STAR_RESOURCE_REASON = (
    "Every '*' resource in this role's policy is an action without resource-level permissions: Lake "
    "Formation's GrantPermissions, RevokePermissions and ListPermissions (Lake Formation decides what the "
    "role may grant or revoke from its own grants: ALL with grant option on this construct's databases "
    "only) and X-Ray's PutTraceSegments/PutTelemetryRecords for active tracing."
)


def _tables_reason(database_name: str) -> str:
    return (
        f"The function revokes (and, when asked to, restores) IAM_ALLOWED_PRINCIPALS on every table of the "
        f"database {database_name}, including tables created after deployment, so it reads the tables of "
        f"that database only (table/{database_name}/*), with read-only Glue actions."
    )


_NOT_IN_A_VPC = (
    "The function only calls the Lake Formation and Glue control-plane APIs and CloudFormation's pre-signed "
    "response URL; it reaches no database or private endpoint and handles no lake data. A VPC would add "
    "network interfaces and interface endpoints without reducing its exposure."
)


def disable_iam_allowed_principals_for_new_tables(database: glue.Database | glue.CfnDatabase) -> glue.CfnDatabase:
    """Make ``database`` give no permissions to ``IAM_ALLOWED_PRINCIPALS`` on tables created in it from
    now on: ``DatabaseInput.CreateTableDefaultPermissions: []`` (an empty list is valid there, and
    changing it is an update without interruption). Tables that already exist keep their grants:
    see ``IamAllowedPrincipalsRevocation``. Returns the ``CfnDatabase`` it changed."""
    cfn = database if isinstance(database, glue.CfnDatabase) else getattr(database.node, "default_child", None)
    if not isinstance(cfn, glue.CfnDatabase):
        raise ValueError(
            "disable_iam_allowed_principals_for_new_tables: database must be a glue.Database or glue.CfnDatabase "
            f"created in this app (an imported database cannot be changed); got {database!r}"
        )
    cfn.add_property_override("DatabaseInput.CreateTableDefaultPermissions", [])
    return cfn


def _statements(per_database: Mapping[str, list[str]]) -> list[iam.PolicyStatement]:
    """Lake Formation's grant calls, and read access to the catalog, the databases and their tables
    (``per_database``: name -> ``glue_catalog_arns``)."""
    catalog = next(iter(per_database.values()))[0]
    return [
        iam.PolicyStatement(
            sid="GrantAndRevokeLakeFormationPermissions", actions=list(LAKE_FORMATION_ACTIONS), resources=["*"]
        ),
        iam.PolicyStatement(
            sid="ReadTheDatabasesAndTheirTables",
            actions=list(GLUE_ACTIONS),
            resources=[catalog, *(arn for arns in per_database.values() for arn in arns[1:])],
        ),
    ]


def _check_database_names(database_names: Sequence[str]) -> tuple[str, ...]:
    if isinstance(database_names, (str, bytes)) or not database_names:
        raise ValueError(f"{OWNER}: database_names must hold at least one database name; got {database_names!r}")
    names = tuple(
        check_name(name, owner=OWNER, prop="database_names", allow_token=False)
        for name in sequence(OWNER, "database_names", database_names)
    )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{OWNER}: database_names names each database once; got {duplicates!r} more than once")
    return names


def _check_after(
    after: Mapping[str, Sequence[IConstruct]] | None, names: tuple[str, ...]
) -> dict[str, tuple[Construct, ...]]:
    if after is None:
        return {}
    if not isinstance(after, Mapping):
        raise ValueError(f"{OWNER}: after must map database names to the constructs they wait for; got {after!r}")
    unknown = [name for name in after if name not in names]
    if unknown:
        raise ValueError(f"{OWNER}: after names databases that database_names does not list; got {unknown!r}")
    checked: dict[str, tuple[Construct, ...]] = {}
    for name, constructs in after.items():
        if (
            isinstance(constructs, (str, bytes))
            or not isinstance(constructs, Sequence)
            or not all(isinstance(c, Construct) for c in constructs)
        ):
            raise ValueError(
                f"{OWNER}: after[{name!r}] must be a sequence of constructs (the database, its tables); got {constructs!r}"
            )
        checked[name] = tuple(constructs)
    return checked


class IamAllowedPrincipalsRevocation(Construct):
    """One ``Custom::IamAllowedPrincipalsRevocation`` per Glue database of ``database_names``, all
    answered by one function (see the module docstring for what Create, Update and Delete do, why
    Delete restores nothing unless ``restore_on_delete=True``, and why the function holds grant
    options).

    ``database_names`` are literal names (not tokens): the construct id of each database's resource
    and grants is derived from it (``Database:<name>``), so adding or removing a database never
    replaces the others. The databases (and the tables to revoke on) must exist before their
    resources and grants: pass them in ``after`` (database name -> the constructs its custom resource
    and its two grants wait for), for example ``after={"curated": [curated_database, telemetry_table]}``.
    ``after`` rather than a dependency added afterwards, because the grants need the database too: a
    dependency on ``resources[name]`` alone would let them race its creation.

    Attributes: ``resources`` (database name -> ``cdk.CustomResource``), ``grants`` (database name ->
    ``{"database": ..., "tables": ...}``, ``CfnPrincipalPermissions`` of ALL with grant option for the
    role), ``function``, ``role``, ``dead_letter_queue``, ``log_group``, ``key`` (the one passed in, or
    the construct's own), ``database_names``, ``restore_on_delete``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database_names: Sequence[str],
        key: kms.IKey | None = None,
        timeout: cdk.Duration = cdk.Duration.minutes(5),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        restore_on_delete: bool = False,
        after: Mapping[str, Sequence[IConstruct]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.database_names: tuple[str, ...] = _check_database_names(database_names)
        waits_for = _check_after(after, self.database_names)
        if key is not None:
            instance(OWNER, "key", key, kms.IKey)
        instance(OWNER, "timeout", timeout, cdk.Duration)
        instance(OWNER, "log_retention", log_retention, logs.RetentionDays)
        check_timeout(timeout, owner=OWNER)
        check_data_removal_policy(removal_policy, owner=OWNER)
        if not isinstance(restore_on_delete, bool):
            raise ValueError(f"{OWNER}: restore_on_delete must be True or False; got {restore_on_delete!r}")
        self.restore_on_delete = restore_on_delete
        per_database = {name: glue_catalog_arns(cdk.Stack.of(self), name) for name in self.database_names}
        parts = deploy_time_function(
            self,
            owner=OWNER,
            handler_dir=HANDLER_DIR,
            description="Revokes (and on delete, if asked, restores) IAM_ALLOWED_PRINCIPALS on Glue databases (Custom::IamAllowedPrincipalsRevocation)",
            role_description="IamAllowedPrincipalsRevocation: revoke (and restore) IAM_ALLOWED_PRINCIPALS on its Glue databases",
            statements=_statements(per_database),
            policy_scope="databases",
            star_resource_reason=_STAR_RESOURCE_REASON,
            timeout=timeout,
            reserved_concurrency=CONCURRENCY_PER_DATABASE * len(self.database_names),
            key=key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.key: kms.IKey = parts.key
        self.log_group: logs.LogGroup = parts.log_group
        self.dead_letter_queue: sqs.Queue = parts.dead_letter_queue
        self.role: iam.Role = parts.role
        self.function: lambda_.Function = parts.function
        for name, arns in per_database.items():
            tables = nag_resource(self.role, arns[2])
            if tables is not None:
                acknowledge(self.role, _tables_reason(name), f"AwsSolutions-IAM5[Resource::{tables}]")
        acknowledge(self.function, _NOT_IN_A_VPC, *LAMBDA_IN_VPC_RULES)  # it only calls AWS APIs
        self.resources: dict[str, cdk.CustomResource] = {}
        self.grants: dict[str, dict[str, lakeformation.CfnPrincipalPermissions]] = {}
        for name in self.database_names:
            of_database = Construct(self, construct_id_of(database_key(name)))
            grants = {
                "database": principal_permissions(
                    of_database,
                    "GrantOptionOnDatabase",
                    self.role.role_arn,
                    DatabaseGrant(name, ("ALL",), with_grant_option=True),
                ),
                "tables": principal_permissions(
                    of_database,
                    "GrantOptionOnAllTables",
                    self.role.role_arn,
                    TableGrant(name, None, ("ALL",), with_grant_option=True),
                ),
            }
            resource = cdk.CustomResource(
                of_database,
                "Resource",
                service_token=self.function.function_arn,
                resource_type=RESOURCE_TYPE,
                service_timeout=parts.service_timeout,
                properties={
                    "CatalogId": cdk.Stack.of(self).account,
                    "DatabaseName": name,
                    "RestoreOnDelete": "true" if restore_on_delete else "false",
                },
            )
            # Revoking needs the grant options; on deletion, the restore (if any) runs before they go.
            resource.node.add_dependency(*grants.values())
            if waits_for.get(name):
                of_database.node.add_dependency(*waits_for[name])
            self.resources[name] = resource
            self.grants[name] = grants
        apply_data_removal_policy(
            self, removal_policy, what="the revocation function's log group and dead-letter queue (and its own key)"
        )
