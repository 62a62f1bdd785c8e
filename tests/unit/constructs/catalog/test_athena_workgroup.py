"""AthenaWorkgroup: an enforced, KMS-encrypted, cost-capped engine-3 workgroup, named queries keyed by name, and a grant scoped to it."""

from __future__ import annotations

import re

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib import AthenaWorkgroup, NamedQuery
from constructs_lib.catalog.athena_workgroup import QUERY_ACTIONS
from tests.unit.constructs.catalog.glue_helpers import lake
from tests.unit.constructs.stack_helpers import only
from tests.unit.constructs.template_helpers import (
    ACCOUNT,
    arn_of,
    logical_id,
    ref,
    role_statements,
    via_service,
    with_prefix,
)

LATEST = NamedQuery("latest-reading-per-device", "Newest reading of each device", "curated", "SELECT 1")
DAILY = NamedQuery("daily counts", "Readings per day", "curated", "SELECT day, count(*) FROM t WHERE day = ? GROUP BY day")
CUTOFF = 5_000_000_000


def make(named_queries=(LATEST, DAILY), **kwargs):
    built = lake()
    settings = {
        "workgroup_name": "analytics-test",
        "results_bucket": built.bucket,
        "results_prefix": "athena-results/",
        "results_key": built.key,
        "bytes_scanned_cutoff_per_query": CUTOFF,
        "named_queries": named_queries,
    }
    return built, AthenaWorkgroup(built.scope, "Athena", **{**settings, **kwargs})


@pytest.fixture(scope="module")
def default():
    built, workgroup = make(description="Analysts")
    user = iam.Role(built.scope, "Analyst", assumed_by=iam.AccountRootPrincipal())
    workgroup.grant_query(user)
    template = Template.from_stack(built.scope)
    return built, workgroup, template, role_statements(template, user)


def configuration(template: Template) -> dict:
    return only(template, "AWS::Athena::WorkGroup")["Properties"]["WorkGroupConfiguration"]


def test_clients_cannot_override_the_configuration_and_metrics_are_published(default) -> None:
    _, _, template, _ = default
    config = configuration(template)
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["PublishCloudWatchMetricsEnabled"] is True
    assert config["RequesterPaysEnabled"] is False


def test_engine_version_3(default) -> None:
    _, _, template, _ = default
    assert configuration(template)["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}


def test_bytes_scanned_cutoff_is_as_passed(default) -> None:
    _, _, template, _ = default
    assert configuration(template)["BytesScannedCutoffPerQuery"] == CUTOFF


def test_results_go_to_the_prefix_encrypted_with_the_key_in_a_bucket_of_this_account(default) -> None:
    built, workgroup, template, _ = default
    output = {"Fn::Join": ["", ["s3://", ref(built.bucket), "/athena-results/"]]}
    assert configuration(template)["ResultConfiguration"] == {
        "OutputLocation": output,
        "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": arn_of(built.key)},
        "ExpectedBucketOwner": ACCOUNT,
    }
    assert built.scope.resolve(workgroup.output_location) == output


def test_name_description_and_state(default) -> None:
    _, workgroup, template, _ = default
    props = only(template, "AWS::Athena::WorkGroup")["Properties"]
    assert (props["Name"], props["Description"], props["State"]) == ("analytics-test", "Analysts", "ENABLED")
    assert workgroup.workgroup_name == "analytics-test"


def test_the_minimum_cutoff_is_accepted() -> None:
    make(bytes_scanned_cutoff_per_query=10_000_000)


def test_a_cutoff_below_athenas_minimum_is_rejected_naming_the_minimum() -> None:
    with pytest.raises(ValueError, match=r"at least 10,000,000 .*got 9,999,999$"):
        make(bytes_scanned_cutoff_per_query=9_999_999)


def test_a_bad_results_prefix_is_rejected_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^AthenaWorkgroup: .*got 'athena-results'$"):
        make(results_prefix="athena-results")


def test_one_named_query_per_query_in_the_workgroup(default) -> None:
    _, workgroup, template, _ = default
    queries = template.find_resources("AWS::Athena::NamedQuery")
    assert len(queries) == 2
    assert set(workgroup.named_queries) == {LATEST.name, DAILY.name}
    for query in (LATEST, DAILY):
        props = queries[logical_id(workgroup.named_queries[query.name])]["Properties"]
        assert props == {
            "Name": query.name,
            "Description": query.description,
            "Database": query.database,
            "QueryString": query.sql,
            "WorkGroup": ref(workgroup.workgroup),
        }


def test_no_named_queries_by_default() -> None:
    built, workgroup = make(named_queries=())
    assert workgroup.named_queries == {}
    Template.from_stack(built.scope).resource_count_is("AWS::Athena::NamedQuery", 0)


def test_a_named_querys_logical_id_follows_its_name_not_its_position() -> None:
    _, alone = make(named_queries=(DAILY,))
    _, after_another = make(named_queries=(LATEST, DAILY))
    alone_id = logical_id(alone.named_queries[DAILY.name])
    assert alone_id == logical_id(after_another.named_queries[DAILY.name])
    assert alone_id.startswith("AthenaQueryDailyCounts")


def test_names_that_differ_only_in_punctuation_and_case_are_rejected() -> None:
    clash = NamedQuery("Daily_Counts", "Other", "curated", "SELECT 2")
    with pytest.raises(ValueError, match=re.escape(str([DAILY.name, clash.name]))):
        make(named_queries=(DAILY, clash))


@pytest.mark.parametrize("name", ["---", " "])
def test_a_name_that_cannot_be_a_construct_id_is_rejected_naming_it(name) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        make(named_queries=(NamedQuery(name, "d", "curated", "SELECT 1"),))


def test_a_query_named_like_the_workgroup_does_not_clash_with_it() -> None:
    built, workgroup = make(named_queries=(NamedQuery("work group", "d", "curated", "SELECT 1"),))
    assert len(Template.from_stack(built.scope).find_resources("AWS::Athena::NamedQuery")) == 1


def test_grant_query_allows_the_athena_actions_on_this_workgroup_only(default) -> None:
    _, workgroup, _, granted = default
    assert with_prefix(granted, "athena") == [
        {"Action": list(QUERY_ACTIONS), "Effect": "Allow", "Resource": "arn:aws:athena:eu-west-1:111122223333:workgroup/analytics-test"}
    ]
    assert workgroup.workgroup_arn == "arn:aws:athena:eu-west-1:111122223333:workgroup/analytics-test"


def test_grant_query_writes_and_reads_the_results_prefix_with_the_key_through_s3(default) -> None:
    built, _, _, granted = default
    assert with_prefix(granted, "s3") == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["athena-results/", "athena-results/*"]}},
            "Effect": "Allow",
            "Resource": arn_of(built.bucket),
        },
        {
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Effect": "Allow",
            "Resource": built.objects("athena-results/"),
        },
    ]
    assert with_prefix(granted, "kms") == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
            "Effect": "Allow",
            "Resource": arn_of(built.key),
        }
    ]
    assert len(granted) == 4  # nothing else: tables, catalog and Lake Formation are granted separately
