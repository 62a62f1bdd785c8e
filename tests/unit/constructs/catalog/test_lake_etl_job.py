"""LakeEtlJob: a Glue 5.0 bookmarked job, one run at a time, logged and measured, whose role reads one prefix and writes only its targets."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from constructs_lib.catalog.lake_etl_job import RESERVED_ARGUMENTS
from tests.unit.constructs.catalog.glue_helpers import lake
from tests.unit.constructs.template_helpers import (
    actions,
    arn_of,
    logical_id,
    ref,
    role_statements,
    via_service,
    with_action,
    with_prefix,
)

TARGETS = ["curated/telemetry/", "quarantine/telemetry/"]


@pytest.fixture(scope="module")
def built():
    """Two jobs in one stack: all defaults, and every tunable set to a non-default value."""
    built = lake()
    jobs = {
        "default": built.job("Default"),
        "tuned": built.job(
            "Tuned", job_name="tuned", description="Curates telemetry",
            source_prefix="raw/telemetry/", target_prefixes=TARGETS,
            worker_type=glue.WorkerType.G_2X, number_of_workers=5, timeout=cdk.Duration.hours(3), max_retries=2,
            arguments={"--source-database": "raw", "--datalake-formats": "iceberg"},
            log_retention=logs.RetentionDays.ONE_MONTH, log_removal_policy=cdk.RemovalPolicy.DESTROY,
        ),
    }
    return built, jobs, Template.from_stack(built.scope)


def job_props(built_, name: str) -> dict:
    _, jobs, template = built_
    return template.find_resources("AWS::Glue::Job")[logical_id(jobs[name].job)]["Properties"]


def log_group(built_, name: str) -> dict:
    _, jobs, template = built_
    return template.find_resources("AWS::Logs::LogGroup")[logical_id(jobs[name].log_group)]


def statements(built_, name: str) -> list[dict]:
    _, jobs, template = built_
    return role_statements(template, jobs[name].role)


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_glue_5_one_concurrent_run_under_the_security_configuration(built, name) -> None:
    lake_, jobs, _ = built
    props = job_props(built, name)
    assert (props["GlueVersion"], props["ExecutionProperty"]) == ("5.0", {"MaxConcurrentRuns": 1})
    assert props["Command"]["Name"] == "glueetl"
    assert props["SecurityConfiguration"] == ref(lake_.security.configuration)
    assert props["Role"] == arn_of(jobs[name].role)


def test_defaults_are_two_g1x_workers_one_hour_and_no_retries(built) -> None:
    props = job_props(built, "default")
    assert (props["WorkerType"], props["NumberOfWorkers"], props["Timeout"], props["MaxRetries"]) == ("G.1X", 2, 60, 0)
    assert (props["Name"], props.get("Description")) == ("default-job", None)


def test_worker_type_count_timeout_retries_name_and_description_are_as_passed(built) -> None:
    props = job_props(built, "tuned")
    assert (props["WorkerType"], props["NumberOfWorkers"], props["Timeout"], props["MaxRetries"]) == ("G.2X", 5, 180, 2)
    assert (props["Name"], props["Description"]) == ("tuned", "Curates telemetry")


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_bookmarks_metrics_and_continuous_logging_to_its_own_log_group_are_on(built, name) -> None:
    _, jobs, _ = built
    arguments = job_props(built, name)["DefaultArguments"]
    assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
    assert arguments["--enable-metrics"] == ""  # Glue's flag: present means on
    assert arguments["--enable-observability-metrics"] == "true"
    assert arguments["--enable-continuous-cloudwatch-log"] == "true"
    assert arguments["--continuous-log-logGroup"] == ref(jobs[name].log_group)


def test_caller_arguments_are_added_to_the_fixed_ones(built) -> None:
    arguments = job_props(built, "tuned")["DefaultArguments"]
    assert (arguments["--source-database"], arguments["--datalake-formats"]) == ("raw", "iceberg")
    assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
    assert "--source-database" not in job_props(built, "default")["DefaultArguments"]


def test_log_group_is_encrypted_with_the_security_key_kept_a_year_and_retained_by_default(built) -> None:
    lake_, _, _ = built
    group = log_group(built, "default")
    assert group["Properties"] == {"KmsKeyId": arn_of(lake_.security.key), "RetentionInDays": 365}
    assert group["DeletionPolicy"] == "Retain"


def test_log_retention_and_removal_policy_are_as_passed(built) -> None:
    lake_, _, _ = built
    group = log_group(built, "tuned")
    assert group["Properties"] == {"KmsKeyId": arn_of(lake_.security.key), "RetentionInDays": 30}
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Delete", "Delete")


def lake_statements(built_, name: str) -> list[dict]:
    """The role's statements on the lake bucket (the script is in another bucket)."""
    lake_, _, _ = built_
    bucket = json.dumps(arn_of(lake_.bucket))
    return [s for s in with_prefix(statements(built_, name), "s3") if bucket in json.dumps(s["Resource"])]


