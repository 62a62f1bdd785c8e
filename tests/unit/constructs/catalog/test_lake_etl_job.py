"""LakeEtlJob: a Glue 5 bookmarked job, one run at a time, logged and measured, whose role reads one prefix and writes only
its targets: prefixes, or Iceberg tables it commits to through the catalog."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib.catalog.lake_etl_job import RESERVED_ARGUMENTS
from tests.unit.constructs.catalog.glue_helpers import lake
from tests.unit.constructs.catalog.iceberg_helpers import table
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
    with pytest.raises(ValueError, match="target_prefixes must name at least one prefix the job writes, or iceberg_tables"):
        lake().job("Job", target_prefixes=[], target_bucket=None)


@pytest.mark.parametrize(
    "kwargs",
    [{"source_prefix": "telemetry"}, {"target_prefixes": ["curated/", "/quarantine/"]}, {"target_prefixes": ["cur*/"]}],
)
def test_a_bad_source_or_target_prefix_is_rejected_naming_it(kwargs) -> None:
    bad = kwargs.get("source_prefix") or kwargs["target_prefixes"][-1]
    with pytest.raises(ValueError, match=rf"^LakeEtlJob: .*got {re.escape(repr(bad))}$"):
        lake().job("Job", **kwargs)


# --- Iceberg tables: a commit through the Glue catalog (issue 19) ------------------------------------


@pytest.fixture(scope="module")
def iceberg():
    """A Glue 5.1 job that commits to two Iceberg tables of the lake bucket and writes no prefix,
    with two extra Python modules beside its script and the catalog encrypted with a key."""
    built = lake()
    curated = table(built.scope, "Curated", bucket=built.bucket, bucket_key=built.key, prefix="telemetry/iceberg/readings/")
    quarantine = table(
        built.scope, "Quarantine", bucket=built.bucket, bucket_key=built.key, table_name="telemetry_quarantine",
        prefix="telemetry/iceberg/quarantine/",
    )
    catalog_key = kms.Key(built.scope, "CatalogKey")
    scripts = s3.Bucket.from_bucket_name(built.scope, "Modules", "modules-bucket")
    job = built.job(
        "Iceberg", target_bucket=None, target_prefixes=[], iceberg_tables=[curated, quarantine], catalog_key=catalog_key,
        glue_version=glue.GlueVersion.V5_1,
        extra_python_files=[glue.Code.from_bucket(scripts, "jobs/curated_table.py"), glue.Code.from_bucket(scripts, "jobs/lakehouse.py")],
        arguments={"--datalake-formats": "iceberg"},
    )
    template = Template.from_stack(built.scope)
    props = template.find_resources("AWS::Glue::Job")[logical_id(job.job)]["Properties"]
    return built, job, role_statements(template, job.role), props


def test_glue_5_1_is_accepted_and_rendered(iceberg) -> None:
    *_, props = iceberg
    assert props["GlueVersion"] == "5.1"


def test_the_role_commits_to_each_table_through_the_catalog_and_nothing_else_of_it(iceberg) -> None:
    """Each table's grant_write: GetDatabase, GetTable and UpdateTable on the catalog, the database and that
    table (not the database's other tables), and the catalog key through Glue only."""
    built, _, granted, _ = iceberg
    glue_statements = with_prefix(granted, "glue")
    catalog = "arn:aws:glue:eu-west-1:111122223333"
    assert glue_statements == [
        {
            "Action": ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"], "Effect": "Allow",
            "Resource": [f"{catalog}:catalog", f"{catalog}:database/team_dev_curated", f"{catalog}:table/team_dev_curated/{name}"],
        }
        for name in ("telemetry", "telemetry_quarantine")
    ]
    catalog_key = [s for s in with_prefix(granted, "kms") if s["Resource"] == arn_of(built.scope.node.find_child("CatalogKey"))]
    assert catalog_key and all(s["Condition"] == {"StringEquals": {"kms:ViaService": via_service("glue")}} for s in catalog_key)


def test_the_role_writes_under_each_table_prefix_only(iceberg) -> None:
    built, _, statements_, _ = iceberg
    granted = [s for s in with_prefix(statements_, "s3") if json.dumps(arn_of(built.bucket)) in json.dumps(s["Resource"])]
    writes = with_action(granted, "s3:PutObject")
    assert [w["Resource"] for w in writes] == [built.objects("telemetry/iceberg/readings/"), built.objects("telemetry/iceberg/quarantine/")]
    assert all("s3:DeleteObject" in w["Action"] for w in writes)
    objects = [s["Resource"] for s in granted if s["Resource"] != arn_of(built.bucket)]
    assert objects == [built.objects(p) for p in ("telemetry/", "telemetry/iceberg/readings/", "telemetry/iceberg/quarantine/")]


def test_the_extra_python_files_are_job_arguments_and_the_role_reads_those_objects(iceberg) -> None:
    _, _, granted, props = iceberg
    assert props["DefaultArguments"]["--extra-py-files"] == "s3://modules-bucket/jobs/curated_table.py,s3://modules-bucket/jobs/lakehouse.py"
    assert [s for s in granted if s.get("Sid") == "ReadTheExtraPythonFiles"] == [{
        "Action": "s3:GetObject", "Effect": "Allow", "Sid": "ReadTheExtraPythonFiles",
        "Resource": ["arn:aws:s3:::modules-bucket/jobs/curated_table.py", "arn:aws:s3:::modules-bucket/jobs/lakehouse.py"],
    }]
    (locate,) = [s for s in granted if s.get("Sid") == "LocateTheScriptBucket"]
    assert locate["Resource"] == ["arn:aws:s3:::scripts-bucket", "arn:aws:s3:::modules-bucket"]
    assert not [a for s in granted for a in actions(s) if a in ("s3:GetObject*", "s3:GetBucket*", "s3:List*")]


def test_without_tables_the_role_still_never_touches_the_catalog(built) -> None:
    """The default path is unchanged by the Iceberg one (and its template too: Glue 5.0)."""
    assert with_prefix(statements(built, "default"), "glue") == []
    assert job_props(built, "default")["GlueVersion"] == "5.0"
    assert "--extra-py-files" not in job_props(built, "default")["DefaultArguments"]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"glue_version": glue.GlueVersion.V4_0}, "glue_version must be 5.0 or 5.1"),
        ({"glue_version": "5.1"}, "glue_version must be a GlueVersion"),
        ({"target_prefixes": [], "target_bucket": None}, "target_prefixes must name at least one prefix"),
        ({"target_bucket": None}, "target_prefixes need the target_bucket"),
        ({"target_prefixes": [], "iceberg_tables": "TABLE"}, "iceberg_tables must be a list"),
        ({"catalog_key": "KEY"}, "catalog_key must be a IKey"),
        ({"extra_python_files": ["s3://bucket/module.py"]}, "extra_python_files"),
        ({"extra_python_files": "CODE"}, "extra_python_files must be a list"),
    ],
)
def test_bad_iceberg_props_are_refused_naming_the_prop(kwargs, says) -> None:
    lake_ = lake()
    if kwargs.get("iceberg_tables") == "TABLE":
        kwargs = {**kwargs, "target_bucket": None, "iceberg_tables": table(lake_.scope, bucket=lake_.bucket, bucket_key=lake_.key)}
    with pytest.raises((ValueError, TypeError), match=f"^LakeEtlJob: .*{re.escape(says)}"):
        lake_.job("Job", **kwargs)


def test_props_without_effect_are_refused() -> None:
    lake_ = lake()
    with pytest.raises(ValueError, match="catalog_key has no effect without iceberg_tables"):
        lake_.job("Job", catalog_key=kms.Key(lake_.scope, "CatalogKey"))
    with pytest.raises(ValueError, match="target_bucket has no effect without target_prefixes"):
        lake_.job("Other", target_prefixes=[], iceberg_tables=[table(lake_.scope, bucket=lake_.bucket, bucket_key=lake_.key)])


def test_a_table_named_twice_or_extra_files_passed_twice_are_refused() -> None:
    lake_ = lake()
    curated = table(lake_.scope, bucket=lake_.bucket, bucket_key=lake_.key)
    with pytest.raises(ValueError, match="iceberg_tables names a table more than once"):
        lake_.job("Job", iceberg_tables=[curated, curated])
    module = glue.Code.from_bucket(s3.Bucket.from_bucket_name(lake_.scope, "M", "modules"), "m.py")
    with pytest.raises(ValueError, match="extra_python_files or as the --extra-py-files argument, not both"):
        lake_.job("Other", extra_python_files=[module], arguments={"--extra-py-files": "s3://modules/m.py"})
