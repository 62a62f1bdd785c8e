"""LakeCrawler: one table from one prefix (or partitions of one catalog table), under the security configuration, with a role that reaches nothing else."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.catalog.lake_crawler import CATALOG_ACTIONS
from tests.unit.constructs.catalog.glue_helpers import DATABASE, lake
from tests.unit.constructs.template_helpers import (
    actions,
    arn_of,
    logical_id,
    ref,
    role_statements,
    via_service,
    with_prefix,
)

GLUE = "arn:aws:glue:eu-west-1:111122223333"


@pytest.fixture(scope="module")
def built():
    """Three crawlers in one stack: defaults over ``telemetry/``; every override over ``a/b/``
    with a catalog key; a catalog target."""
    built = lake()
    catalog_key = kms.Key(built.scope, "CatalogKey")
    crawlers = {
        "default": built.crawler("Default"),
        "tuned": built.crawler(
            "Tuned", crawler_name="tuned", prefix="a/b/", catalog_key=catalog_key, description="Crawls a/b",
            recrawl_behavior="CRAWL_EVERYTHING", update_behavior="UPDATE_IN_DATABASE", delete_behavior="DEPRECATE_IN_DATABASE",
        ),
        "catalog": built.crawler("Catalog", catalog_table_name="readings", recrawl_behavior="CRAWL_EVERYTHING"),
    }
    return built, catalog_key, crawlers, Template.from_stack(built.scope)


def resource(built_, name: str) -> dict:
    _, _, crawlers, template = built_
    return template.find_resources("AWS::Glue::Crawler")[logical_id(crawlers[name].crawler)]


def props(built_, name: str) -> dict:
    return resource(built_, name)["Properties"]


def statements(built_, name: str) -> list[dict]:
    _, _, crawlers, template = built_
    return role_statements(template, crawlers[name].role)


def crawler_configuration(built_, name: str) -> dict:
    return json.loads(props(built_, name)["Configuration"])


def test_s3_target_is_the_prefix_of_the_bucket(built) -> None:
    lake_, _, _, _ = built
    assert props(built, "default")["Targets"] == {
        "S3Targets": [{"Path": {"Fn::Join": ["", ["s3://", ref(lake_.bucket), "/telemetry/"]]}}]
    }
    assert props(built, "tuned")["Targets"]["S3Targets"][0]["Path"]["Fn::Join"][1][2] == "/a/b/"


@pytest.mark.parametrize("name", ["default", "tuned", "catalog"])
def test_runs_under_the_security_configuration(built, name) -> None:
    lake_, _, _, _ = built
    assert props(built, name)["CrawlerSecurityConfiguration"] == ref(lake_.security.configuration)


def test_name_database_and_description_are_as_passed(built) -> None:
    default, tuned = props(built, "default"), props(built, "tuned")
    assert (default["Name"], default["DatabaseName"], default.get("Description")) == ("default-crawler", DATABASE, None)
    assert (tuned["Name"], tuned["Description"]) == ("tuned", "Crawls a/b")
    _, _, crawlers, _ = built
    assert crawlers["tuned"].crawler_name == "tuned"


def test_default_crawls_new_folders_only_and_only_logs_schema_changes(built) -> None:
    default = props(built, "default")
    assert default["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert default["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}


def test_recrawl_and_schema_change_policies_are_as_passed(built) -> None:
    tuned = props(built, "tuned")
    assert tuned["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert tuned["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE"}


@pytest.mark.parametrize(("name", "level"), [("default", 2), ("tuned", 3)])
def test_configuration_combines_schemas_pins_the_table_to_the_prefix_and_partitions_inherit(built, name, level) -> None:
    assert crawler_configuration(built, name) == {
        "Version": 1.0,
        "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas", "TableLevelConfiguration": level},
    }


def test_table_name_is_the_prefixs_last_folder_or_the_catalog_table(built) -> None:
    _, _, crawlers, _ = built
    assert {name: c.table_name for name, c in crawlers.items()} == {"default": "telemetry", "tuned": "b", "catalog": "readings"}


@pytest.mark.parametrize("name", ["default", "tuned", "catalog"])
def test_role_is_assumed_by_glue_only(built, name) -> None:
    _, _, crawlers, template = built
    role = template.find_resources("AWS::IAM::Role")[logical_id(crawlers[name].role)]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize(("name", "table"), [("default", "telemetry"), ("tuned", "b"), ("catalog", "readings")])
def test_catalog_access_is_limited_to_the_catalog_the_database_and_its_one_table(built, name, table) -> None:
    (statement,) = with_prefix(statements(built, name), "glue")
    assert actions(statement) == list(CATALOG_ACTIONS)
    assert statement["Resource"] == [f"{GLUE}:catalog", f"{GLUE}:database/{DATABASE}", f"{GLUE}:table/{DATABASE}/{table}"]
    assert "*" not in json.dumps(statement["Resource"])
    assert not [a for a in actions(statement) if a.startswith("glue:Delete") or "*" in a]


def test_catalog_key_is_usable_through_glue_only(built) -> None:
    _, catalog_key, _, _ = built
    (statement,) = [s for s in with_prefix(statements(built, "tuned"), "kms") if s["Resource"] == arn_of(catalog_key)]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": via_service("glue")}}


def test_without_a_catalog_key_no_key_is_usable_through_glue(built) -> None:
    granted = with_prefix(statements(built, "default"), "kms")
    assert not [s for s in granted if "glue." in json.dumps(s.get("Condition", {}))]
    assert len(granted) == 2  # the bucket key through S3, the security key


def test_role_lists_and_reads_its_prefix_only_and_decrypts_through_s3(built) -> None:
    lake_, _, _, _ = built
    granted = statements(built, "default")
    assert with_prefix(granted, "s3") == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["telemetry/", "telemetry/*"]}},
            "Effect": "Allow",
            "Resource": arn_of(lake_.bucket),
        },
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": lake_.objects("telemetry/")},
    ]
    (bucket_key,) = [s for s in with_prefix(granted, "kms") if s["Resource"] == arn_of(lake_.key)]
    assert (bucket_key["Action"], bucket_key["Condition"]) == ("kms:Decrypt", {"StringEquals": {"kms:ViaService": via_service("s3")}})


def test_role_cannot_reach_other_prefixes_of_the_bucket(built) -> None:
    lake_, _, _, _ = built
    granted = json.dumps(statements(built, "tuned"))
    assert json.dumps(lake_.objects("")) not in granted  # no <bucket>/*
    assert json.dumps(lake_.objects("a/b/")) in granted


def test_role_writes_crawler_logs_and_uses_the_security_key(built) -> None:
    lake_, _, _, _ = built
    granted = statements(built, "default")
    (logs,) = with_prefix(granted, "logs")
    assert logs["Resource"] == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws-glue/crawlers*"
    assert [s["Action"] for s in with_prefix(granted, "kms") if s["Resource"] == arn_of(lake_.security.key)] == [
        ["kms:Decrypt", "kms:GenerateDataKey"]
    ]


@pytest.mark.parametrize("name", ["default", "catalog"])
def test_crawler_is_created_after_its_role_policy(built, name) -> None:
    _, _, crawlers, _ = built
    policy = crawlers[name].role.node.find_child("DefaultPolicy")
    assert logical_id(policy) in resource(built, name)["DependsOn"]


def test_catalog_target_crawls_the_table_and_no_s3_path(built) -> None:
    catalog = props(built, "catalog")
    assert catalog["Targets"] == {"CatalogTargets": [{"DatabaseName": DATABASE, "Tables": ["readings"]}]}
    assert catalog["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert catalog["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}


def test_catalog_target_keeps_the_tables_grouping_and_only_adds_partitions(built) -> None:
    assert crawler_configuration(built, "catalog") == {
        "Version": 1.0,
        "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
    }


def test_catalog_target_role_still_reads_only_the_prefix(built) -> None:
    lake_, _, _, _ = built
    (read,) = with_prefix(statements(built, "catalog"), "s3")[1:]
    assert read == {"Action": "s3:GetObject", "Effect": "Allow", "Resource": lake_.objects("telemetry/")}


def test_delete_from_database_lets_the_role_delete_its_table_and_partitions() -> None:
    built_ = lake()
    crawler = built_.crawler(
        "Deleting", recrawl_behavior="CRAWL_EVERYTHING", update_behavior="UPDATE_IN_DATABASE",
        delete_behavior="DELETE_FROM_DATABASE",
    )
    (statement,) = with_prefix(role_statements(Template.from_stack(built_.scope), crawler.role), "glue")
    assert {"glue:DeleteTable", "glue:DeletePartition", "glue:BatchDeletePartition"} <= set(actions(statement))


def test_only_delete_from_database_grants_deletes(built) -> None:
    for name in ("default", "catalog"):
        (statement,) = with_prefix(statements(built, name), "glue")
        assert not [a for a in actions(statement) if a.startswith("glue:Delete") or a.startswith("glue:BatchDelete")]


def test_catalog_target_defaults_to_a_full_crawl_and_s3_target_to_incremental() -> None:
    built_ = lake()
    s3_target = built_.crawler("S3Target")
    catalog = built_.crawler("Catalog", catalog_table_name="telemetry")
    crawlers = {c["Properties"]["Name"]: c["Properties"] for c in Template.from_stack(built_.scope).find_resources("AWS::Glue::Crawler").values()}
    assert crawlers[s3_target.crawler_name]["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert crawlers[catalog.crawler_name]["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"update_behavior": "UPDATE_IN_DATABASE"}, ["CRAWL_NEW_FOLDERS_ONLY", "UPDATE_IN_DATABASE, LOG"]),
        ({"delete_behavior": "DELETE_FROM_DATABASE"}, ["CRAWL_NEW_FOLDERS_ONLY", "LOG, DELETE_FROM_DATABASE"]),
        (
            {"catalog_table_name": "readings", "recrawl_behavior": "CRAWL_EVERYTHING", "update_behavior": "UPDATE_IN_DATABASE"},
            ["catalog target", "UPDATE_IN_DATABASE, LOG"],
        ),
        (
            {"catalog_table_name": "readings", "recrawl_behavior": "CRAWL_EVERYTHING", "delete_behavior": "DEPRECATE_IN_DATABASE"},
            ["catalog target", "LOG, DEPRECATE_IN_DATABASE"],
        ),
        ({"catalog_table_name": "readings", "recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"}, ["catalog targets", "got CRAWL_NEW_FOLDERS_ONLY"]),
        ({"prefix": "telemetry"}, ["LakeCrawler", "got 'telemetry'"]),
        ({"prefix": "/telemetry/"}, ["LakeCrawler", "got '/telemetry/'"]),
        ({"prefix": "tele*/"}, ["LakeCrawler", "got 'tele*/'"]),
    ],
)
def test_settings_glue_would_reject_fail_at_synth_naming_the_offending_values(kwargs, named) -> None:
    with pytest.raises(ValueError, match=".*".join(re.escape(n) for n in named)):
        lake().crawler("Crawler", **kwargs)
