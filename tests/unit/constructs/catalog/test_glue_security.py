"""GlueSecurity: S3 output SSE-KMS with the data key, logs and bookmarks with its own rotating key, and grants scoped to crawlers or jobs."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from tests.unit.constructs.catalog.glue_helpers import CONFIGURATION_NAME, lake
from tests.unit.constructs.stack_helpers import only
from tests.unit.constructs.template_helpers import actions, arn_of, logical_id, role_statements, with_prefix

LOG_GROUPS = "arn:aws:logs:eu-west-1:111122223333:log-group:"


@pytest.fixture(scope="module")
def default():
    built = lake()
    roles = {runs: iam.Role(built.scope, runs.capitalize(), assumed_by=iam.ServicePrincipal("glue.amazonaws.com")) for runs in ("crawler", "job")}
    for runs, role in roles.items():
        built.security.grant_use(role, runs=runs)
    template = Template.from_stack(built.scope)
    return built, template, {runs: role_statements(template, role) for runs, role in roles.items()}


def security_key(built, template: Template) -> dict:
    return template.find_resources("AWS::KMS::Key")[logical_id(built.security.key)]


def test_configuration_encrypts_s3_output_with_the_data_key_and_logs_and_bookmarks_with_its_own(default) -> None:
    built, template, _ = default
    props = only(template, "AWS::Glue::SecurityConfiguration")["Properties"]
    assert props["Name"] == CONFIGURATION_NAME
    assert props["EncryptionConfiguration"] == {
        "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": arn_of(built.key)}],
        "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": arn_of(built.security.key)},
        "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": arn_of(built.security.key)},
    }
    assert logical_id(built.security.key) != logical_id(built.key)


def test_configuration_name_attribute_refers_to_the_configuration(default) -> None:
    """Crawlers and jobs name it through a Ref, so they are created after it."""
    built, _, _ = default
    name = built.scope.resolve(built.security.configuration.security_configuration_name)
    assert name == {"Ref": logical_id(built.security.configuration)}


def test_own_key_rotates_and_waits_30_days_before_deletion(default) -> None:
    built, template, _ = default
    props = security_key(built, template)["Properties"]
    assert (props["EnableKeyRotation"], props["PendingWindowInDays"]) == (True, 30)


def test_key_lets_cloudwatch_logs_of_this_account_and_region_use_it(default) -> None:
    built, template, _ = default
    statements = security_key(built, template)["Properties"]["KeyPolicy"]["Statement"]
    logs = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount")
    assert logs["Principal"] == {"Service": {"Fn::Join": ["", ["logs.eu-west-1.", {"Ref": "AWS::URLSuffix"}]]}}
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"{LOG_GROUPS}*"}}


def test_key_is_retained_by_default(default) -> None:
    built, template, _ = default
    assert security_key(built, template)["DeletionPolicy"] == "Retain"


def test_destroy_deletes_the_key_with_the_stack() -> None:
    built = lake(removal_policy=cdk.RemovalPolicy.DESTROY)
    key = Template.from_stack(built.scope).find_resources("AWS::KMS::Key")[logical_id(built.security.key)]
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_destroy_also_deletes_the_named_configuration() -> None:
    built = lake(removal_policy=cdk.RemovalPolicy.DESTROY)
    configuration = only(Template.from_stack(built.scope), "AWS::Glue::SecurityConfiguration")
    assert (configuration["DeletionPolicy"], configuration["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_the_named_configuration_is_retained_by_default() -> None:
    built = lake()
    configuration = only(Template.from_stack(built.scope), "AWS::Glue::SecurityConfiguration")
    assert (configuration["DeletionPolicy"], configuration["UpdateReplacePolicy"]) == ("Retain", "Retain")


def logs_statement(statements: list[dict]) -> dict:
    (statement,) = with_prefix(statements, "logs")
    return statement


def key_statement(statements: list[dict]) -> dict:
    (statement,) = with_prefix(statements, "kms")
    return statement


def test_crawler_may_write_encrypted_logs_to_crawler_log_groups_only(default) -> None:
    _, _, statements = default
    statement = logs_statement(statements["crawler"])
    assert statement["Resource"] == f"{LOG_GROUPS}/aws-glue/crawlers*"
    assert actions(statement) == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]


def test_crawler_may_decrypt_and_generate_data_keys_but_not_encrypt(default) -> None:
    built, _, statements = default
    statement = key_statement(statements["crawler"])
    assert statement["Resource"] == arn_of(built.security.key)
    assert actions(statement) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_job_may_write_encrypted_logs_to_job_log_groups_only(default) -> None:
    _, _, statements = default
    assert logs_statement(statements["job"])["Resource"] == f"{LOG_GROUPS}/aws-glue/jobs*"


def test_job_may_also_encrypt_with_the_key_for_its_bookmarks(default) -> None:
    built, _, statements = default
    statement = key_statement(statements["job"])
    assert statement["Resource"] == arn_of(built.security.key)
    assert actions(statement) == ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]


def test_grants_name_neither_the_data_key_nor_any_other_resource(default) -> None:
    _, _, statements = default
    for granted in statements.values():
        assert len(granted) == 2
