"""The search stack as the app builds it: config sizes the domain (dev small, prod highly available),
the second Firehose stream reads the ingestion stream and backs failed documents up to the raw zone,
and only HTTPS from the stack's own Firehose ENIs and mapping function reaches the domain."""

from __future__ import annotations

import pytest

from config import load_config
from stacks.search_stack import FAILED_DOCUMENTS_PREFIX
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.templates import only, resources


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-search"), load_config(name).environment


def logical_id_starting(template: dict, resource_type: str, prefix: str) -> str:
    (logical_id,) = [k for k in resources(template, resource_type) if k.startswith(prefix)]
    return logical_id


def foundation_output(env_name: str, output: str) -> dict:
    return {"Fn::GetStackOutput": {"StackName": f"analytics-{env_name}-foundation", "Region": {"Ref": "AWS::Region"}, "OutputName": output}}


def test_config_sizes_the_domain(env) -> None:
    name, template, config = env
    search, zones = config.search, config.network.availability_zones
    cluster = only(template, "AWS::OpenSearchService::Domain")["Properties"]["ClusterConfig"]
    assert cluster["InstanceType"] == search.data_node_instance_type
    assert cluster["InstanceCount"] == search.data_nodes
    assert cluster["ZoneAwarenessEnabled"] is True and cluster["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": zones}
    assert cluster["MultiAZWithStandbyEnabled"] is search.multi_az_with_standby
    assert cluster["DedicatedMasterEnabled"] is (search.master_nodes > 0)
    if search.master_nodes:
        assert (cluster["DedicatedMasterCount"], cluster["DedicatedMasterType"]) == (search.master_nodes, search.master_node_instance_type)
    props = only(template, "AWS::OpenSearchService::Domain")["Properties"]
    assert props["EBSOptions"] == {"EBSEnabled": True, "VolumeSize": search.volume_size_gib, "VolumeType": "gp3"}
    assert props["DomainName"] == f"analytics-{name}-search"


def test_dev_is_small_and_prod_highly_available(synthesised) -> None:
    def cluster(env_name: str) -> dict:
        template = synthesised(env_name).template(f"analytics-{env_name}-search")
        return only(template, "AWS::OpenSearchService::Domain")["Properties"]["ClusterConfig"]

    dev, prod = cluster("dev"), cluster("prod")
    assert dev["DedicatedMasterEnabled"] is False and dev["MultiAZWithStandbyEnabled"] is False
    assert prod["DedicatedMasterEnabled"] is True and prod["MultiAZWithStandbyEnabled"] is True
    assert prod["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 3}
    assert dev["InstanceCount"] < prod["InstanceCount"]


def test_the_domain_is_private_encrypted_and_logs_everything(env) -> None:
    _, template, _ = env
    props = only(template, "AWS::OpenSearchService::Domain")["Properties"]
    assert props["EngineVersion"] == "OpenSearch_3.7"
    assert props["EncryptionAtRestOptions"] == {"Enabled": True, "KmsKeyId": {"Ref": logical_id_starting(template, "AWS::KMS::Key", "SearchKey")}}
    assert props["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert props["DomainEndpointOptions"] == {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"}
    assert props["AdvancedSecurityOptions"]["Enabled"] is True
    assert props["AdvancedSecurityOptions"]["InternalUserDatabaseEnabled"] is False
    assert len(props["VPCOptions"]["SubnetIds"]) == props["ClusterConfig"]["ZoneAwarenessConfig"]["AvailabilityZoneCount"]
    assert set(props["LogPublishingOptions"]) == {"SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"}
    assert all(option["Enabled"] for option in props["LogPublishingOptions"].values())


def test_only_the_master_and_firehose_roles_are_in_the_access_policy(env) -> None:
    _, template, _ = env
    statements = only(template, "AWS::OpenSearchService::Domain")["Properties"]["AccessPolicies"]["Statement"]
    principals = sorted(s["Principal"]["AWS"]["Fn::GetAtt"][0] for s in statements)
    assert principals == sorted([
        logical_id_starting(template, "AWS::IAM::Role", "SearchMasterRole"),
        logical_id_starting(template, "AWS::IAM::Role", "ToSearchRole"),
    ])
    assert all(s["Effect"] == "Allow" and s["Principal"] != "*" for s in statements)


def test_the_delivery_reads_the_ingestion_stream_and_backs_up_to_the_raw_zone(env) -> None:
    name, template, config = env
    props = only(template, "AWS::KinesisFirehose::DeliveryStream")["Properties"]
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    stream_arn = props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]["Fn::GetStackOutput"]
    assert stream_arn["StackName"] == f"analytics-{name}-ingestion" and "Stream862536A4" in stream_arn["OutputName"]
    destination = props["AmazonopensearchserviceDestinationConfiguration"]
    assert destination["DomainARN"] == {"Fn::GetAtt": [logical_id_starting(template, "AWS::OpenSearchService::Domain", "SearchDomain"), "Arn"]}
    assert (destination["IndexName"], destination["IndexRotationPeriod"]) == ("telemetry", "OneDay")
    assert destination["RetryOptions"] == {"DurationInSeconds": config.search.delivery.retry_duration_seconds}
    assert destination["BufferingHints"] == {
        "IntervalInSeconds": config.search.delivery.buffer_interval_seconds, "SizeInMBs": config.search.delivery.buffer_size_mib,
    }
    assert destination["S3BackupMode"] == "FailedDocumentsOnly"
    backup = destination["S3Configuration"]
    assert backup["BucketARN"] == foundation_output(name, "PublishOutputFnGetAttDataLakeRawBucket881B694BArnAF96B5B0")
    assert backup["Prefix"].startswith(FAILED_DOCUMENTS_PREFIX)
    assert backup["ErrorOutputPrefix"].startswith(FAILED_DOCUMENTS_PREFIX)
    assert "KMSEncryptionConfig" in backup["EncryptionConfiguration"]
    vpc = destination["VpcConfiguration"]
    assert vpc["SecurityGroupIds"] == [{"Fn::GetAtt": [logical_id_starting(template, "AWS::EC2::SecurityGroup", "ToSearchSecurityGroup"), "GroupId"]}]


