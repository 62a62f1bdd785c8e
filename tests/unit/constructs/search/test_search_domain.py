"""SearchDomain: a VPC domain with encryption, HTTPS, FGAC with an IAM master role, its own log
resource policy, an access policy that names roles only, a closed security group, and the
recommended alarms."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import DATA_DESTROYED_WARNING_ID, DataNetwork
from constructs_lib.search.search_domain import DEFAULT_ENGINE_VERSION, SearchCapacity, SearchDomain
from tests.unit.constructs.stack_helpers import TeamStack, alarm_actions, stack, topic
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref

ACCOUNT, REGION = "111122223333", "eu-west-1"
TOPIC = [f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"]
UNNAMED = f"arn:aws:es:{REGION}:{ACCOUNT}:domain/*"
SMALL = SearchCapacity(data_node_instance_type="r7g.large.search", data_nodes=3, volume_size_gib=20)
LARGE = SearchCapacity(
    data_node_instance_type="r7g.xlarge.search", data_nodes=6, volume_size_gib=100,
    master_node_instance_type="m7g.large.search", master_nodes=3, multi_az_with_standby=True,
)


def network(scope: cdk.Stack, azs: int = 3) -> DataNetwork:
    return DataNetwork(
        scope, "Network", cidr="10.20.0.0/16", availability_zones=azs, interface_endpoints=[],
        flow_log_retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.RETAIN,
    )


@dataclass
class Built:
    scope: cdk.Stack
    network: DataNetwork
    search: SearchDomain
    template: dict
    roles: dict[str, iam.Role]

    def resource(self, construct) -> dict:
        return self.template["Resources"][logical_id(construct)]

    @property
    def domain(self) -> dict:
        return self.resource(self.search.domain)["Properties"]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}


@pytest.fixture(scope="module")
def default() -> Built:
    scope = stack()
    net = network(scope)
    search = SearchDomain(scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets, capacity=SMALL)
    roles = {name: iam.Role(scope, name, assumed_by=iam.AccountRootPrincipal()) for name in ("Reader", "Indexer", "Loader")}
    search.grant_read(roles["Reader"])
    search.grant_write(roles["Indexer"])
    search.grant_write(roles["Loader"], index_pattern="telemetry-*")
    search.grant_read(roles["Loader"])
    peer = ec2.SecurityGroup(scope, "Client", vpc=net.vpc, allow_all_outbound=False)
    search.allow_https_from(peer)
    roles["Client"] = peer  # type: ignore[assignment]
    return Built(scope, net, search, Template.from_stack(scope).to_json(), roles)


@pytest.fixture(scope="module")
def tuned() -> Built:
    scope = stack()
    net = network(scope)
    key = kms.Key(scope, "TeamKey", enable_key_rotation=True)
    master = iam.Role(scope, "TeamMaster", assumed_by=iam.AccountRootPrincipal())
    group = ec2.SecurityGroup(scope, "TeamGroup", vpc=net.vpc, allow_all_outbound=False)
    search = SearchDomain(
        scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets, capacity=LARGE, key=key, master_role=master,
        security_group=group, engine_version=opensearch.EngineVersion.OPENSEARCH_3_5, domain_name="telemetry-search",
        off_peak_window_start=opensearch.WindowStartTime(hours=3, minutes=30), log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY, alarm_topic=topic(scope),
    )
    writer = iam.Role(scope, "Writer", assumed_by=iam.AccountRootPrincipal())
    search.grant_write(writer)
    return Built(scope, net, search, Template.from_stack(scope).to_json(), {"Key": key, "Master": master, "Group": group, "Writer": writer})


# -- the domain ----------------------------------------------------------------------------------


def test_the_newest_engine_zone_aware_over_the_three_data_subnets(default) -> None:
    domain = default.domain
    assert DEFAULT_ENGINE_VERSION.version == "OpenSearch_3.7" and domain["EngineVersion"] == "OpenSearch_3.7"
    assert domain["ClusterConfig"] == {
        "DedicatedMasterEnabled": False,
        "InstanceCount": 3,
        "InstanceType": "r7g.large.search",
        "MultiAZWithStandbyEnabled": False,
        "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3},
        "ZoneAwarenessEnabled": True,
    }
    subnets = default.network.vpc.select_subnets(subnet_group_name="Data").subnets
    assert domain["VPCOptions"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [logical_id(default.search.security_group), "GroupId"]}],
        "SubnetIds": [ref(subnet) for subnet in subnets],
    }
    assert default.search.availability_zone_count == 3 and default.search.capacity is SMALL
    assert domain["EBSOptions"] == {"EBSEnabled": True, "VolumeSize": 20, "VolumeType": "gp3"}


def test_encryption_https_and_maintenance_settings_are_fixed(default) -> None:
    domain = default.domain
    assert domain["EncryptionAtRestOptions"] == {"Enabled": True, "KmsKeyId": ref(default.search.key)}
    assert domain["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert domain["DomainEndpointOptions"] == {"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"}
    assert domain["OffPeakWindowOptions"] == {"Enabled": True, "OffPeakWindow": {"WindowStartTime": {"Hours": 22, "Minutes": 0}}}
    assert domain["SoftwareUpdateOptions"] == {"AutoSoftwareUpdateEnabled": True}
    assert default.resource(default.search.domain)["UpdatePolicy"] == {"EnableVersionUpgrade": True}


def test_fine_grained_access_control_with_an_iam_master_role_only(default) -> None:
    assert default.domain["AdvancedSecurityOptions"] == {
        "Enabled": True,
        "InternalUserDatabaseEnabled": False,
        "AnonymousAuthEnabled": False,
        "MasterUserOptions": {"MasterUserARN": arn_of(default.search.master_role)},
    }
    role = default.resource(default.search.master_role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
    ]
    assert "FGAC master role" in role["Description"]
    assert "Policies" not in role and "ManagedPolicyArns" not in role


def test_the_domain_key_rotates_and_lets_cloudwatch_logs_use_it(default) -> None:
    key = default.resource(default.search.key)
    assert key["Properties"]["EnableKeyRotation"] is True and key["Properties"]["PendingWindowInDays"] == 30
    sids = [s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert "AllowCloudWatchLogsOfThisAccount" in sids


# -- logs ----------------------------------------------------------------------------------------


def test_four_log_types_each_to_its_own_encrypted_log_group(default) -> None:
    groups = default.search.log_groups
    assert set(groups) == {"slow_search", "slow_index", "application", "audit"}
    assert default.domain["LogPublishingOptions"] == {
        kind: {"CloudWatchLogsLogGroupArn": arn_of(groups[name]), "Enabled": True}
        for name, kind in (("slow_search", "SEARCH_SLOW_LOGS"), ("slow_index", "INDEX_SLOW_LOGS"),
                           ("application", "ES_APPLICATION_LOGS"), ("audit", "AUDIT_LOGS"))
    }
    for group in groups.values():
        resource = default.resource(group)
        assert resource["Properties"]["KmsKeyId"] == arn_of(default.search.key)
        assert resource["Properties"]["RetentionInDays"] == 365
        assert resource["DeletionPolicy"] == "Retain"
    assert len(default.of_type("AWS::Logs::LogGroup")) == 4 + 1  # and the network's flow log group


def resource_policy(built: Built) -> tuple[dict, dict]:
    resource = built.resource(built.search.log_resource_policy)
    parts = resource["Properties"]["PolicyDocument"]["Fn::Join"][1]
    # Tokens inside the JSON string: each GetAtt becomes "@<logical id>" to parse the rest.
    text = "".join(p if isinstance(p, str) else f"@{p['Fn::GetAtt'][0]}" for p in parts)
    return resource, json.loads(text)


def at(construct) -> str:
    return f"@{logical_id(construct)}"


def test_one_log_resource_policy_admits_opensearch_to_exactly_those_groups(default) -> None:
    resource, document = resource_policy(default)
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Service": "es.amazonaws.com"}
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == [at(g) for g in default.search.log_groups.values()]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": UNNAMED}}
    assert re.fullmatch(r"opensearch-logs-[0-9a-f]{42}", resource["Properties"]["PolicyName"])
    assert default.resource(default.search.domain)["DependsOn"] == [logical_id(default.search.log_resource_policy)]
    assert len(default.of_type("AWS::Logs::ResourcePolicy")) == 1
    # No AwsCustomResource (its Lambda) for the log policy nor for the access policy.
    assert not [k for k, v in default.template["Resources"].items() if v["Type"].startswith("Custom::") and "Search" in k]


def test_the_log_policy_name_is_stable_for_a_path_and_differs_between_stacks(default, tuned) -> None:
    names = {resource_policy(b)[0]["Properties"]["PolicyName"] for b in (default, tuned)}
    assert len(names) == 1  # the same stack and construct path give the same name (stable across deploys)
    scope = TeamStack(cdk.App(), "AnotherStack", env=cdk.Environment(account=ACCOUNT, region=REGION))
    net = network(scope)
    another = SearchDomain(scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets, capacity=SMALL)
    policy = Template.from_stack(scope).to_json()["Resources"][logical_id(another.log_resource_policy)]
    assert policy["Properties"]["PolicyName"] not in names  # another stack gets another one


# -- access --------------------------------------------------------------------------------------


def test_the_access_policy_names_the_master_and_the_granted_roles_only(default) -> None:
    policy = default.domain["AccessPolicies"]
    assert policy["Version"] == "2012-10-17"
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"MasterRole", "Read0", "Write1", "WriteIndices2"}
    assert by_sid["MasterRole"] == {
        "Sid": "MasterRole", "Effect": "Allow", "Principal": {"AWS": arn_of(default.search.master_role)},
        "Action": ["es:ESHttp*"], "Resource": f"{UNNAMED}/*",
    }
    assert by_sid["Read0"]["Principal"] == {"AWS": [arn_of(default.roles["Reader"]), arn_of(default.roles["Loader"])]}
    assert by_sid["Read0"]["Action"] == ["es:ESHttpGet", "es:ESHttpHead"] and by_sid["Read0"]["Resource"] == f"{UNNAMED}/*"
    assert by_sid["Write1"]["Principal"] == {"AWS": arn_of(default.roles["Indexer"])}
    assert by_sid["Write1"]["Action"] == ["es:ESHttpPost", "es:ESHttpPut"] and by_sid["Write1"]["Resource"] == f"{UNNAMED}/*"
    assert by_sid["WriteIndices2"]["Principal"] == {"AWS": arn_of(default.roles["Loader"])}
    assert by_sid["WriteIndices2"]["Resource"] == [f"{UNNAMED}/telemetry-*", f"{UNNAMED}/telemetry-*/*"]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and "*" not in json.dumps(statement["Principal"])
    assert default.search.granted_role_arns == [
        default.search.master_role.role_arn, *(default.roles[n].role_arn for n in ("Reader", "Indexer", "Loader"))
    ]


def role_statements(built: Built, role: iam.IRole) -> list[dict]:
    role_id = logical_id(role)
    return [
        s for p in built.of_type("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def domain_path(built: Built, path: str) -> dict:
    return {"Fn::Join": ["", [arn_of(built.search.domain), f"/{path}"]]}


def test_each_grant_also_goes_into_the_grantees_own_policy(default) -> None:
    assert role_statements(default, default.roles["Reader"]) == [
        {"Action": ["es:ESHttpGet", "es:ESHttpHead"], "Effect": "Allow", "Resource": domain_path(default, "*")}
    ]
    assert role_statements(default, default.roles["Indexer"]) == [
        {"Action": ["es:ESHttpPost", "es:ESHttpPut"], "Effect": "Allow", "Resource": domain_path(default, "*")}
    ]
    assert role_statements(default, default.roles["Loader"]) == [
        {"Action": ["es:ESHttpPost", "es:ESHttpPut"], "Effect": "Allow",
         "Resource": [domain_path(default, "telemetry-*"), domain_path(default, "telemetry-*/*")]},
        {"Action": ["es:ESHttpGet", "es:ESHttpHead"], "Effect": "Allow", "Resource": domain_path(default, "*")},
    ]


def test_a_named_domain_gets_exact_arns_in_its_policies(tuned) -> None:
    named = f"arn:aws:es:{REGION}:{ACCOUNT}:domain/telemetry-search"
    assert tuned.domain["DomainName"] == "telemetry-search"
    assert {s["Resource"] for s in tuned.domain["AccessPolicies"]["Statement"]} == {f"{named}/*"}
    _, document = resource_policy(tuned)
    assert document["Statement"][0]["Condition"]["ArnLike"] == {"aws:SourceArn": named}


def test_only_roles_can_be_granted() -> None:
    scope = stack()
    net = network(scope)
    search = SearchDomain(scope, "Search", vpc=net.vpc, vpc_subnets=net.data_subnets, capacity=SMALL)
    with pytest.raises(ValueError, match=r"^SearchDomain: only IAM roles .*; got "):
        search.grant_read(iam.User(scope, "Person"))
    for pattern in ("Telemetry-*", "*", "tele*metry", "_hidden", "a/b", ""):
        with pytest.raises(ValueError, match=rf"^SearchDomain: index_pattern must be .*; got {re.escape(repr(pattern))}$"):
            search.grant_write(iam.Role(scope, f"R{abs(hash(pattern))}", assumed_by=iam.AccountRootPrincipal()),
                               index_pattern=pattern)


# -- network -------------------------------------------------------------------------------------


def test_the_security_group_admits_https_from_the_allowed_peer_only(default) -> None:
    group = default.resource(default.search.security_group)["Properties"]
    assert "SecurityGroupIngress" not in group
    assert group["SecurityGroupEgress"] == [
        {"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}
    ]
    ingress = list(default.of_type("AWS::EC2::SecurityGroupIngress").values())
    assert [i["Properties"] for i in ingress] == [{
        "Description": "HTTPS to the OpenSearch domain", "FromPort": 443, "GroupId": {"Fn::GetAtt": [logical_id(default.search.security_group), "GroupId"]},
        "IpProtocol": "tcp", "SourceSecurityGroupId": {"Fn::GetAtt": [logical_id(default.roles["Client"]), "GroupId"]}, "ToPort": 443,
    }]
    egress = [e["Properties"] for e in default.of_type("AWS::EC2::SecurityGroupEgress").values()]
    assert egress == [{
        "Description": "HTTPS to the OpenSearch domain", "DestinationSecurityGroupId": {"Fn::GetAtt": [logical_id(default.search.security_group), "GroupId"]},
        "FromPort": 443, "GroupId": {"Fn::GetAtt": [logical_id(default.roles["Client"]), "GroupId"]}, "IpProtocol": "tcp", "ToPort": 443,
    }]
    assert default.search.connections.default_port.to_string() == "443"


# -- alarms --------------------------------------------------------------------------------------

#: name -> (metric, statistic, comparison, threshold, period, evaluation periods)
EXPECTED_ALARMS = {
    "cluster_status_red": ("ClusterStatus.red", "Maximum", "GreaterThanOrEqualToThreshold", 1, 60, 1),
    "cluster_status_yellow": ("ClusterStatus.yellow", "Maximum", "GreaterThanOrEqualToThreshold", 1, 60, 5),
    "free_storage_space": ("FreeStorageSpace", "Minimum", "LessThanOrEqualToThreshold", 20 * 1024 * 0.25, 60, 1),
    "cluster_index_writes_blocked": ("ClusterIndexWritesBlocked", "Maximum", "GreaterThanOrEqualToThreshold", 1, 300, 1),
    "automated_snapshot_failure": ("AutomatedSnapshotFailure", "Maximum", "GreaterThanOrEqualToThreshold", 1, 60, 1),
    "cpu_utilization": ("CPUUtilization", "Maximum", "GreaterThanOrEqualToThreshold", 80, 900, 3),
    "jvm_memory_pressure": ("JVMMemoryPressure", "Maximum", "GreaterThanOrEqualToThreshold", 95, 60, 3),
    "nodes": ("Nodes", "Minimum", "LessThanThreshold", 3, 86400, 1),
    "kms_key_error": ("KMSKeyError", "Maximum", "GreaterThanOrEqualToThreshold", 1, 60, 1),
    "kms_key_inaccessible": ("KMSKeyInaccessible", "Maximum", "GreaterThanOrEqualToThreshold", 1, 60, 1),
}
MASTER_ALARMS = {
    "master_cpu_utilization": ("MasterCPUUtilization", "Maximum", "GreaterThanOrEqualToThreshold", 50, 900, 3),
    "master_jvm_memory_pressure": ("MasterJVMMemoryPressure", "Maximum", "GreaterThanOrEqualToThreshold", 95, 60, 3),
}


def alarm_settings(built: Built) -> dict[str, tuple]:
    settings = {}
    for name, alarm in built.search.alarms.items():
        props = built.resource(alarm)["Properties"]
        assert props["Namespace"] == "AWS/ES"
        assert props["Dimensions"] == [{"Name": "ClientId", "Value": ACCOUNT}, {"Name": "DomainName", "Value": ref(built.search.domain)}]
        assert props["TreatMissingData"] == "notBreaching" and props["DatapointsToAlarm"] == props["EvaluationPeriods"]
        settings[name] = (props["MetricName"], props["Statistic"], props["ComparisonOperator"], props["Threshold"],
                          props["Period"], props["EvaluationPeriods"])
    return settings


def test_the_recommended_alarms_without_dedicated_masters(default) -> None:
    assert alarm_settings(default) == EXPECTED_ALARMS
    assert [a for a in alarm_actions(Template.from_stack(default.scope)) if a is not None] == []


def test_with_dedicated_masters_their_alarms_too_and_all_notify_the_topic(tuned) -> None:
    expected = {**EXPECTED_ALARMS, **MASTER_ALARMS}
    expected["free_storage_space"] = ("FreeStorageSpace", "Minimum", "LessThanOrEqualToThreshold", 100 * 1024 * 0.25, 60, 1)
    expected["nodes"] = ("Nodes", "Minimum", "LessThanThreshold", 9, 86400, 1)
    assert alarm_settings(tuned) == expected
    for alarm in tuned.search.alarms.values():
        props = tuned.resource(alarm)["Properties"]
        assert props["AlarmActions"] == TOPIC and props["OKActions"] == TOPIC


# -- overrides and removal -----------------------------------------------------------------------


def test_every_override_reaches_the_template(tuned) -> None:
    domain = tuned.domain
    assert domain["EngineVersion"] == "OpenSearch_3.5"
    assert domain["ClusterConfig"] == {
        "DedicatedMasterCount": 3, "DedicatedMasterEnabled": True, "DedicatedMasterType": "m7g.large.search",
        "InstanceCount": 6, "InstanceType": "r7g.xlarge.search", "MultiAZWithStandbyEnabled": True,
        "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3}, "ZoneAwarenessEnabled": True,
    }
    assert domain["EBSOptions"]["VolumeSize"] == 100
    assert domain["EncryptionAtRestOptions"]["KmsKeyId"] == ref(tuned.roles["Key"])
    assert domain["AdvancedSecurityOptions"]["MasterUserOptions"] == {"MasterUserARN": arn_of(tuned.roles["Master"])}
    assert domain["VPCOptions"]["SecurityGroupIds"] == [{"Fn::GetAtt": [logical_id(tuned.roles["Group"]), "GroupId"]}]
    assert domain["OffPeakWindowOptions"]["OffPeakWindow"] == {"WindowStartTime": {"Hours": 3, "Minutes": 30}}
    assert tuned.search.key is tuned.roles["Key"] and tuned.search.master_role is tuned.roles["Master"]
    assert tuned.search.security_group is tuned.roles["Group"]
    assert len(tuned.of_type("AWS::KMS::Key")) == 2  # the team's key and the network's flow log key
    assert len(tuned.of_type("AWS::EC2::SecurityGroup")) == 2  # the team's group and the endpoint group
    assert not [k for k in tuned.of_type("AWS::IAM::Role") if k.startswith("Search")]  # no master role created
    for group in tuned.search.log_groups.values():
        assert tuned.resource(group)["Properties"]["RetentionInDays"] == 30
        assert tuned.resource(group)["Properties"]["KmsKeyId"] == arn_of(tuned.roles["Key"])


def test_destroy_is_honoured_with_a_warning_and_retain_is_the_default(default, tuned) -> None:
    for built, policy in ((default, "Retain"), (tuned, "Delete")):
        owned = [built.search.domain, *built.search.log_groups.values()]
        if built is default:
            owned.append(built.search.key)
        for construct in owned:
            resource = built.resource(construct)
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)
    warnings = Annotations.from_stack(tuned.scope).find_warning("/Test/Search", Match.string_like_regexp(".*DESTROY.*"))
    assert len(warnings) == 1 and DATA_DESTROYED_WARNING_ID in str(warnings[0].entry.data)
    assert Annotations.from_stack(default.scope).find_warning("/Test/Search", Match.string_like_regexp(".*DESTROY.*")) == []
    assert tuned.search.removal_policy == cdk.RemovalPolicy.DESTROY


# -- acknowledgments -----------------------------------------------------------------------------


def acknowledged(built: Built) -> set[str]:
    from tests.compliance.nag import acknowledgments

    return {a.rule_id for a in acknowledgments(built.scope.node.scope) if a.path.startswith("Test/Search")}


def test_os3_always_and_os4_only_without_dedicated_masters_are_acknowledged(default, tuned) -> None:
    assert acknowledged(default) == {"AwsSolutions-OS3", "AwsSolutions-OS4"}
    assert acknowledged(tuned) == {"AwsSolutions-OS3"}


# -- validation ----------------------------------------------------------------------------------


def capacity(**overrides) -> SearchCapacity:
    settings = {"data_node_instance_type": "r7g.large.search", "data_nodes": 3, "volume_size_gib": 20}
    return SearchCapacity(**{**settings, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"data_node_instance_type": "r7g.large"}, r"data_node_instance_type must be an OpenSearch instance type ending in '\.search'"),
        ({"data_node_instance_type": "R7G.large.search"}, "data_node_instance_type must be an OpenSearch instance type"),
        ({"master_nodes": 3, "master_node_instance_type": "m7g.large"}, "master_node_instance_type must be an OpenSearch instance type"),
        ({"data_node_instance_type": "t2.small.search"}, "must support encryption at rest"),
        ({"data_node_instance_type": "i3.large.search"}, "must support EBS volumes"),
        ({"data_nodes": 0}, "data_nodes must be at least 1"),
        ({"volume_size_gib": 9}, "volume_size_gib must be at least 10"),
        ({"master_nodes": 2, "master_node_instance_type": "m7g.large.search"}, r"master_nodes must be one of \(0, 3, 5\)"),
        ({"master_nodes": 3}, "master_node_instance_type must be given exactly when master_nodes > 0"),
        ({"master_node_instance_type": "m7g.large.search"}, "master_node_instance_type must be given exactly when"),
        ({"multi_az_with_standby": True, "data_nodes": 6}, "multi_az_with_standby needs dedicated master nodes"),
        ({"multi_az_with_standby": True, "data_nodes": 4, "master_nodes": 3, "master_node_instance_type": "m7g.large.search"},
         "multi_az_with_standby needs a multiple of 3 data nodes"),
        ({"multi_az_with_standby": True, "data_node_instance_type": "t3.medium.search", "master_nodes": 3,
          "master_node_instance_type": "m7g.large.search"}, r"does not support burstable \(t2, t3\) instance types; got 't3.medium.search'"),
        ({"multi_az_with_standby": True, "master_nodes": 3, "master_node_instance_type": "t3.medium.search"},
         "does not support burstable"),
    ],
)
def test_capacity_opensearch_would_reject_fails_at_construction(overrides, message) -> None:
    with pytest.raises(ValueError, match=rf"^SearchCapacity\.\S+ .*{message}|^SearchCapacity\.{message}"):
        capacity(**overrides)


def test_a_three_az_standby_capacity_and_a_small_t3_domain_are_accepted() -> None:
    assert LARGE.total_nodes == 9
    assert capacity(data_node_instance_type="t3.medium.search", data_nodes=2).total_nodes == 2


def imported_vpc(scope: cdk.Stack, subnets: int) -> tuple[ec2.IVpc, ec2.SubnetSelection]:
    azs = [f"{REGION}{c}" for c in "abcd"][:subnets]
    vpc = ec2.Vpc.from_vpc_attributes(
        scope, "Imported", vpc_id="vpc-0123456789abcdef0", availability_zones=azs,
        isolated_subnet_ids=[f"subnet-0{i}aaaaaaaaaaaaaaa" for i in range(subnets)],
    )
    return vpc, ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


@pytest.mark.parametrize(
    ("kwargs", "subnets", "message"),
    [
        ({"domain_name": "Telemetry"}, 3, "domain_name must be 3-28 lowercase letters"),
        ({"domain_name": "ts"}, 3, "domain_name must be 3-28"),
        ({"domain_name": "1search"}, 3, "starting with a letter"),
        ({"domain_name": "a" * 29}, 3, "domain_name must be 3-28"),
        ({"domain_name": "tele_search"}, 3, "domain_name must be 3-28"),
        ({}, 1, "vpc_subnets must select 2 or 3 subnets, one per Availability Zone .*; got 1$"),
        ({}, 4, "vpc_subnets must select 2 or 3 subnets.*; got 4$"),
        ({"capacity": capacity(data_nodes=4)}, 3, r"data_nodes must be a multiple of the number of subnets \(3\).*; got 4$"),
        ({"capacity": capacity(data_nodes=3)}, 2, r"data_nodes must be a multiple of the number of subnets \(2\).*; got 3$"),
        ({"capacity": LARGE}, 2, "multi_az_with_standby needs 3 subnets in 3 AZs; got 2$"),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, 3, "removal_policy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY"),
    ],
)
def test_settings_opensearch_would_reject_fail_at_synth(kwargs, subnets, message) -> None:
    scope = stack()
    vpc, selection = imported_vpc(scope, subnets)
    settings = {"vpc": vpc, "vpc_subnets": selection, "capacity": SMALL, **kwargs}
    with pytest.raises(ValueError, match=rf"^SearchDomain: .*{message}"):
        SearchDomain(scope, "Search", **settings)


def test_two_subnets_give_a_two_az_domain_and_valid_names_are_kept() -> None:
    scope = stack()
    vpc, selection = imported_vpc(scope, 2)
    search = SearchDomain(scope, "Search", vpc=vpc, vpc_subnets=selection, capacity=capacity(data_nodes=4),
                          domain_name="abc")
    domain = Template.from_stack(scope).to_json()["Resources"][logical_id(search.domain)]["Properties"]
    assert domain["ClusterConfig"]["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 2}
    assert domain["VPCOptions"]["SubnetIds"] == ["subnet-00aaaaaaaaaaaaaaa", "subnet-01aaaaaaaaaaaaaaa"]
    assert domain["DomainName"] == "abc" and search.availability_zone_count == 2
