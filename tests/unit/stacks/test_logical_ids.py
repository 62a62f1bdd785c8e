"""Logical ids of stateful resources are a contract: a changed id replaces the resource and
loses its data. Every stateful resource of every stack is pinned here (the test fails on one that
is not listed, as well as on one that changed), so a rename that changes one must be deliberate (and
migrated); `make diff` flags the same change in review."""

from __future__ import annotations

import pytest

from tests.compliance.retention import STATEFUL_TYPES

PINNED = {
    "analytics-account-baseline": {
        "CatalogEncryptionKeyFF26BCF5": "AWS::KMS::Key",
    },
    "analytics-{env}-foundation": {
        "DataLakeDataKey3C766BA3": "AWS::KMS::Key",
        "DataLakeAccessLogsBucket7B54C271": "AWS::S3::Bucket",
        "DataLakeRawBucket881B694B": "AWS::S3::Bucket",
        "DataLakeCuratedBucketFF1C9EA8": "AWS::S3::Bucket",
        "DataLakeAnalyticsBucket218960F6": "AWS::S3::Bucket",
        "DataLakeQueryResultsBucket10FBD32A": "AWS::S3::Bucket",
        "AlarmsKey3C2381B3": "AWS::KMS::Key",
    },
    "analytics-{env}-ingestion": {
        "StreamKey238BEC37": "AWS::KMS::Key",
        "Stream862536A4": "AWS::Kinesis::Stream",
        "IotErrorLogGroupE6A80FBC": "AWS::Logs::LogGroup",
        "DeliveryTransformLogGroup6AA32721": "AWS::Logs::LogGroup",
        "DeliveryDeliveryLogGroupF58954C1": "AWS::Logs::LogGroup",
    },
    "analytics-{env}-catalog": {
        "RawDatabase5F89E4EF": "AWS::Glue::Database",
        "CuratedDatabase264343C0": "AWS::Glue::Database",
        # The curated Iceberg tables (issue 19; they replaced the Parquet table CuratedTelemetryTable4ED1B3D7,
        # see .destructive-changes.yaml and the README's "Moving an existing environment to Iceberg").
        "TelemetryTable0E09D475": "AWS::Glue::Table",
        "TelemetryQuarantineTable0760FDCB": "AWS::Glue::Table",
        "GlueSecurityKey01AA056D": "AWS::KMS::Key",
        "RawToCuratedContinuousLogs10440D72": "AWS::Logs::LogGroup",
        "TelemetryMaintenanceHealthCheckLogGroup3DB1F995": "AWS::Logs::LogGroup",
        "TelemetryQuarantineMaintenanceHealthCheckLogGroupB26FEFC9": "AWS::Logs::LogGroup",
        "WorkflowDeadLetterKeyCB93486F": "AWS::KMS::Key",
        "WorkflowDeadLetterQueue373720EB": "AWS::SQS::Queue",
        "RevocationLogGroupF1877336": "AWS::Logs::LogGroup",
        "RevocationDeadLetterQueue57648942": "AWS::SQS::Queue",
    },
    "analytics-{env}-network": {
        "NetworkFlowLogKeyF785E5F9": "AWS::KMS::Key",
        "NetworkFlowLogGroup4F8CEEEF": "AWS::Logs::LogGroup",
    },
    "analytics-{env}-warehouse": {
        "WarehouseKey8DE8541C": "AWS::KMS::Key",
        "WarehouseClusterSecret22FBC4DB": "AWS::SecretsManager::Secret",
        "WarehouseCluster7B91A95E": "AWS::Redshift::Cluster",
        "SpectrumSchemaKeyEF82567C": "AWS::KMS::Key",
        "SpectrumSchemaLogGroupC1A6AF03": "AWS::Logs::LogGroup",
        "SpectrumSchemaDeadLetterQueue2C70033C": "AWS::SQS::Queue",
    },
    "analytics-{env}-emr": {
        "EmrClusterA5064A8E": "AWS::EMR::Cluster",
    },
    "analytics-{env}-search": {
        "SearchKey7A8E5EE4": "AWS::KMS::Key",
        "SearchDomain62FD613E": "AWS::OpenSearchService::Domain",
        "SearchSlowSearchLogs16E0407F": "AWS::Logs::LogGroup",
        "SearchSlowIndexLogs2BFF44D6": "AWS::Logs::LogGroup",
        "SearchApplicationLogsBEFD87C3": "AWS::Logs::LogGroup",
        "SearchAuditLogsF1B55D26": "AWS::Logs::LogGroup",
        "ToSearchTransformLogGroup474DD3A8": "AWS::Logs::LogGroup",
        "ToSearchDeliveryLogGroup38DA955C": "AWS::Logs::LogGroup",
        "SearchRolesLogGroup5CAFBF52": "AWS::Logs::LogGroup",
        "SearchRolesDeadLetterQueueD1BAE5F8": "AWS::SQS::Queue",
    },
}
#: Present only where the environment has alarm subscribers.
PINNED_WITH_SUBSCRIBERS = {"AlarmsDeadLetterQueue5CBAA355": "AWS::SQS::Queue"}
#: Present only where the environment configures Kerberos for EMR (staging, prod).
PINNED_WITH_KERBEROS = {"EmrKdcAdminPasswordF17848FF": "AWS::SecretsManager::Secret"}


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_stateful_logical_ids_are_stable(synthesised, env_name: str) -> None:
    app = synthesised(env_name)
    for stack_pattern, pinned in PINNED.items():
        expected = dict(pinned)
        if stack_pattern.endswith("foundation") and env_name != "dev":
            expected.update(PINNED_WITH_SUBSCRIBERS)
        if stack_pattern.endswith("emr") and env_name != "dev":
            expected.update(PINNED_WITH_KERBEROS)
        template = app.template(stack_pattern.format(env=env_name))
        actual = {k: r["Type"] for k, r in template["Resources"].items() if r["Type"] in STATEFUL_TYPES}
        assert actual == expected