def test_role_reads_the_source_prefix_only(built) -> None:
    lake_, _, _ = built
    granted = lake_statements(built, "tuned")
    assert {
        "Action": "s3:ListBucket",
        "Condition": {"StringLike": {"s3:prefix": ["raw/telemetry/", "raw/telemetry/*"]}},
        "Effect": "Allow",
        "Resource": arn_of(lake_.bucket),
    } in granted
    assert {"Action": "s3:GetObject", "Effect": "Allow", "Resource": lake_.objects("raw/telemetry/")} in granted


def test_role_writes_and_deletes_under_each_target_prefix_only(built) -> None:
    lake_, _, _ = built
    writes = with_action(lake_statements(built, "tuned"), "s3:PutObject")
    assert writes == [
        {
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"],
            "Effect": "Allow",
            "Resource": lake_.objects(prefix),
        }
        for prefix in TARGETS
    ]


def test_role_reaches_no_other_part_of_the_lake_bucket(built) -> None:
    lake_, _, _ = built
    granted = lake_statements(built, "tuned")
    objects = [s["Resource"] for s in granted if s["Resource"] != arn_of(lake_.bucket)]
    assert objects == [lake_.objects(p) for p in ("raw/telemetry/", *TARGETS)]
    listed = [s["Condition"]["StringLike"]["s3:prefix"][0] for s in granted if s["Resource"] == arn_of(lake_.bucket)]
    assert listed == ["raw/telemetry/", *TARGETS]


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_role_reads_the_one_script_object_and_nothing_else_of_its_bucket(built, name) -> None:
    """Glue downloads the script at start: GetObject on that object and GetBucketLocation, not CDK's
    read grant (GetObject*, GetBucket*, List* on the whole bucket)."""
    script_statements = [s for s in statements(built, name) if "scripts-bucket" in json.dumps(s["Resource"])]
    assert script_statements == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "arn:aws:s3:::scripts-bucket/jobs/etl.py", "Sid": "ReadTheJobScript"},
        {"Action": "s3:GetBucketLocation", "Effect": "Allow", "Resource": "arn:aws:s3:::scripts-bucket", "Sid": "LocateTheScriptBucket"},
    ]
    assert not [a for s in statements(built, name) for a in actions(s) if a in ("s3:GetObject*", "s3:GetBucket*", "s3:List*")]


def test_an_asset_script_is_granted_as_its_one_object_in_the_assets_bucket(tmp_path) -> None:
    script = tmp_path / "job.py"
    script.write_text("print('hello')\n")
    lake_ = lake()
    job = lake_.job("Asset", script=glue.Code.from_asset(str(script)))
    template = Template.from_stack(lake_.scope)
    granted = [s for s in role_statements(template, job.role) if s.get("Sid") in ("ReadTheJobScript", "LocateTheScriptBucket")]
    assert [s["Action"] for s in granted] == ["s3:GetObject", "s3:GetBucketLocation"]
    (location,) = [
        j["Properties"]["Command"]["ScriptLocation"] for j in template.find_resources("AWS::Glue::Job").values()
    ]
    key = json.dumps(location).split("/")[-1].rstrip('"]}')
    assert key.endswith(".py") and key in json.dumps(granted[0]["Resource"])
    assert not [a for s in role_statements(template, job.role) for a in actions(s) if a.endswith("*") and a.startswith("s3:")]


