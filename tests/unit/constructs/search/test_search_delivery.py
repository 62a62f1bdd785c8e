"""StreamToSearchDelivery: Kinesis -> transform -> OpenSearch in a VPC, failed documents to S3,
one least-privilege role, HTTPS only between the two security groups, the alarms; and a cdk-nag
run of a stack holding both search constructs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import TelemetryStream
from constructs_lib.search.search_delivery import StreamToSearchDelivery
from constructs_lib.search.search_domain import SearchCapacity, SearchDomain
from stacks.compliance import add_compliance_checks
from tests.compliance.nag import PACK_RULE_ID, acknowledgments, findings
from tests.unit.constructs.search.test_search_domain import network
from tests.unit.constructs.stack_helpers import TeamStack, stack, topic
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, via_service

ACCOUNT, REGION = "111122223333", "eu-west-1"
TOPIC = [f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"]
CODE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
HANDLER = "firehose_transform.handler.document_handler"
EXISTING_DOMAIN = f"arn:aws:es:{REGION}:{ACCOUNT}:domain/team-search"
EXISTING_STREAM = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/team-telemetry"


@dataclass
class Built:
    scope: cdk.Stack
    delivery: StreamToSearchDelivery
    template: dict
    parts: dict

    def resource(self, construct) -> dict:
        return self.template["Resources"][logical_id(construct)]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    @property
    def stream(self) -> dict:
        return self.resource(self.delivery.delivery_stream)["Properties"]

    @property
    def destination(self) -> dict:
        return self.stream["AmazonopensearchserviceDestinationConfiguration"]

    def statements(self, role) -> list[dict]:
        role_id = logical_id(role)
        return [
            s for p in self.of_type("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]


def build_default(scope: cdk.Stack, *, alarm_topic=None) -> dict:
    net = network(scope)
    search = SearchDomain(scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets,
                          capacity=SearchCapacity("r7g.large.search", 3, 20), alarm_topic=alarm_topic)
    telemetry = TelemetryStream(scope, "Telemetry", alarm_topic=alarm_topic)
    backup_key = kms.Key(scope, "BackupKey", enable_key_rotation=True)
    bucket = s3.Bucket.from_bucket_attributes(scope, "Backup", bucket_arn="arn:aws:s3:::search-backup", encryption_key=backup_key)
    delivery = StreamToSearchDelivery(
        scope, "ToSearch", source_stream=telemetry.stream, domain=search.domain, domain_connections=search,
        vpc=net.vpc, vpc_subnets=net.data_subnets, backup_bucket=bucket, backup_key=backup_key,
        transform_code=CODE, transform_handler=HANDLER, log_key=telemetry.key, alarm_topic=alarm_topic,
    )
    search.grant_write(delivery.role)
    return {"network": net, "search": search, "telemetry": telemetry, "backup_key": backup_key, "bucket": bucket, "delivery": delivery}


@pytest.fixture(scope="module")
def default() -> Built:
    scope = stack()
    parts = build_default(scope)
    return Built(scope, parts["delivery"], Template.from_stack(scope).to_json(), parts)


@pytest.fixture(scope="module")
def tuned() -> Built:
    """A team's own domain and stream (imported), every tunable set to a non-default value."""
    scope = stack()
    net = network(scope)
    domain = opensearch.Domain.from_domain_attributes(
        scope, "TeamDomain", domain_arn=EXISTING_DOMAIN, domain_endpoint="https://vpc-team-search-abc123.eu-west-1.es.amazonaws.com"
    )
    group = ec2.SecurityGroup.from_security_group_id(scope, "TeamDomainGroup", "sg-0123456789abcdef0", mutable=True)
    source = kinesis.Stream.from_stream_arn(scope, "TeamStream", EXISTING_STREAM)
    bucket = s3.Bucket.from_bucket_name(scope, "TeamBucket", "team-backup")
    key = kms.Key(scope, "LogKey", enable_key_rotation=True)
    layer = lambda_.LayerVersion.from_layer_version_arn(scope, "Layer", f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:powertools:3")
    delivery = StreamToSearchDelivery(
        scope, "ToSearch", source_stream=source, domain=domain, domain_connections=group, vpc=net.vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_group_name="Data", availability_zones=None), backup_bucket=bucket,
        backup_key=None, transform_code=CODE, transform_handler="index.handler", log_key=key, transform_layers=[layer],
        transform_memory_mib=512, transform_timeout=cdk.Duration.seconds(90), transform_environment={"FEATURE": "on"},
        metrics_namespace="Team/Search", metrics_service="team-search", index_name="readings", index_rotation="OneHour",
        retry_duration=cdk.Duration.minutes(10), buffering_size=cdk.Size.mebibytes(10), buffering_interval=cdk.Duration.seconds(30),
        processor_buffer_size=cdk.Size.mebibytes(2), processor_buffer_interval=cdk.Duration.seconds(120),
        backup_prefix="failed/search/", max_data_freshness=cdk.Duration.minutes(10), log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY, alarm_topic=topic(scope),
    )
    parts = {"network": net, "domain": domain, "group": group, "source": source, "bucket": bucket, "key": key}
    return Built(scope, delivery, Template.from_stack(scope).to_json(), parts)


