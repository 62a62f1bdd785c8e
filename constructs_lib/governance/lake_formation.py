"""Lake Formation governance: the data lake settings, registered locations, least-privilege grants,
data cells filters and the revocation of ``IAM_ALLOWED_PRINCIPALS``.

Lake Formation gives one place for fine-grained access to the lake: databases, tables, columns
(column filters), rows and cells (data cells filters) and S3 locations. It only governs what it has
been told to govern, so the parts come in an order, each waiting for the one before:

1. ``DataLakeSettings`` (once per account and region, in an account-baseline stack): the deployment
   role and the admins become data lake administrators, and new databases and tables no longer give
   ``IAM_ALLOWED_PRINCIPALS`` (every IAM principal with Glue/S3 IAM permissions) access by default.
2. ``RegisteredLocations`` (per environment): the S3 prefixes Lake Formation vends credentials for,
   through a registration role of their own.
3. Glue databases and tables (``disable_iam_allowed_principals_for_new_tables`` on each database;
   ``IamAllowedPrincipalsRevocation`` for databases that existed before the settings).
4. ``LakePermissions`` / ``LakeDataCellsFilter``: the grants of each principal.

This module holds 1 and 2 and re-exports the rest (``lake_formation_grants``,
``lake_formation_revocation``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lakeformation as lakeformation
from constructs import Construct

from constructs_lib.common.nag import INLINE_POLICY_RULES, nag_resource
from constructs_lib.common.validation import instance, sequence
from constructs_lib.governance.lake_access import LakeLocation, grant_prefix_write
from constructs_lib.governance.lake_formation_common import (
    check_principal_arn,
    construct_id_of,
    location_arn,
    location_label,

)
from constructs_lib.governance.lake_formation_grants import (
    COLUMN_FILTER_PERMISSIONS,
    DATA_CELLS_FILTER_PERMISSIONS,
    DATABASE_PERMISSIONS,
    LOCATION_PERMISSIONS,
    MAX_ROW_FILTER_CHARS,
    TABLE_PERMISSIONS,
    DatabaseGrant,
    DataCellsFilterGrant,
    LakeDataCellsFilter,
    LakeGrant,
    LakePermissions,
    LocationGrant,
    TableGrant,
    principal_permissions,
)
from constructs_lib.governance.lake_formation_revocation import (
    IAM_ALLOWED_PRINCIPALS,
    IamAllowedPrincipalsRevocation,
    disable_iam_allowed_principals_for_new_tables,
)

__all__ = [
    "COLUMN_FILTER_PERMISSIONS",
    "DATABASE_PERMISSIONS",
    "DATA_CELLS_FILTER_PERMISSIONS",
    "IAM_ALLOWED_PRINCIPALS",
    "LOCATION_PERMISSIONS",
    "MAX_ROW_FILTER_CHARS",
    "REGISTRATION_SERVICE_PRINCIPALS",
    "TABLE_PERMISSIONS",
    "DataCellsFilterGrant",
    "DataLakeSettings",
    "DatabaseGrant",
    "IamAllowedPrincipalsRevocation",
    "LakeDataCellsFilter",
    "LakeGrant",
    "LakePermissions",
    "LocationGrant",
    "RegisteredLocations",
    "TableGrant",
    "disable_iam_allowed_principals_for_new_tables",
    "location_arn",
    "principal_permissions",
]

#: Who may assume a location registration role ("Requirements for roles used to register
#: locations": the role must trust both).
REGISTRATION_SERVICE_PRINCIPALS = ("lakeformation.amazonaws.com", "glue.amazonaws.com")

_REGISTRATION_INLINE_POLICY = (
    "Lake Formation's requirements for a location registration role call for an inline policy granting S3 "
    "access on the registered locations. This one is generated from explicit statements, attached to this "
    "role only and scoped to the registered prefixes and their keys; a customer-managed policy could be "
    "attached to other principals as well."
)
_REGISTRATION_OBJECTS = (
    "Lake Formation assumes this role to vend temporary credentials for any object of a table stored under "
    "the registered prefix, including objects written later, so the role needs object access under that "
    "prefix ('<prefix>*'). Listing is limited to the prefix by an s3:prefix condition and the key is usable "
    "through S3 only; Lake Formation scopes each vended credential down to the table being accessed."
)


class DataLakeSettings(Construct):
    """``AWS::LakeFormation::DataLakeSettings``: who administers the data lake, and no default
    ``IAM_ALLOWED_PRINCIPALS`` permissions on new databases and tables.

    **Account-level singleton.** The settings exist once per account and region. Two stacks that both
    set them overwrite each other, so put this construct in a stack deployed once per account and
    region (an account baseline), never in a per-environment stack. Two in one app for the same
    account and region raise ``ValueError``.

    **It replaces the account's whole admin list** (and every other data lake setting not set here)
    on each deployment: ``PutDataLakeSettings`` replaces the list of data lake administrators, and
    ``MutationType`` is left at its default. Admins added by hand in the console disappear at the
    next deployment: add them to ``admin_arns`` instead. Every ARN must name an existing role or
    user, or the deployment fails with "Invalid principal".

    Admins (``admin_arns`` attribute, in this order):

    - the role CloudFormation deploys with, so that later stacks can register locations, create
      governed databases and grant permissions: ``deployment_role_arn``, or by default the CDK
      bootstrap's CloudFormation execution role of the ``DefaultStackSynthesizer`` the stack creates
      (``arn:${AWS::Partition}:iam::<account>:role/cdk-<qualifier>-cfn-exec-role-<account>-<region>``,
      rendered with ``Fn::Sub``; the qualifier follows ``@aws-cdk/core:bootstrapQualifier``). Any
      other synthesizer, or a ``DefaultStackSynthesizer`` passed to the stack explicitly (CDK binds a
      copy that Python cannot read), raises ``ValueError``: pass ``deployment_role_arn``;
    - ``admin_arns``: IAM role or user ARNs, each once (people or break-glass roles that manage
      grants; keep the list short: an admin can grant itself anything).

    Defaults for new resources: ``CreateDatabaseDefaultPermissions`` and
    ``CreateTableDefaultPermissions`` are empty lists, so new databases and tables are governed by Lake
    Formation grants only ("Use only IAM access control" off). Databases and tables created before
    keep their ``IAM_ALLOWED_PRINCIPALS`` grants: see ``IamAllowedPrincipalsRevocation``.

    Attributes: ``settings`` (``CfnDataLakeSettings``), ``admin_arns`` (the deployment role first),
    ``deployment_role_arn``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        admin_arns: Sequence[str] = (),
        deployment_role_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        owner = "DataLakeSettings"
        stack = cdk.Stack.of(self)
        self._refuse_a_second_one_for_the_same_account_and_region(stack)
        if isinstance(admin_arns, str):
            raise ValueError(f"{owner}: admin_arns must be a sequence of ARNs, not one string; got {admin_arns!r}")
        admins = [check_principal_arn(arn, owner=owner, prop="admin_arns") for arn in sequence(owner, "admin_arns", admin_arns)]
        duplicates = sorted({arn for arn in admins if admins.count(arn) > 1})
        if duplicates:
            raise ValueError(f"{owner}: admin_arns names each admin once; got {duplicates!r} more than once")
        if deployment_role_arn is None:
            template = self._bootstrap_execution_role(stack)
            self.deployment_role_arn = cdk.Fn.sub(template) if "${" in template else template
        else:
            template = check_principal_arn(deployment_role_arn, owner=owner, prop="deployment_role_arn")
            self.deployment_role_arn = deployment_role_arn
        repeated = [arn for arn in admins if _same_role(arn, template)]
        if repeated:
            raise ValueError(
                f"{owner}: the deployment role is always an admin; remove it from admin_arns; got {repeated!r}"
            )
        self.admin_arns: list[str] = [self.deployment_role_arn, *admins]
        self.settings: lakeformation.CfnDataLakeSettings = lakeformation.CfnDataLakeSettings(
            self,
            "Settings",
            admins=[
                lakeformation.CfnDataLakeSettings.DataLakePrincipalProperty(data_lake_principal_identifier=arn)
                for arn in self.admin_arns
            ],
            create_database_default_permissions=[],
            create_table_default_permissions=[],
        )

    @staticmethod
    def _bootstrap_execution_role(stack: cdk.Stack) -> str:
        synthesizer = stack.synthesizer
        if not isinstance(synthesizer, cdk.DefaultStackSynthesizer):
            raise ValueError(
                f"DataLakeSettings: the stack's synthesizer ({type(synthesizer).__name__}) has no CloudFormation "
                "execution role to make a data lake admin; pass deployment_role_arn (the role CloudFormation "
                f"deploys the lake's stacks with); got deployment_role_arn=None"
            )
        try:
            return synthesizer.cloud_formation_execution_role_arn
        except RuntimeError as error:
            # A DefaultStackSynthesizer passed to the stack explicitly is bound as a copy that
            # Python cannot reach; the one the stack creates itself (the usual case) is readable.
            raise ValueError(
                "DataLakeSettings: the stack's DefaultStackSynthesizer was passed to the stack explicitly, and CDK "
                "exposes the execution role only of a synthesizer the stack creates itself; pass deployment_role_arn "
                "(or set the bootstrap qualifier with the @aws-cdk/core:bootstrapQualifier context instead); got "
                "deployment_role_arn=None"
            ) from error

    def _refuse_a_second_one_for_the_same_account_and_region(self, stack: cdk.Stack) -> None:
        env = (stack.account, stack.region)
        if any(cdk.Token.is_unresolved(value) for value in env):
            return
        for other in self.node.root.node.find_all():
            if isinstance(other, DataLakeSettings) and other is not self:
                other_stack = cdk.Stack.of(other)
                if (other_stack.account, other_stack.region) == env:
                    raise ValueError(
                        "DataLakeSettings: the data lake settings exist once per account and region, and "
                        f"{other.node.path} already sets them for {env[0]}/{env[1]}; got a second one at {self.node.path}"
                    )