def test_role_uses_the_lake_key_through_s3_only(built) -> None:
    lake_, _, _ = built
    lake_key = [s for s in with_prefix(statements(built, "tuned"), "kms") if s["Resource"] == arn_of(lake_.key)]
    assert lake_key
    for statement in lake_key:
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": via_service("s3")}}
        assert set(actions(statement)) <= {"kms:Decrypt", "kms:GenerateDataKey"}


@pytest.mark.parametrize("name", ["default", "tuned"])
def test_role_never_touches_the_glue_catalog(built, name) -> None:
    assert with_prefix(statements(built, name), "glue") == []


def test_role_puts_metrics_only_in_the_glue_namespace(built) -> None:
    granted = statements(built, "default")
    assert with_prefix(granted, "cloudwatch") == [
        {
            "Action": "cloudwatch:PutMetricData",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "Glue"}},
            "Effect": "Allow",
            "Resource": "*",
        }
    ]
    assert [s for s in granted if s["Resource"] == "*"] == with_prefix(granted, "cloudwatch")


def test_role_writes_its_continuous_log_group_and_glue_job_logs_with_the_security_key(built) -> None:
    lake_, jobs, _ = built
    granted = statements(built, "default")
    log_resources = [s["Resource"] for s in with_prefix(granted, "logs")]
    assert log_resources == [
        "arn:aws:logs:eu-west-1:111122223333:log-group:/aws-glue/jobs*",
        arn_of(jobs["default"].log_group),
    ]
    assert [actions(s) for s in granted if s["Resource"] == arn_of(lake_.security.key)] == [
        ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    ]


@pytest.mark.parametrize("argument", sorted(RESERVED_ARGUMENTS))
def test_a_reserved_argument_is_rejected_naming_it(argument) -> None:
    with pytest.raises(ValueError, match=f"cannot be passed: {re.escape(argument)}$"):
        lake().job("Job", arguments={argument: "x", "--own": "y"})


def test_all_reserved_arguments_given_are_named() -> None:
    with pytest.raises(ValueError, match="--enable-metrics, --job-bookmark-option$"):
        lake().job("Job", arguments={"--job-bookmark-option": "job-bookmark-disable", "--enable-metrics": "false"})


@pytest.mark.parametrize("argument", ["--enable-observability-metrics", "--enable-glue-datacatalog"])
def test_fixed_arguments_beyond_the_l2_ones_are_rejected_naming_them(argument: str) -> None:
    with pytest.raises(ValueError, match=f"cannot be passed: {argument}$"):
        lake().job("Job", arguments={argument: "false"})


def test_fewer_than_two_workers_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 2 workers; got 1$"):
        lake().job("Job", number_of_workers=1)


def test_no_target_prefix_is_rejected() -> None:
    with pytest.raises(ValueError, match="target_prefixes must name at least one prefix"):
        lake().job("Job", target_prefixes=[])


@pytest.mark.parametrize(
    "kwargs",
    [{"source_prefix": "telemetry"}, {"target_prefixes": ["curated/", "/quarantine/"]}, {"target_prefixes": ["cur*/"]}],
)
def test_a_bad_source_or_target_prefix_is_rejected_naming_it(kwargs) -> None:
    bad = kwargs.get("source_prefix") or kwargs["target_prefixes"][-1]
    with pytest.raises(ValueError, match=rf"^LakeEtlJob: .*got {re.escape(repr(bad))}$"):
        lake().job("Job", **kwargs)