# -- the delivery stream -------------------------------------------------------------------------


def test_source_is_the_kinesis_stream(default) -> None:
    role_arn = arn_of(default.delivery.role)
    assert default.stream["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert default.stream["KinesisStreamSourceConfiguration"] == {
        "KinesisStreamARN": arn_of(default.parts["telemetry"].stream), "RoleARN": role_arn,
    }
    assert "DeliveryStreamEncryptionConfigurationInput" not in default.stream


def test_documents_go_to_a_daily_index_with_stable_ids_and_explicit_buffering(default) -> None:
    config = default.destination
    assert config["DomainARN"] == arn_of(default.parts["search"].domain)
    assert (config["IndexName"], config["IndexRotationPeriod"]) == ("telemetry", "OneDay")
    assert config["RoleARN"] == arn_of(default.delivery.role)
    assert config["RetryOptions"] == {"DurationInSeconds": 300}
    assert config["DocumentIdOptions"] == {"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"}
    assert config["BufferingHints"] == {"IntervalInSeconds": 0, "SizeInMBs": 5}
    assert config["S3BackupMode"] == "FailedDocumentsOnly"


def test_every_failed_document_goes_to_the_backup_prefix_with_its_error(default) -> None:
    backup = default.destination["S3Configuration"]
    assert backup["BucketARN"] == "arn:aws:s3:::search-backup"
    assert backup["RoleARN"] == arn_of(default.delivery.role)
    assert backup["Prefix"] == "search-failed/telemetry/!{timestamp:yyyy/MM/dd/HH}/"
    assert backup["ErrorOutputPrefix"] == "search-failed/telemetry/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    assert backup["CompressionFormat"] == "GZIP"
    assert backup["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": arn_of(default.parts["backup_key"])}}
    assert backup["CloudWatchLoggingOptions"] == {
        "Enabled": True, "LogGroupName": ref(default.delivery.delivery_log_group), "LogStreamName": "BackupDelivery",
    }


def test_delivery_is_logged_to_its_own_encrypted_log_group_and_streams(default) -> None:
    assert default.destination["CloudWatchLoggingOptions"] == {
        "Enabled": True, "LogGroupName": ref(default.delivery.delivery_log_group), "LogStreamName": "DestinationDelivery",
    }
    group = default.resource(default.delivery.delivery_log_group)
    assert group["Properties"]["KmsKeyId"] == arn_of(default.parts["telemetry"].key)
    assert (group["Properties"]["RetentionInDays"], group["DeletionPolicy"]) == (365, "Retain")
    streams = {s["Properties"]["LogStreamName"]: s for s in default.of_type("AWS::Logs::LogStream").values()}
    assert set(streams) == {"DestinationDelivery", "BackupDelivery"}
    assert all(s["Properties"]["LogGroupName"] == ref(default.delivery.delivery_log_group) for s in streams.values())


def processor_parameters(built: Built) -> dict:
    processing = built.destination["ProcessingConfiguration"]
    assert processing["Enabled"] is True
    (processor,) = processing["Processors"]
    assert processor["Type"] == "Lambda"
    return {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}


def test_the_transform_is_the_processor_with_explicit_buffering_and_retries(default) -> None:
    assert processor_parameters(default) == {
        "LambdaArn": arn_of(default.delivery.transform), "NumberOfRetries": "3",
        "BufferSizeInMBs": "1", "BufferIntervalInSeconds": "60",
    }