def _same_role(arn: str, template: str) -> bool:
    """Whether ``arn`` names the role of ``template`` (which may say ``${AWS::Partition}``)."""
    def strip(value: str) -> str:
        return re.sub(r"^arn:(\$\{AWS::Partition\}|[^:]*):", "arn::", value)

    return not cdk.Token.is_unresolved(arn) and strip(arn) == strip(template)


class RegisteredLocations(Construct):
    """Registers lake locations (``LakeLocation(bucket, prefix, key)``) with Lake Formation: one
    ``AWS::LakeFormation::Resource`` per location, registered with a dedicated registration role
    (``UseServiceLinkedRole: false``), never the service-linked role (which Lake Formation's
    documentation rules out for locations read by EMR, encrypted with an AWS managed key or in
    another account, and which one policy shares among every registration of the account).

    ``ResourceArn`` is ``arn:<partition>:s3:::<bucket>/<prefix>`` without the prefix's trailing slash
    (``location_arn``); ``LocationGrant`` grants DATA_LOCATION_ACCESS on the same ARN. The prefix and
    every folder below it are governed.

    The registration role (``role``; created unless passed) follows Lake Formation's "Requirements
    for roles used to register locations": it trusts ``lakeformation.amazonaws.com`` and
    ``glue.amazonaws.com``, and may list, read, write and delete objects under each registered
    prefix only (``grant_prefix_write(..., delete=True)``: listing limited by ``s3:prefix``) and use each
    location's key through S3 only (``kms:Decrypt``, ``kms:GenerateDataKey``). A role you pass gets the
    same statements added. The key's policy must let the account's IAM policies use the key (the
    default for CDK keys). Whoever deploys needs ``iam:PassRole`` on the role (the CDK execution role
    has it) and must be a data lake admin (``DataLakeSettings``).

    ``hybrid_access`` (default ``False``): with ``True``, tables at these locations stay readable
    through IAM/S3 permissions too, for principals not opted in to Lake Formation (hybrid access
    mode, to migrate gradually). Default: Lake Formation permissions only.

    Attributes: ``role``, ``registrations`` (``dict``: ``"<bucket construct path>/<prefix>"`` ->
    ``CfnResource``), ``location_arns`` (same keys -> registered ARN), ``locations``. Make grants,
    crawlers or tables wait for every registration with ``x.node.add_dependency(registered)``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        locations: Sequence[LakeLocation],
        hybrid_access: bool = False,
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        owner = "RegisteredLocations"
        if isinstance(locations, (str, LakeLocation)) or not locations:
            raise ValueError(f"{owner}: locations must hold at least one LakeLocation; got {locations!r}")
        locations = sequence(owner, "locations", locations)
        for location in locations:
            if not isinstance(location, LakeLocation):
                raise ValueError(f"{owner}: every location must be a LakeLocation; got {location!r}")
        labels = [location_label(location) for location in locations]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"{owner}: each location is registered once; got {duplicates!r} more than once")
        if not isinstance(hybrid_access, bool):
            raise ValueError(f"{owner}: hybrid_access must be True or False; got {hybrid_access!r}")
        if role is not None:
            instance(owner, "role", role, iam.IRole)
        self.locations: tuple[LakeLocation, ...] = tuple(locations)
        self._own_role = role is None
        self.role: iam.IRole = role if role is not None else self._registration_role()
        for location in self.locations:
            grant_prefix_write(self.role, location.bucket, location.prefix, location.key, delete=True)
        self.location_arns: dict[str, str] = {label: location_arn(loc) for label, loc in zip(labels, self.locations)}
        self.registrations: dict[str, lakeformation.CfnResource] = {}
        for label in labels:
            registration = lakeformation.CfnResource(
                self,
                construct_id_of(f"Location:{label}"),
                resource_arn=self.location_arns[label],
                role_arn=self.role.role_arn,
                use_service_linked_role=False,
                hybrid_access_enabled=hybrid_access,
            )
            # Lake Formation vends credentials with the role from registration on: register only
            # once the role may reach the data (its policy; the role is referenced already).
            policy = self.role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                registration.node.add_dependency(policy)
            self.registrations[label] = registration
        self._acknowledge_inherent_findings()

    def _registration_role(self) -> iam.Role:
        return iam.Role(
            self,
            "RegistrationRole",
            assumed_by=iam.CompositePrincipal(*(iam.ServicePrincipal(p) for p in REGISTRATION_SERVICE_PRINCIPALS)),
            description="Lake Formation location registration: reads and writes the registered lake prefixes only",
        )

    def _acknowledge_inherent_findings(self) -> None:
        # On a role passed in, only the findings of the statements added here are acknowledged.
        acknowledgments = (
            [cdk.Acknowledgment(id=rule, reason=_REGISTRATION_INLINE_POLICY) for rule in INLINE_POLICY_RULES]
            if self._own_role
            else []
        )
        for location in self.locations:
            # Locations in another stack are named by the cross-stack reference CDK renders at
            # synthesis: those findings are the app's to acknowledge.
            name = nag_resource(self.role, location.bucket.arn_for_objects(f"{location.prefix}*"))
            if name is not None:
                acknowledgments.append(cdk.Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{name}]", reason=_REGISTRATION_OBJECTS))
        if acknowledgments:
            cdk.Validations.of(self.role).acknowledge(*acknowledgments)
