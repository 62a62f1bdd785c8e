"""DataLakeSettings (the deployment role and the admins, no IAM_ALLOWED_PRINCIPALS defaults) and
RegisteredLocations (one registration per prefix, through a registration role scoped to them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.governance.lake_access import LakeLocation
from constructs_lib.governance.lake_formation import DataLakeSettings, RegisteredLocations, location_arn
from tests.compliance.nag import acknowledgments
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, role_statements, via_service

ADMIN = "arn:aws:iam::111122223333:role/lake-admin"
BREAK_GLASS = "arn:aws:iam::111122223333:user/break-glass"
EXEC_ROLE = "arn:${AWS::Partition}:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1"


def settings_props(template: Template) -> dict:
    (settings,) = template.find_resources("AWS::LakeFormation::DataLakeSettings").values()
    return settings["Properties"]


# --- DataLakeSettings ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def settings() -> tuple[DataLakeSettings, Template]:
    scope = stack()
    construct = DataLakeSettings(scope, "LakeSettings", admin_arns=[ADMIN, BREAK_GLASS])
    return construct, Template.from_stack(scope)


def test_admins_are_the_bootstrap_execution_role_then_the_admins(settings) -> None:
    construct, template = settings
    assert settings_props(template)["Admins"] == [
        {"DataLakePrincipalIdentifier": {"Fn::Sub": EXEC_ROLE}},
        {"DataLakePrincipalIdentifier": ADMIN},
        {"DataLakePrincipalIdentifier": BREAK_GLASS},
    ]
    scope = cdk.Stack.of(construct)
    assert [scope.resolve(arn) for arn in construct.admin_arns] == [{"Fn::Sub": EXEC_ROLE}, ADMIN, BREAK_GLASS]
    assert scope.resolve(construct.deployment_role_arn) == {"Fn::Sub": EXEC_ROLE}


def test_new_databases_and_tables_give_iam_allowed_principals_nothing(settings) -> None:
    _, template = settings
    assert settings_props(template) == {
        "Admins": settings_props(template)["Admins"],
        "CreateDatabaseDefaultPermissions": [],
        "CreateTableDefaultPermissions": [],
    }  # and nothing else: no MutationType (the default replaces the whole admin list)
    assert settings[0].settings.node.path == "Test/LakeSettings/Settings"


def test_an_environment_agnostic_stack_gets_the_role_with_account_and_region_placeholders() -> None:
    scope = cdk.Stack(cdk.App(), "Agnostic")
    DataLakeSettings(scope, "LakeSettings")
    assert settings_props(Template.from_stack(scope))["Admins"] == [
        {
            "DataLakePrincipalIdentifier": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
            }
        }
    ]


def test_a_custom_bootstrap_qualifier_is_followed() -> None:
    app = cdk.App(context={"@aws-cdk/core:bootstrapQualifier": "lake123"})
    scope = cdk.Stack(app, "Qualified", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    DataLakeSettings(scope, "LakeSettings")
    (admin,) = settings_props(Template.from_stack(scope))["Admins"]
    assert admin == {"DataLakePrincipalIdentifier": {"Fn::Sub": EXEC_ROLE.replace("hnb659fds", "lake123")}}


def test_an_explicitly_passed_default_synthesizer_needs_the_deployment_role() -> None:
    scope = cdk.Stack(cdk.App(), "Explicit", synthesizer=cdk.DefaultStackSynthesizer(qualifier="lake123"))
    with pytest.raises(
        ValueError,
        match=r"^DataLakeSettings: the stack's DefaultStackSynthesizer was passed to the stack explicitly, .* pass "
        r"deployment_role_arn .*; got deployment_role_arn=None$",
    ):
        DataLakeSettings(scope, "LakeSettings")


def test_a_passed_deployment_role_replaces_the_bootstrap_role() -> None:
    scope = cdk.Stack(cdk.App(), "Pipeline", synthesizer=cdk.CliCredentialsStackSynthesizer())
    deployer = "arn:aws:iam::111122223333:role/pipeline-deployer"
    construct = DataLakeSettings(scope, "LakeSettings", deployment_role_arn=deployer, admin_arns=[ADMIN])
    assert settings_props(Template.from_stack(scope))["Admins"] == [
        {"DataLakePrincipalIdentifier": deployer},
        {"DataLakePrincipalIdentifier": ADMIN},
    ]
    assert construct.admin_arns == [deployer, ADMIN]


def test_a_role_of_the_app_may_be_an_admin_by_token() -> None:
    scope = stack()
    role = iam.Role(scope, "Steward", assumed_by=iam.AccountRootPrincipal())
    DataLakeSettings(scope, "LakeSettings", admin_arns=[role.role_arn])
    assert settings_props(Template.from_stack(scope))["Admins"][1] == {"DataLakePrincipalIdentifier": arn_of(role)}


def test_another_account_or_region_may_have_its_own_settings_in_the_same_app() -> None:
    app = cdk.App()
    for account, region in (("111122223333", "eu-west-1"), ("111122223333", "eu-central-1"), ("444455556666", "eu-west-1")):
        scope = cdk.Stack(app, f"Baseline{account}{region}", env=cdk.Environment(account=account, region=region))
        DataLakeSettings(scope, "LakeSettings")


def test_a_second_settings_for_the_same_account_and_region_is_refused() -> None:
    app = cdk.App()
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    DataLakeSettings(cdk.Stack(app, "Baseline", env=env), "LakeSettings")
    with pytest.raises(
        ValueError,
        match=r"^DataLakeSettings: the data lake settings exist once per account and region, and Baseline/LakeSettings "
        r"already sets them for 111122223333/eu-west-1; got a second one at Dev/LakeSettings$",
    ):
        DataLakeSettings(cdk.Stack(app, "Dev", env=env), "LakeSettings")


def test_a_synthesizer_without_an_execution_role_needs_the_deployment_role() -> None:
    scope = cdk.Stack(cdk.App(), "Cli", synthesizer=cdk.CliCredentialsStackSynthesizer())
    with pytest.raises(
        ValueError,
        match=r"^DataLakeSettings: the stack's synthesizer \(CliCredentialsStackSynthesizer\) has no CloudFormation "
        r"execution role to make a data lake admin; pass deployment_role_arn .*; got deployment_role_arn=None$",
    ):
        DataLakeSettings(scope, "LakeSettings")


@pytest.mark.parametrize(
    "arn",
    [
        "lake-admin",
        "arn:aws:iam::111122223333:group/admins",
        "arn:aws:iam::1111:role/short-account",
        "arn:aws:sts::111122223333:assumed-role/admin/session",
        "arn:aws:iam::111122223333:role/",
        "",
    ],
)
def test_an_admin_that_is_not_a_role_or_user_arn_is_refused(arn: str) -> None:
    with pytest.raises(ValueError, match=rf"^DataLakeSettings: admin_arns must be an IAM role or user ARN .*; got {re.escape(repr(arn))}$"):
        DataLakeSettings(stack(), "LakeSettings", admin_arns=[arn])


def test_a_bad_deployment_role_arn_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^DataLakeSettings: deployment_role_arn must be an IAM role or user ARN .*; got 'deployer'$"):
        DataLakeSettings(stack(), "LakeSettings", deployment_role_arn="deployer")


def test_admins_as_one_string_or_twice_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^DataLakeSettings: admin_arns must be a sequence of ARNs, not one string; got"):
        DataLakeSettings(stack(), "LakeSettings", admin_arns=ADMIN)
    with pytest.raises(ValueError, match=rf"^DataLakeSettings: admin_arns names each admin once; got \['{re.escape(ADMIN)}'\] more than once$"):
        DataLakeSettings(stack(), "LakeSettings", admin_arns=[ADMIN, BREAK_GLASS, ADMIN])


@pytest.mark.parametrize("partition", ["aws", "aws-cn"])
def test_the_deployment_role_is_not_listed_again_among_the_admins(partition: str) -> None:
    exec_role = f"arn:{partition}:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1"
    with pytest.raises(ValueError, match=r"^DataLakeSettings: the deployment role is always an admin; remove it from admin_arns"):
        DataLakeSettings(stack(), "LakeSettings", admin_arns=[exec_role])
    deployer = "arn:aws:iam::111122223333:role/deployer"
    with pytest.raises(ValueError, match=r"^DataLakeSettings: the deployment role is always an admin"):
        DataLakeSettings(stack(), "LakeSettings", deployment_role_arn=deployer, admin_arns=[deployer])


# --- RegisteredLocations ------------------------------------------------------------------------


@dataclass
class Locations:
    scope: cdk.Stack
    key: kms.Key
    raw: s3.Bucket
    curated: s3.Bucket
    default: RegisteredLocations
    hybrid: RegisteredLocations
    caller_role: iam.Role
    template: Template
    resources: dict

    def props(self, construct) -> dict:
        return self.resources[logical_id(construct)]["Properties"]


@pytest.fixture(scope="module")
def locations() -> Locations:
    scope = stack()
    key = kms.Key(scope, "LakeKey")
    raw = s3.Bucket(scope, "Raw", encryption_key=key)
    curated = s3.Bucket(scope, "Curated", encryption_key=key)
    sse_s3 = s3.Bucket(scope, "Landing", encryption=s3.BucketEncryption.S3_MANAGED)
    default = RegisteredLocations(
        scope,
        "Registered",
        locations=[LakeLocation(raw, "telemetry/", key), LakeLocation(curated, "telemetry/", key)],
    )
    caller_role = iam.Role(scope, "CallerRole", assumed_by=iam.ServicePrincipal("lakeformation.amazonaws.com"))
    hybrid = RegisteredLocations(
        scope, "Hybrid", locations=[LakeLocation(sse_s3, "landing/zone/")], hybrid_access=True, role=caller_role
    )
    template = Template.from_stack(scope)
    return Locations(scope, key, raw, curated, default, hybrid, caller_role, template, template.to_json()["Resources"])


def objects(bucket: s3.IBucket, pattern: str) -> dict:
    return {"Fn::Join": ["", [arn_of(bucket), f"/{pattern}"]]}


def test_each_location_is_registered_with_the_registration_role_not_the_service_linked_role(locations) -> None:
    role = arn_of(locations.default.role)
    assert [locations.props(r) for r in locations.default.registrations.values()] == [
        {"ResourceArn": objects(locations.raw, "telemetry"), "RoleArn": role, "UseServiceLinkedRole": False, "HybridAccessEnabled": False},
        {"ResourceArn": objects(locations.curated, "telemetry"), "RoleArn": role, "UseServiceLinkedRole": False, "HybridAccessEnabled": False},
    ]
    assert locations.template.find_resources("AWS::LakeFormation::Resource").keys() == {
        logical_id(r) for c in (locations.default, locations.hybrid) for r in c.registrations.values()
    }


def test_hybrid_access_is_registered_when_asked_for(locations) -> None:
    (registration,) = locations.hybrid.registrations.values()
    assert locations.props(registration) == {
        "ResourceArn": objects(locations.hybrid.locations[0].bucket, "landing/zone"),
        "RoleArn": arn_of(locations.caller_role),
        "UseServiceLinkedRole": False,
        "HybridAccessEnabled": True,
    }


def test_registrations_and_arns_are_keyed_by_bucket_path_and_prefix(locations) -> None:
    keys = ["Test/Raw/telemetry/", "Test/Curated/telemetry/"]
    assert list(locations.default.registrations) == keys
    assert list(locations.default.location_arns) == keys
    scope = locations.scope
    assert scope.resolve(locations.default.location_arns["Test/Raw/telemetry/"]) == objects(locations.raw, "telemetry")
    assert scope.resolve(location_arn(LakeLocation(locations.curated, "telemetry/"))) == objects(locations.curated, "telemetry")
    # the construct ids, and so the logical ids, come from the same keys
    assert [r.node.id for r in locations.default.registrations.values()] == [
        "Location:Test.Raw.telemetry", "Location:Test.Curated.telemetry",
    ]


def test_a_registration_waits_for_the_roles_policy(locations) -> None:
    """The policy, not the role: the role is referenced already (a DependsOn on it is cfn-lint W3005)."""
    role = locations.default.role
    for registration in locations.default.registrations.values():
        assert locations.resources[logical_id(registration)]["DependsOn"] == [logical_id(role.node.find_child("DefaultPolicy"))]


def test_other_resources_can_wait_for_every_registration(locations) -> None:
    scope = cdk.Stack(cdk.App(), "Waiting", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    bucket = s3.Bucket(scope, "Raw")
    registered = RegisteredLocations(scope, "Registered", locations=[LakeLocation(bucket, "a/"), LakeLocation(bucket, "b/")])
    crawler_like = cdk.CfnResource(scope, "Later", type="AWS::SQS::Queue")
    crawler_like.node.add_dependency(registered)
    depends_on = set(Template.from_stack(scope).to_json()["Resources"]["Later"]["DependsOn"])
    assert {logical_id(r) for r in registered.registrations.values()} <= depends_on


def test_the_registration_role_trusts_lake_formation_and_glue_only(locations) -> None:
    props = locations.props(locations.default.role)
    assert props["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lakeformation.amazonaws.com"}},
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}},
    ]
    assert "ManagedPolicyArns" not in props and "Policies" not in props


def test_the_registration_role_reaches_the_registered_prefixes_and_their_key_through_s3_only(locations) -> None:
    def prefix_statements(bucket: s3.IBucket) -> list[dict]:
        return [
            {
                "Action": "s3:ListBucket",
                "Condition": {"StringLike": {"s3:prefix": ["telemetry/", "telemetry/*"]}},
                "Effect": "Allow",
                "Resource": arn_of(bucket),
            },
            {
                "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"],
                "Effect": "Allow",
                "Resource": objects(bucket, "telemetry/*"),
            },
        ]

    key_statement = {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
        "Effect": "Allow",
        "Resource": arn_of(locations.key),
    }
    assert role_statements(locations.template, locations.default.role) == [
        *prefix_statements(locations.raw), key_statement, *prefix_statements(locations.curated),
    ]


def test_a_passed_role_is_used_and_given_the_statements_and_an_sse_s3_location_needs_no_key(locations) -> None:
    assert locations.hybrid.role is locations.caller_role
    assert locations.hybrid.node.try_find_child("RegistrationRole") is None
    bucket = locations.hybrid.locations[0].bucket
    assert role_statements(locations.template, locations.caller_role) == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["landing/zone/", "landing/zone/*"]}},
            "Effect": "Allow",
            "Resource": arn_of(bucket),
        },
        {
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"],
            "Effect": "Allow",
            "Resource": objects(bucket, "landing/zone/*"),
        },
    ]


def test_inherent_findings_are_acknowledged_on_the_role_with_reviewable_reasons(locations) -> None:
    found = {
        (ack.path, ack.rule_id): ack.reason
        for ack in acknowledgments(locations.scope.node.root)
        if ack.path.startswith(("Test/Registered", "Test/CallerRole"))
    }
    raw, curated = logical_id(locations.raw), logical_id(locations.curated)
    own = "Test/Registered/RegistrationRole"
    assert set(found) == {
        (own, "HIPAA.Security-IAMNoInlinePolicy"),
        (own, "NIST.800.53.R5-IAMNoInlinePolicy"),
        (own, "PCI.DSS.321-IAMNoInlinePolicy"),
        (own, f"AwsSolutions-IAM5[Resource::<{raw}.Arn>/telemetry/*]"),
        (own, f"AwsSolutions-IAM5[Resource::<{curated}.Arn>/telemetry/*]"),
        # a passed role: only the finding of the statements added here
        ("Test/CallerRole", f"AwsSolutions-IAM5[Resource::<{logical_id(locations.hybrid.locations[0].bucket)}.Arn>/landing/zone/*]"),
    }
    assert all(len(reason) >= 100 for reason in found.values())


def test_a_location_in_another_stack_is_left_for_the_app_to_acknowledge() -> None:
    app = cdk.App()
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    bucket = s3.Bucket(cdk.Stack(app, "Storage", env=env), "Raw")
    registered = RegisteredLocations(cdk.Stack(app, "Governance", env=env), "Registered", locations=[LakeLocation(bucket, "a/")])
    rule_ids = {ack.rule_id for ack in acknowledgments(app) if ack.path.startswith("Governance/Registered")}
    assert not any(rule.startswith("AwsSolutions-IAM5") for rule in rule_ids)
    assert ref(registered.role)  # built, nothing raised


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"locations": []}, r"locations must hold at least one LakeLocation; got \[\]"),
        ({"locations": "raw/"}, r"locations must hold at least one LakeLocation; got 'raw/'"),
        ({"locations": ["raw/"]}, r"every location must be a LakeLocation; got 'raw/'"),
        ({"hybrid_access": "yes"}, r"hybrid_access must be True or False; got 'yes'"),
    ],
)
def test_bad_locations_are_refused_naming_the_prop(kwargs: dict, message: str) -> None:
    scope = stack()
    props = {"locations": [LakeLocation(s3.Bucket(scope, "Raw"), "a/")], **kwargs}
    with pytest.raises(ValueError, match=f"^RegisteredLocations: {message}"):
        RegisteredLocations(scope, "Registered", **props)


def test_a_location_registered_twice_is_refused() -> None:
    scope = stack()
    bucket = s3.Bucket(scope, "Raw")
    with pytest.raises(ValueError, match=r"^RegisteredLocations: each location is registered once; got \['Test/Raw/a/'\] more than once$"):
        RegisteredLocations(scope, "Registered", locations=[LakeLocation(bucket, "a/"), LakeLocation(bucket, "b/"), LakeLocation(bucket, "a/")])