def test_the_transform_is_the_ingestion_package_with_the_document_entry_point(synthesised) -> None:
    ingestion = synthesised("staging").template("analytics-staging-ingestion")
    search = synthesised("staging").template("analytics-staging-search")

    def function(template: dict, prefix: str) -> dict:
        return resources(template, "AWS::Lambda::Function")[logical_id_starting(template, "AWS::Lambda::Function", prefix)]["Properties"]

    raw_zone, documents = function(ingestion, "DeliveryTransform"), function(search, "ToSearchTransform")
    assert documents["Code"]["S3Key"] == raw_zone["Code"]["S3Key"]
    assert documents["Layers"] == raw_zone["Layers"]
    assert (raw_zone["Handler"], documents["Handler"]) == (
        "firehose_transform.handler.lambda_handler", "firehose_transform.handler.document_handler",
    )


def test_only_https_from_the_stacks_own_groups_reaches_the_domain(env) -> None:
    _, template, _ = env
    domain_group = logical_id_starting(template, "AWS::EC2::SecurityGroup", "SearchSecurityGroup")
    ingress = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": [domain_group, "GroupId"]}]
    sources = sorted(r["SourceSecurityGroupId"]["Fn::GetAtt"][0] for r in ingress)
    assert sources == sorted([
        logical_id_starting(template, "AWS::EC2::SecurityGroup", "ToSearchSecurityGroup"),
        logical_id_starting(template, "AWS::EC2::SecurityGroup", "SearchRolesSecurityGroup"),
    ])
    assert all((r["IpProtocol"], r["FromPort"], r["ToPort"]) == ("tcp", 443, 443) for r in ingress)
    assert "SecurityGroupIngress" not in resources(template, "AWS::EC2::SecurityGroup")[domain_group]["Properties"]


def test_the_delivery_role_is_mapped_before_the_stream_delivers(env) -> None:
    _, template, _ = env
    mapping_id = logical_id_starting(template, "Custom::OpenSearchSecurityRoles", "SearchRoles")
    assert mapping_id in only(template, "AWS::KinesisFirehose::DeliveryStream")["DependsOn"]
    (role,) = only(template, "Custom::OpenSearchSecurityRoles")["Properties"]["Roles"]
    assert role["BackendRoles"] == [{"Fn::GetAtt": [logical_id_starting(template, "AWS::IAM::Role", "ToSearchRole"), "Arn"]}]
    assert sorted(role["IndexPatterns"]) == ["telemetry", "telemetry-*"]


def test_alarms_reach_the_alarm_topic(env) -> None:
    name, template, config = env
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    metrics = {a["Properties"]["MetricName"] for a in alarms}
    assert {"ClusterStatus.red", "ClusterStatus.yellow", "FreeStorageSpace", "JVMMemoryPressure", "CPUUtilization",
            "AutomatedSnapshotFailure", "DeliveryToAmazonOpenSearchService.DataFreshness"} <= metrics
    assert ("MasterCPUUtilization" in metrics) is (config.search.master_nodes > 0)
    for alarm in alarms:
        (action,) = alarm["Properties"]["AlarmActions"]
        assert action["Fn::GetStackOutput"]["StackName"] == f"analytics-{name}-foundation"


def test_the_domain_follows_the_removal_policy(env) -> None:
    _, template, config = env
    expected = "Delete" if config.destroys_data_on_delete else "Retain"
    domain = only(template, "AWS::OpenSearchService::Domain")
    assert (domain["DeletionPolicy"], domain["UpdateReplacePolicy"]) == (expected, expected)