def test_the_transform_is_the_shared_firehose_transform_function(default) -> None:
    function = default.resource(default.delivery.transform)["Properties"]
    assert function["Runtime"] == "python3.14" and function["Handler"] == HANDLER
    assert (function["MemorySize"], function["Timeout"]) == (256, 120)
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"]["LogGroup"] == ref(default.delivery.transform_log_group)
    assert function["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "search-transform", "POWERTOOLS_METRICS_NAMESPACE": "FirehoseTransform",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert function["Role"] == arn_of(default.delivery.transform_role)
    statements = default.statements(default.delivery.transform_role)
    assert {tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],) for s in statements} == {
        ("logs:CreateLogStream", "logs:PutLogEvents"), ("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
    }


def test_vpc_delivery_uses_its_own_group_in_the_chosen_subnets(default) -> None:
    subnets = default.parts["network"].vpc.select_subnets(subnet_group_name="Data").subnets
    assert default.destination["VpcConfiguration"] == {
        "RoleARN": arn_of(default.delivery.role),
        "SubnetIds": [ref(s) for s in subnets],
        "SecurityGroupIds": [{"Fn::GetAtt": [logical_id(default.delivery.security_group), "GroupId"]}],
    }


def test_the_stream_waits_for_the_roles_policy(default) -> None:
    depends_on = default.resource(default.delivery.delivery_stream)["DependsOn"]
    # The policy, not the role: the role is referenced already (a DependsOn on it is cfn-lint W3005).
    assert [d for d in depends_on if d.startswith("ToSearchRole")] == [logical_id(default.delivery.role.node.find_child("DefaultPolicy"))]


# -- network -------------------------------------------------------------------------------------


def group_id(construct) -> dict:
    return {"Fn::GetAtt": [logical_id(construct), "GroupId"]}


def test_only_https_from_the_firehose_group_to_the_domain_group(default) -> None:
    firehose_group = default.resource(default.delivery.security_group)["Properties"]
    # No inline rules: no ingress, and no egress but the one rule below (no allow-all default).
    assert "SecurityGroupIngress" not in firehose_group and "SecurityGroupEgress" not in firehose_group
    ingress = [i["Properties"] for i in default.of_type("AWS::EC2::SecurityGroupIngress").values()]
    egress = [e["Properties"] for e in default.of_type("AWS::EC2::SecurityGroupEgress").values()]
    rule = {"FromPort": 443, "IpProtocol": "tcp", "ToPort": 443, "Description": "HTTPS from the Firehose delivery to OpenSearch"}
    assert ingress == [{**rule, "GroupId": group_id(default.parts["search"].security_group),
                        "SourceSecurityGroupId": group_id(default.delivery.security_group)}]
    assert egress == [{**rule, "GroupId": group_id(default.delivery.security_group),
                       "DestinationSecurityGroupId": group_id(default.parts["search"].security_group)}]


def test_an_existing_domains_group_gets_the_ingress_rule(tuned) -> None:
    (ingress,) = tuned.of_type("AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["GroupId"] == "sg-0123456789abcdef0"
    assert ingress["Properties"]["SourceSecurityGroupId"] == group_id(tuned.delivery.security_group)
    assert (ingress["Properties"]["FromPort"], ingress["Properties"]["ToPort"]) == (443, 443)
    (egress,) = tuned.of_type("AWS::EC2::SecurityGroupEgress").values()
    assert egress["Properties"]["DestinationSecurityGroupId"] == "sg-0123456789abcdef0"


# -- the role ------------------------------------------------------------------------------------


def domain_path(path: str, built: Built) -> dict:
    return {"Fn::Join": ["", [arn_of(built.parts["search"].domain), f"/{path}"]]}


def by_sid(built: Built) -> dict[str, dict]:
    statements = built.statements(built.delivery.role)
    named = {s["Sid"]: s for s in statements if "Sid" in s}
    named["_unnamed"] = [s for s in statements if "Sid" not in s]  # type: ignore[assignment]
    return named


def test_the_firehose_role_is_trusted_by_firehose_of_this_account_only(default) -> None:
    trust = default.resource(default.delivery.role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/*"}},
    }]


def test_the_role_has_exactly_the_documented_permissions(default) -> None:
    statements = by_sid(default)
    stream = default.parts["telemetry"].stream
    transform = arn_of(default.delivery.transform)
    network_interfaces = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"
    subnets = default.parts["network"].vpc.select_subnets(subnet_group_name="Data").subnets
    log_stream = lambda name: {"Fn::Join": ["", [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:", ref(default.delivery.delivery_log_group), f":log-stream:{name}"]]}  # noqa: E731
    expected = {
        "ReadTheSourceStream": (["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator",
                                 "kinesis:GetRecords", "kinesis:ListShards"], arn_of(stream)),
        "InvokeTheTransform": (["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                               [transform, {"Fn::Join": ["", [transform, ":$LATEST"]]}]),
        # Describing names the domain alone (no <domain>/*).
        "DescribeTheDomain": (["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"],
                              arn_of(default.parts["search"].domain)),
        "ReadTheDomainsStatistics": ("es:ESHttpGet", [domain_path(p, default) for p in (
            "_all/_settings", "_cluster/stats", "telemetry*/_mapping/*", "_nodes", "_nodes/stats", "_nodes/*/stats", "_stats",
            "telemetry*/_stats", "_cat/indices")]),
        "DescribeTheVpc": (["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                            "ec2:DescribeNetworkInterfaces"], "*"),
        "CreateEnisInTheChosenSubnets": ("ec2:CreateNetworkInterface", [
            network_interfaces,
            *({"Fn::Join": ["", [f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/", ref(s)]]} for s in subnets),
            {"Fn::Join": ["", [f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/", group_id(default.delivery.security_group)]]},
        ]),
        "ManageItsEnis": (["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface"], network_interfaces),
        "LocateTheBackupBucket": (["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], "arn:aws:s3:::search-backup"),
        "WriteItsLogStreams": ("logs:PutLogEvents", [log_stream("DestinationDelivery"), log_stream("BackupDelivery")]),
    }
    for sid, (actions, resources) in expected.items():
        statement = statements[sid]
        assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", actions, resources), sid
        assert "Condition" not in statement, sid
    deny = statements["FirehoseNeverDeletes"]
    assert (deny["Effect"], deny["Action"], deny["Resource"]) == ("Deny", [
        "s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging",
    ], "arn:aws:s3:::search-backup/*")
    unnamed = statements["_unnamed"]
    assert unnamed == [
        # Written once, although the caller's search.grant_write(delivery.role) adds the same statement.
        {"Action": ["es:ESHttpPost", "es:ESHttpPut"], "Effect": "Allow", "Resource": domain_path("*", default)},
        {"Action": "kms:Decrypt", "Condition": {"StringEquals": {"kms:ViaService": via_service("kinesis")}},
         "Effect": "Allow", "Resource": arn_of(default.parts["telemetry"].key)},
        {"Action": "s3:ListBucket", "Condition": {"StringLike": {"s3:prefix": ["search-failed/telemetry/", "search-failed/telemetry/*"]}},
         "Effect": "Allow", "Resource": "arn:aws:s3:::search-backup"},
        {"Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], "Effect": "Allow",
         "Resource": "arn:aws:s3:::search-backup/search-failed/telemetry/*"},
        {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Condition": {"StringEquals": {"kms:ViaService": via_service("s3")}},
         "Effect": "Allow", "Resource": arn_of(default.parts["backup_key"])},
    ]


def test_the_domain_admits_the_role_once_the_caller_grants_it(default) -> None:
    domain = default.resource(default.parts["search"].domain)["Properties"]
    (write,) = [s for s in domain["AccessPolicies"]["Statement"] if s["Sid"].startswith("Write")]
    assert write["Principal"] == {"AWS": arn_of(default.delivery.role)}


# -- alarms --------------------------------------------------------------------------------------

EXPECTED_ALARMS = {
    "data_freshness": ("AWS/Firehose", "DeliveryToAmazonOpenSearchService.DataFreshness", "Maximum", "GreaterThanThreshold", 300),
    "delivery_failures": ("AWS/Firehose", "DeliveryToAmazonOpenSearchService.Success", "Average", "LessThanThreshold", 1),
    "auth_failure": ("AWS/Firehose", "DeliveryToAmazonOpenSearchService.AuthFailure", "Maximum", "GreaterThanThreshold", 0),
    "delivery_rejected": ("AWS/Firehose", "DeliveryToAmazonOpenSearchService.DeliveryRejected", "Maximum", "GreaterThanThreshold", 0),
    "backup_failures": ("AWS/Firehose", "DeliveryToS3.Success", "Average", "LessThanThreshold", 1),
    "source_throttling": ("AWS/Firehose", "ThrottledGetRecords", "Sum", "GreaterThanThreshold", 0),
    "transform_failures": ("AWS/Firehose", "ExecuteProcessing.Success", "Average", "LessThanThreshold", 1),
    "transform_errors": ("AWS/Lambda", "Errors", "Sum", "GreaterThanThreshold", 0),
    "transform_throttles": ("AWS/Lambda", "Throttles", "Sum", "GreaterThanThreshold", 0),
    "invalid_records": ("FirehoseTransform", "RecordsFailed", "Sum", "GreaterThanThreshold", 0),
}


def alarms(built: Built) -> dict[str, dict]:
    return {name: built.resource(alarm)["Properties"] for name, alarm in built.delivery.alarms.items()}


def test_the_alarms_watch_delivery_backup_source_and_transform(default) -> None:
    found = alarms(default)
    assert {n: (p["Namespace"], p["MetricName"], p["Statistic"], p["ComparisonOperator"], p["Threshold"]) for n, p in found.items()} == EXPECTED_ALARMS
    for name, props in found.items():
        assert (props["Period"], props["EvaluationPeriods"], props["TreatMissingData"]) == (300, 1, "notBreaching"), name
        assert "AlarmActions" not in props
        if props["Namespace"] == "AWS/Firehose":
            assert props["Dimensions"] == [{"Name": "DeliveryStreamName", "Value": ref(default.delivery.delivery_stream)}]
    assert found["invalid_records"]["Dimensions"] == [{"Name": "service", "Value": "search-transform"}]
    assert found["transform_errors"]["Dimensions"] == [{"Name": "FunctionName", "Value": ref(default.delivery.transform)}]


# -- overrides -----------------------------------------------------------------------------------


def test_every_override_reaches_the_template(tuned) -> None:
    config = tuned.destination
    assert config["DomainARN"] == EXISTING_DOMAIN
    assert (config["IndexName"], config["IndexRotationPeriod"]) == ("readings", "OneHour")
    assert config["RetryOptions"] == {"DurationInSeconds": 600}
    assert config["BufferingHints"] == {"IntervalInSeconds": 30, "SizeInMBs": 10}
    assert processor_parameters(tuned)["BufferSizeInMBs"] == "2" and processor_parameters(tuned)["BufferIntervalInSeconds"] == "120"
    backup = config["S3Configuration"]
    assert backup["BucketARN"] == "arn:aws:s3:::team-backup"
    assert backup["Prefix"] == "failed/search/!{timestamp:yyyy/MM/dd/HH}/"
    assert backup["ErrorOutputPrefix"] == "failed/search/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    assert backup["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert tuned.stream["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == EXISTING_STREAM
    function = tuned.resource(tuned.delivery.transform)["Properties"]
    assert (function["MemorySize"], function["Timeout"], function["Handler"]) == (512, 90, "index.handler")
    assert function["Layers"] == [f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:powertools:3"]
    assert function["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "team-search", "POWERTOOLS_METRICS_NAMESPACE": "Team/Search",
        "POWERTOOLS_LOG_LEVEL": "INFO", "FEATURE": "on",
    }
    found = alarms(tuned)
    assert found["data_freshness"]["Threshold"] == 600
    assert (found["invalid_records"]["Namespace"], found["invalid_records"]["Dimensions"]) == (
        "Team/Search", [{"Name": "service", "Value": "team-search"}])
    for props in found.values():
        assert props["AlarmActions"] == TOPIC and props["OKActions"] == TOPIC
    for group in (tuned.delivery.delivery_log_group, tuned.delivery.transform_log_group):
        resource = tuned.resource(group)
        assert (resource["Properties"]["RetentionInDays"], resource["DeletionPolicy"]) == (30, "Delete")
        assert resource["Properties"]["KmsKeyId"] == arn_of(tuned.parts["key"])
    for log_stream in (tuned.delivery.destination_log_stream, tuned.delivery.backup_log_stream):
        assert tuned.resource(log_stream)["DeletionPolicy"] == "Delete"


def test_destroy_is_honoured_with_a_warning_and_retain_is_the_default(default, tuned) -> None:
    from aws_cdk.assertions import Annotations, Match

    from constructs_lib import DATA_DESTROYED_WARNING_ID

    destroyed = Annotations.from_stack(tuned.scope).find_warning("/Test/ToSearch", Match.string_like_regexp(".*DESTROY.*"))
    assert len(destroyed) == 1 and DATA_DESTROYED_WARNING_ID in str(destroyed[0].entry.data)
    assert Annotations.from_stack(default.scope).find_warning("/Test/ToSearch", Match.string_like_regexp(".*DESTROY.*")) == []
    for construct in (default.delivery.delivery_log_group, default.delivery.transform_log_group,
                      default.delivery.destination_log_stream, default.delivery.backup_log_stream):
        assert default.resource(construct)["DeletionPolicy"] == "Retain"


def test_an_existing_domain_and_stream_without_key_get_scoped_statements(tuned) -> None:
    statements = by_sid(tuned)
    assert statements["DescribeTheDomain"]["Resource"] == EXISTING_DOMAIN
    assert {"Action": ["es:ESHttpPost", "es:ESHttpPut"], "Effect": "Allow", "Resource": f"{EXISTING_DOMAIN}/*"} in statements["_unnamed"]
    assert f"{EXISTING_DOMAIN}/readings*/_mapping/*" in statements["ReadTheDomainsStatistics"]["Resource"]
    assert statements["ReadTheSourceStream"]["Resource"] == EXISTING_STREAM
    unnamed = statements["_unnamed"]
    assert not [s for s in unnamed if "kms:ViaService" in str(s.get("Condition"))]  # no stream key, no backup key
    assert {"Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], "Effect": "Allow",
            "Resource": "arn:aws:s3:::team-backup/failed/search/*"} in unnamed


# -- validation ----------------------------------------------------------------------------------


def make(**overrides) -> None:
    scope = stack()
    net = ec2.Vpc.from_vpc_attributes(scope, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"],
                                      isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"])
    settings = dict(
        source_stream=kinesis.Stream.from_stream_arn(scope, "Stream", EXISTING_STREAM),
        domain=opensearch.Domain.from_domain_attributes(scope, "Domain", domain_arn=EXISTING_DOMAIN,
                                                         domain_endpoint="https://vpc-team-search-abc.eu-west-1.es.amazonaws.com"),
        domain_connections=ec2.SecurityGroup.from_security_group_id(scope, "Group", "sg-0123456789abcdef0"),
        vpc=net, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        backup_bucket=s3.Bucket.from_bucket_name(scope, "Bucket", "team-backup"), backup_key=None,
        transform_code=CODE, transform_handler=HANDLER, log_key=kms.Key(scope, "Key"),
    )
    StreamToSearchDelivery(scope, "ToSearch", **{**settings, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"index_name": "Telemetry"}, "index_name must be 1-80 lowercase letters"),
        ({"index_name": "telemetry-*"}, "index_name must be"),
        ({"index_name": "_telemetry"}, "index_name must be"),
        ({"index_name": "tele metry"}, "index_name must be"),
        ({"index_name": "a/b"}, "index_name must be"),
        ({"index_name": ""}, "index_name must be"),
        ({"index_name": "a" * 81}, "index_name must be"),
        ({"index_rotation": "ONE_DAY"}, "index_rotation must be one of"),
        ({"retry_duration": cdk.Duration.seconds(7201)}, "retry_duration must be 0 to 7200 seconds; got 7201 s"),
        ({"buffering_size": cdk.Size.mebibytes(101)}, "buffering_size must be 1 to 100 MiB; got 101 MiB"),
        ({"buffering_size": cdk.Size.mebibytes(0)}, "buffering_size must be 1 to 100 MiB; got 0 MiB"),
        ({"buffering_interval": cdk.Duration.seconds(901)}, "buffering_interval must be 0 to 900 seconds; got 901 s"),
        ({"processor_buffer_size": cdk.Size.mebibytes(4)}, "processor_buffer_size must be 1 to 3 MiB"),
        ({"processor_buffer_interval": cdk.Duration.seconds(59)}, "processor_buffer_interval must be 60 to 900 seconds; got 59 s"),
        ({"processor_buffer_interval": cdk.Duration.seconds(901)}, "processor_buffer_interval must be 60 to 900 seconds; got 901 s"),
        ({"backup_prefix": "search-failed"}, "an S3 prefix must be non-empty"),
        ({"backup_prefix": "/search/"}, "an S3 prefix must be"),
        ({"backup_prefix": "search/*/"}, "an S3 prefix must be"),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, "removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"),
    ],
)
def test_settings_firehose_would_reject_fail_at_synth(overrides, message) -> None:
    with pytest.raises(ValueError, match=rf"^StreamToSearchDelivery: {message}"):
        make(**overrides)


def test_the_limits_themselves_are_accepted() -> None:
    make(retry_duration=cdk.Duration.seconds(0), buffering_size=cdk.Size.mebibytes(100),
         buffering_interval=cdk.Duration.seconds(900), processor_buffer_size=cdk.Size.mebibytes(3),
         processor_buffer_interval=cdk.Duration.seconds(900), index_name="a" * 80, index_rotation="NoRotation")


# -- cdk-nag: both search constructs in one stack ------------------------------------------------

#: Left to the app on purpose (as for every other construct of the library): CDK's grants render
#: one inline AWS::IAM::Policy per role, which each stack acknowledges per role (stacks/search_stack.py).
APP_DECIDES = {
    (f"{pack}-IAMNoInlinePolicy", f"Test/ToSearch/{role}/DefaultPolicy/Resource")
    for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321") for role in ("Role", "TransformRole")
}
OURS = ("Test/Search/", "Test/ToSearch/")


@dataclass
class Nag:
    app: cdk.App
    scope: cdk.Stack
    findings: set[tuple[str, str]]


def synth_with_packs(outdir: Path) -> Nag:
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:enablePartitionLiterals": True})
    scope = TeamStack(app, "Test", env=cdk.Environment(account=ACCOUNT, region=REGION))
    build_default(scope, alarm_topic=topic(scope))
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    return Nag(app, scope, {(f.rule_id if f.pack != "CloudFormation Validate" else f"CloudFormation-Validate::{f.rule_id}", f.path)
                            for f in findings(outdir)})


@pytest.fixture(scope="module")
def nag(tmp_path_factory) -> Nag:
    return synth_with_packs(tmp_path_factory.mktemp("search-nag"))


def test_the_five_packs_find_nothing_in_our_constructs_but_what_the_app_decides(nag) -> None:
    ours = {(rule, path) for rule, path in nag.findings if path.startswith(OURS)}
    assert ours == APP_DECIDES


def test_every_acknowledgment_is_specific_and_hides_a_real_finding(nag, tmp_path, monkeypatch) -> None:
    acks = [a for a in acknowledgments(nag.app) if a.path.startswith(OURS)]
    for ack in acks:
        assert PACK_RULE_ID.match(ack.rule_id) and len(ack.reason) >= 100, ack
        assert not any(w in ack.reason.lower() for w in ("todo", "n/a", "not needed", "suppress", "ignore", "false positive"))
    assert {(a.path, a.rule_id) for a in acks} == {
        ("Test/Search/Domain/Resource", "AwsSolutions-OS3"),
        ("Test/Search/Domain/Resource", "AwsSolutions-OS4"),
        ("Test/ToSearch/DeliveryStream", "AwsSolutions-KDF1"),
        ("Test/ToSearch/TransformRole", "AwsSolutions-IAM5[Resource::*]"),
        *(("Test/ToSearch/Transform", rule) for rule in (
            "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ", "HIPAA.Security-LambdaInsideVPC",
            "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC", "HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5-LambdaConcurrency")),
        *(("Test/ToSearch/Role", f"AwsSolutions-IAM5[Resource::{resource}]") for resource in (
            "*", f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*", "<SearchDomain62FD613E.Arn>/*",
            "<SearchDomain62FD613E.Arn>/telemetry*/_mapping/*", "<SearchDomain62FD613E.Arn>/_nodes/*/stats",
            "<SearchDomain62FD613E.Arn>/telemetry*/_stats", "arn:aws:s3:::search-backup/search-failed/telemetry/*")),
    }
    # Switched off, each acknowledgment's finding appears, and nothing else of ours does.
    monkeypatch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
    bare = synth_with_packs(tmp_path)
    raw = {(rule, path) for rule, path in bare.findings if path.startswith(OURS)}
    for ack in acks:
        assert any(rule == ack.rule_id and (path + "/").startswith(ack.path + "/") for rule, path in raw), f"stale: {ack}"
    for rule, path in raw - APP_DECIDES:
        assert any(a.rule_id == rule and (path + "/").startswith(a.path + "/") for a in acks), (rule, path)
