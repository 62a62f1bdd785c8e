"""IamAllowedPrincipalsRevocation: one function outside any VPC for several databases, one
Custom::IamAllowedPrincipalsRevocation and two grant-option grants per database (construct ids
derived from the database name), a role that holds ALL with grant option on those databases (not
admin), a Delete that restores only when asked to, and the helper that stops a database from giving
new tables to IAM_ALLOWED_PRINCIPALS."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from constructs_lib.common.monitoring import allow_cloudwatch_logs
from constructs_lib.governance.lake_formation import IamAllowedPrincipalsRevocation, disable_iam_allowed_principals_for_new_tables
from constructs_lib.governance.lake_formation_revocation import HANDLER_DIR
from tests.unit.constructs.deploy_time_function_helpers import (
    FUNCTION_ACKNOWLEDGMENTS,
    DeployTimeFunctionContract,
    Synthesised,
    acknowledged,
    assert_function,
    assert_role_is_lambdas_alone,
    expected_role_statements,
)
from tests.unit.constructs.stack_helpers import stack
from tests.unit.constructs.template_helpers import arn_of, logical_id, role_statements

ACCOUNT = "111122223333"
RAW = "team_dev_raw"
CURATED = "team_dev_curated"
SANDBOX = "team_dev_sandbox"
SCRATCH = "team_dev_scratch"


@dataclass
class Built(Synthesised):
    sandbox: glue.Database
    sandbox_table: glue.CfnTable
    caller_key: kms.Key
    minimal: IamAllowedPrincipalsRevocation
    tuned: IamAllowedPrincipalsRevocation

    def revocation(self, name: str) -> IamAllowedPrincipalsRevocation:
        return getattr(self, name)

    def under(self, revocation: IamAllowedPrincipalsRevocation, cfn_type: type) -> list:
        return [c for c in revocation.node.find_all() if isinstance(c, cfn_type)]


@pytest.fixture(scope="module")
def built() -> Built:
    """Two revocations of two databases each in one stack: only the required props, and every
    tunable set (with one database waiting for the database and table the stack creates)."""
    scope = stack()
    sandbox = glue.Database(scope, "Sandbox", database_name=SANDBOX)
    sandbox_table = glue.CfnTable(
        scope, "SandboxTable", catalog_id=ACCOUNT, database_name=SANDBOX,
        table_input=glue.CfnTable.TableInputProperty(name="events"),
    )
    caller_key = kms.Key(scope, "CallerKey")
    allow_cloudwatch_logs(caller_key)
    minimal = IamAllowedPrincipalsRevocation(scope, "Minimal", database_names=[RAW, CURATED])
    tuned = IamAllowedPrincipalsRevocation(
        scope,
        "Tuned",
        database_names=(SANDBOX, SCRATCH),
        key=caller_key,
        timeout=cdk.Duration.minutes(10),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        restore_on_delete=True,
        after={SANDBOX: [sandbox, sandbox_table]},
    )
    return Built(scope, *Synthesised.template_of(scope), sandbox, sandbox_table, caller_key, minimal, tuned)


# --- one function for several databases ------------------------------------------------------


@pytest.mark.parametrize("name", ["minimal", "tuned"])
def test_one_function_role_log_group_and_dead_letter_queue_serve_both_databases(built, name) -> None:
    revocation = built.revocation(name)
    counts = {
        cfn_type.__name__: len(built.under(revocation, cfn_type))
        for cfn_type in (lambda_.CfnFunction, iam.CfnRole, logs.CfnLogGroup, sqs.CfnQueue, kms.CfnKey)
    }
    assert counts == {"CfnFunction": 1, "CfnRole": 1, "CfnLogGroup": 1, "CfnQueue": 1, "CfnKey": int(name == "minimal")}
    custom = [c for c in built.under(revocation, cdk.CfnResource) if c.cfn_resource_type == "Custom::IamAllowedPrincipalsRevocation"]
    assert len(custom) == 2
    assert list(revocation.resources) == list(revocation.grants) == list(revocation.database_names)


def test_each_database_has_its_own_custom_resource_on_the_one_function(built) -> None:
    minimal = built.minimal
    assert minimal.database_names == (RAW, CURATED)
    for database in (RAW, CURATED):
        resource = built.resource(minimal.resources[database])
        assert resource["Type"] == "Custom::IamAllowedPrincipalsRevocation"
        assert resource["Properties"] == {
            "ServiceToken": arn_of(minimal.function),
            "ServiceTimeout": "600",  # the function's 5 minutes plus 5
            "CatalogId": ACCOUNT,
            "DatabaseName": database,
            "RestoreOnDelete": "false",
        }
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_restore_on_delete_and_the_timeout_reach_every_custom_resource(built) -> None:
    for database in (SANDBOX, SCRATCH):
        props = built.props(built.tuned.resources[database])
        assert (props["DatabaseName"], props["RestoreOnDelete"], props["ServiceTimeout"]) == (database, "true", "900")
    assert (built.minimal.restore_on_delete, built.tuned.restore_on_delete) == (False, True)


def test_construct_ids_are_derived_from_the_database_names(built) -> None:
    minimal = built.minimal
    assert {name: r.node.path for name, r in minimal.resources.items()} == {
        RAW: f"Test/Minimal/Database:{RAW}/Resource",
        CURATED: f"Test/Minimal/Database:{CURATED}/Resource",
    }
    assert {name: sorted(g.node.path for g in grants.values()) for name, grants in minimal.grants.items()} == {
        database: [f"Test/Minimal/Database:{database}/GrantOptionOnAllTables", f"Test/Minimal/Database:{database}/GrantOptionOnDatabase"]
        for database in (RAW, CURATED)
    }
    # pinned: a change here replaces deployed resources
    assert logical_id(minimal.resources[RAW]) == "MinimalDatabaseteamdevrawE625366A"
    assert logical_id(minimal.grants[RAW]["database"]) == "MinimalDatabaseteamdevrawGrantOptionOnDatabase9231CAD2"


def _logical_ids(names: list[str], **kwargs) -> dict[str, tuple[str, str, str]]:
    revocation = IamAllowedPrincipalsRevocation(stack(), "Revocation", database_names=names, **kwargs)
    return {
        name: (logical_id(revocation.resources[name]), *(logical_id(g) for g in revocation.grants[name].values()))
        for name in names
    }


def test_adding_a_database_or_flipping_restore_on_delete_renames_nothing() -> None:
    one = _logical_ids([CURATED])
    three = _logical_ids([RAW, CURATED, SANDBOX])
    restoring = _logical_ids([CURATED], restore_on_delete=True)
    assert one[CURATED] == three[CURATED] == restoring[CURATED]
    assert len({ids for ids in three.values()}) == 3


@pytest.mark.parametrize("name", ["minimal", "tuned"])
def test_the_role_gets_all_with_grant_option_on_each_database_and_its_table_wildcard_only(built, name) -> None:
    revocation = built.revocation(name)
    principal = {"DataLakePrincipalIdentifier": arn_of(revocation.role)}
    for database in revocation.database_names:
        assert built.props(revocation.grants[database]["database"]) == {
            "Catalog": ACCOUNT,
            "Principal": principal,
            "Resource": {"Database": {"CatalogId": ACCOUNT, "Name": database}},
            "Permissions": ["ALL"],
            "PermissionsWithGrantOption": ["ALL"],
        }
        assert built.props(revocation.grants[database]["tables"]) == {
            "Catalog": ACCOUNT,
            "Principal": principal,
            "Resource": {"Table": {"CatalogId": ACCOUNT, "DatabaseName": database, "TableWildcard": {}}},
            "Permissions": ["ALL"],
            "PermissionsWithGrantOption": ["ALL"],
        }
    # granted to this role and nothing else, and the role is no data lake admin
    mine = [
        r for r in built.resources.values()
        if r["Type"] == "AWS::LakeFormation::PrincipalPermissions" and r["Properties"]["Principal"] == principal
    ]
    assert len(mine) == 4
    assert built.template.find_resources("AWS::LakeFormation::DataLakeSettings") == {}


@pytest.mark.parametrize("name", ["minimal", "tuned"])
def test_each_custom_resource_waits_for_its_own_two_grants(built, name) -> None:
    revocation = built.revocation(name)
    for database in revocation.database_names:
        depends_on = built.resource(revocation.resources[database])["DependsOn"]
        own = sorted(logical_id(grant) for grant in revocation.grants[database].values())
        assert sorted(d for d in depends_on if d.startswith(f"{name.title()}Database")) == own


def test_after_makes_that_databases_resource_and_grants_wait_and_nothing_else(built) -> None:
    tuned = built.tuned
    waited_for = {logical_id(built.sandbox), logical_id(built.sandbox_table)}
    for construct in (tuned.resources[SANDBOX], *tuned.grants[SANDBOX].values()):
        assert waited_for <= set(built.resource(construct).get("DependsOn", [])), construct.node.path
    for construct in (tuned.resources[SCRATCH], *tuned.grants[SCRATCH].values(), tuned.function, tuned.role):
        assert not waited_for & set(built.resource(construct).get("DependsOn", [])), construct.node.path
    for construct in (built.minimal.resources[RAW], *built.minimal.grants[RAW].values()):
        assert not waited_for & set(built.resource(construct).get("DependsOn", []))


# --- the function -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "timeout"), [("minimal", 300), ("tuned", 600)])
def test_function_is_python_on_the_newest_runtime_outside_any_vpc_with_one_execution_per_database_and_tracing(built, name, timeout) -> None:
    props = assert_function(built, built.revocation(name), timeout=timeout, concurrency=2)
    assert "VpcConfig" not in props and "Environment" not in props


@pytest.mark.parametrize("count", [1, 3])
def test_concurrency_follows_the_number_of_databases(count: int) -> None:
    """CloudFormation sends the databases' requests at once; a throttled one would wait in Lambda's
    queue while its service timeout runs."""
    names = [f"db_{i}" for i in range(count)]
    revocation = IamAllowedPrincipalsRevocation(stack(), "Revocation", database_names=names)
    assert revocation.function.node.default_child.reserved_concurrent_executions == count


# --- what every deploy-time function has: asset, dead letters, key, logs, removal -------------


class TestItsDeployTimeFunction(DeployTimeFunctionContract):
    handler_dir, plain, tuned = HANDLER_DIR, "minimal", "tuned"


# --- IAM ----------------------------------------------------------------------------------------


def test_role_may_do_exactly_what_the_handler_needs_on_exactly_its_databases(built) -> None:
    revocation = built.minimal
    own = [
        {
            "Action": ["lakeformation:GrantPermissions", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "GrantAndRevokeLakeFormationPermissions",
        },
        {
            "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetTables"],
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:glue:eu-west-1:{ACCOUNT}:catalog",
                f"arn:aws:glue:eu-west-1:{ACCOUNT}:database/{RAW}",
                f"arn:aws:glue:eu-west-1:{ACCOUNT}:table/{RAW}/*",
                f"arn:aws:glue:eu-west-1:{ACCOUNT}:database/{CURATED}",
                f"arn:aws:glue:eu-west-1:{ACCOUNT}:table/{CURATED}/*",
            ],
            "Sid": "ReadTheDatabasesAndTheirTables",
        },
    ]
    # outside any VPC: no network-interface actions
    assert role_statements(built.template, revocation.role) == expected_role_statements(revocation, own, vpc_config=None)
    assert_role_is_lambdas_alone(built, revocation)


def test_inherent_findings_are_acknowledged_on_the_construct_with_reviewable_reasons(built) -> None:
    found = acknowledged(built.minimal)
    assert set(found) == FUNCTION_ACKNOWLEDGMENTS | {
        ("/Role", f"AwsSolutions-IAM5[Resource::arn:aws:glue:eu-west-1:{ACCOUNT}:table/{RAW}/*]"),
        ("/Role", f"AwsSolutions-IAM5[Resource::arn:aws:glue:eu-west-1:{ACCOUNT}:table/{CURATED}/*]"),
        ("/Function", "HIPAA.Security-LambdaInsideVPC"),
        ("/Function", "NIST.800.53.R5-LambdaInsideVPC"),
        ("/Function", "PCI.DSS.321-LambdaInsideVPC"),
    }
    assert all(len(reason) >= 100 for reason in found.values())
    assert "only calls the Lake Formation and Glue" in found[("/Function", "HIPAA.Security-LambdaInsideVPC")]
    assert "scoped to the databases, key, queue and log group" in found[("/Role", "HIPAA.Security-IAMNoInlinePolicy")]
    assert f"table/{CURATED}/*" in found[("/Role", f"AwsSolutions-IAM5[Resource::arn:aws:glue:eu-west-1:{ACCOUNT}:table/{CURATED}/*]")]


# --- the database helper ------------------------------------------------------------------------


def test_a_database_stops_giving_new_tables_to_iam_allowed_principals() -> None:
    scope = stack()
    database = glue.Database(scope, "Curated", database_name=CURATED, description="curated zone")
    cfn = disable_iam_allowed_principals_for_new_tables(database)
    assert cfn.node.path == database.node.default_child.node.path == "Test/Curated/Resource"
    (props,) = [r["Properties"] for r in Template.from_stack(scope).find_resources("AWS::Glue::Database").values()]
    assert props["DatabaseInput"] == {"CreateTableDefaultPermissions": [], "Description": "curated zone", "Name": CURATED}


def test_the_helper_takes_an_l1_database_and_refuses_an_imported_one() -> None:
    scope = stack()
    cfn = glue.CfnDatabase(scope, "Raw", catalog_id=ACCOUNT, database_input=glue.CfnDatabase.DatabaseInputProperty(name="raw"))
    assert disable_iam_allowed_principals_for_new_tables(cfn) is cfn
    (props,) = [r["Properties"] for r in Template.from_stack(scope).find_resources("AWS::Glue::Database").values()]
    assert props["DatabaseInput"] == {"Name": "raw", "CreateTableDefaultPermissions": []}
    imported = glue.Database.from_database_arn(scope, "Imported", f"arn:aws:glue:eu-west-1:{ACCOUNT}:database/other")
    with pytest.raises(ValueError, match=r"^disable_iam_allowed_principals_for_new_tables: database must be a glue.Database or glue.CfnDatabase"):
        disable_iam_allowed_principals_for_new_tables(imported)


# --- validation ---------------------------------------------------------------------------------


def build(**overrides) -> IamAllowedPrincipalsRevocation:
    return IamAllowedPrincipalsRevocation(stack(), "Revocation", **{"database_names": [CURATED], **overrides})


@pytest.mark.parametrize("timeout", [cdk.Duration.seconds(59), cdk.Duration.minutes(16)])
def test_a_timeout_outside_one_to_fifteen_minutes_is_refused(timeout: cdk.Duration) -> None:
    with pytest.raises(
        ValueError, match=rf"^IamAllowedPrincipalsRevocation: timeout must be between 1 and 15 minutes \(Lambda's limit\); got {timeout.to_human_string()}$"
    ):
        build(timeout=timeout)


def test_a_removal_policy_other_than_retain_or_destroy_is_refused() -> None:
    with pytest.raises(ValueError, match="^IamAllowedPrincipalsRevocation: removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"):
        build(removal_policy=cdk.RemovalPolicy.SNAPSHOT)


@pytest.mark.parametrize("names", [[], (), CURATED, None])
def test_no_database_or_one_string_is_refused(names) -> None:
    with pytest.raises(ValueError, match=r"^IamAllowedPrincipalsRevocation: database_names must hold at least one database name; got "):
        build(database_names=names)


def test_a_database_named_twice_is_refused() -> None:
    with pytest.raises(
        ValueError, match=rf"^IamAllowedPrincipalsRevocation: database_names names each database once; got \['{CURATED}'\] more than once$"
    ):
        build(database_names=[CURATED, RAW, CURATED])


def test_a_token_is_refused_because_construct_ids_are_derived_from_the_name() -> None:
    scope = stack()
    database = glue.Database(scope, "Curated", database_name=CURATED)
    with pytest.raises(ValueError, match=r"^IamAllowedPrincipalsRevocation: database_names must be a literal name, not a token"):
        IamAllowedPrincipalsRevocation(scope, "Revocation", database_names=[RAW, database.database_name])


@pytest.mark.parametrize("name", ["", "  ", "a" * 256, "bad\nname"])
def test_a_bad_database_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"^IamAllowedPrincipalsRevocation: database_names must be 1 to 255 bytes"):
        build(database_names=[CURATED, name])


def test_after_may_name_only_databases_of_database_names() -> None:
    scope = stack()
    database = glue.Database(scope, "Raw", database_name=RAW)
    with pytest.raises(ValueError, match=rf"^IamAllowedPrincipalsRevocation: after names databases that database_names does not list; got \['{RAW}'\]$"):
        IamAllowedPrincipalsRevocation(scope, "Revocation", database_names=[CURATED], after={RAW: [database]})


@pytest.mark.parametrize("waits_for", ["curated", [object()], None])
def test_after_must_give_a_sequence_of_constructs(waits_for) -> None:
    scope = stack()
    with pytest.raises(ValueError, match=rf"^IamAllowedPrincipalsRevocation: after\['{CURATED}'\] must be a sequence of constructs"):
        IamAllowedPrincipalsRevocation(scope, "Revocation", database_names=[CURATED], after={CURATED: waits_for})


def test_after_must_be_a_mapping() -> None:
    scope = stack()
    database = glue.Database(scope, "Curated", database_name=CURATED)
    with pytest.raises(ValueError, match=r"^IamAllowedPrincipalsRevocation: after must map database names to the constructs they wait for"):
        IamAllowedPrincipalsRevocation(scope, "Revocation", database_names=[CURATED], after=[database])


@pytest.mark.parametrize("flag", ["true", 1, None])
def test_restore_on_delete_must_be_a_bool(flag) -> None:
    with pytest.raises(ValueError, match=rf"^IamAllowedPrincipalsRevocation: restore_on_delete must be True or False; got {flag!r}$"):
        build(restore_on_delete=flag)


@pytest.mark.parametrize("timeout", [cdk.Duration.minutes(1), cdk.Duration.minutes(15)])
def test_timeouts_at_the_limits_are_accepted(timeout: cdk.Duration) -> None:
    assert build(timeout=timeout).function.timeout.to_seconds() == timeout.to_seconds()


def test_an_empty_after_entry_is_accepted_and_adds_no_dependency() -> None:
    revocation = build(after={CURATED: []})
    assert revocation.resources[CURATED].node.scope.node.dependencies == []
