"""tools/preflight: every check on its pass and fail path with botocore's Stubber (no network),
the whole command through ``main`` with stubbed clients, the one-line answer without credentials
and ``--help`` in a subprocess, and the bootstrap version read from a real synthesised assembly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import load_config
from tests.tools.aws_stubs import ACCOUNT, REGION, StubbedClients
from tools.preflight import checks_access, checks_account, checks_quotas, checks_services
from tools.preflight.bootstrap import AssemblyError, BootstrapRequirement, read_requirement, toolkit_stack_name
from tools.preflight.cli import main
from tools.preflight.context import Caller, PreflightContext
from tools.preflight.plan import DeployPlan, ProjectConstants
from tools.preflight.runner import CHECKS, run_check, run_checks

ROOT = Path(__file__).resolve().parents[2]
CONSTANTS = ProjectConstants.from_code()
REQUIREMENT = BootstrapRequirement(version=6, ssm_parameter="/cdk-bootstrap/hnb659fds/version", stacks=("a",))
CALLER = Caller(account=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:user/deployer")
#: What the constructs decide (engine, runtime, layer, endpoints), so a CDK or construct upgrade
#: changes the expected lines with the code rather than breaking them.
ENGINE = CONSTANTS.opensearch_engine_version
RUNTIME = CONSTANTS.transform_runtime
ENDPOINTS = CONSTANTS.interface_endpoints
LAYER_ARN = (f"arn:aws:lambda:{REGION}:{CONSTANTS.powertools_layer_account}:layer:{CONSTANTS.powertools_layer_name}:"
             f"{load_config('dev').project.powertools_layer_version}")
NOW = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.timezone.utc)
NOT_FOUND_STACK = "Stack with id {} does not exist"


#: The plan the check tests use: fixed here, so that a change to config/environments/*.yaml does
#: not change what these tests expect (DeployPlan.from_config has its own test below).
TEST_PLAN = dict(
    search_instance_types=("r7g.large.search", "m7g.large.search"), redshift_node_type="ra3.xlplus",
    emr_release_label="emr-7.12.0", emr_instance_types=("m7g.xlarge", "r7g.xlarge"),
    lake_formation_admin_roles=("data-platform-admin",), persona_role_arns={}, config_account=None,
    emr_tls_certificates_s3_uri="s3://analytics-staging-emr-tls/certificates.zip", stream_capacity_mode="provisioned",
    stream_shard_count=1, nat_gateways=0,
)


def make_ctx(env: str = "staging", *, clients: StubbedClients | None = None, requirement=None, **plan_changes) -> PreflightContext:
    plan = dataclasses.replace(DeployPlan.from_config(load_config(env), REGION, CONSTANTS), **{**TEST_PLAN, **plan_changes})

    def bootstrap_requirement() -> BootstrapRequirement:
        if isinstance(requirement, Exception):
            raise requirement
        return requirement or REQUIREMENT

    return PreflightContext(plan=plan, clients=clients or StubbedClients(), caller=CALLER,
                            bootstrap_requirement=bootstrap_requirement)


def stack(name: str, status: str = "CREATE_COMPLETE", outputs: dict | None = None) -> dict:
    return {"Stacks": [{"StackName": name, "CreationTime": NOW, "StackStatus": status,
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()]}]}


def no_stack(clients: StubbedClients, name: str) -> None:
    clients.error("cloudformation", "describe_stacks", "ValidationError", NOT_FOUND_STACK.format(name), {"StackName": name})


def role(name: str) -> dict:
    return {"Role": {"Path": "/", "RoleName": name, "RoleId": "AROAEXAMPLEEXAMPLE123", "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                     "CreateDate": NOW}}


def quota(service: str, code: str, value: float) -> dict:
    return {"Quota": {"ServiceCode": service, "QuotaCode": code, "Value": value}}


def layer(runtimes: list[str]) -> dict:
    return {"LayerVersionArn": LAYER_ARN, "Version": 27, "CompatibleRuntimes": runtimes}


def check(name: str, ctx: PreflightContext) -> str:
    """Runs one check through the runner (as the command does) and returns its line."""
    return run_check(name, CHECKS[name], ctx).line()


# --- account -------------------------------------------------------------------------------


def test_account_passes_when_the_config_names_the_callers_account():
    ctx = make_ctx(config_account=ACCOUNT)
    assert check("account", ctx) == f"PASS account: {CALLER.arn} in account {ACCOUNT} (as configured), region {REGION}"


def test_account_without_config_account_uses_the_callers():
    ctx = make_ctx()
    assert check("account", ctx) == (
        f"PASS account: {CALLER.arn} in account {ACCOUNT} (`account` not set in config/environments/staging.yaml: "
        f"the credentials' account), region {REGION}"
    )


def test_account_fails_naming_the_environment_and_key_when_it_differs():
    ctx = make_ctx(config_account="999999999999")
    assert check("account", ctx) == (
        f"FAIL account: the credentials are for account {ACCOUNT} ({CALLER.arn}) but environment 'staging' deploys to "
        "999999999999 (`account` in config/environments/staging.yaml) -- fix: use credentials of account 999999999999 "
        "(AWS_PROFILE=<its profile>), or change `account` in config/environments/staging.yaml"
    )


def test_a_wrong_account_skips_every_other_check():
    ctx = make_ctx(config_account="999999999999")
    results = run_checks(ctx)
    assert [r.status.value for r in results] == ["FAIL"] + ["SKIP"] * (len(CHECKS) - 1)
    assert results[1].line() == "SKIP bootstrap: not checked: the credentials are for another account"
    ctx.clients.assert_done()


# --- bootstrap -----------------------------------------------------------------------------

BOOTSTRAP_FIX = f"fix: npx cdk bootstrap aws://{ACCOUNT}/{REGION} (with the pinned CLI: source .venv/bin/activate first)"


def test_bootstrap_passes_when_the_ssm_version_is_new_enough():
    clients = StubbedClients()
    clients.ok("cloudformation", "describe_stacks", stack("CDKToolkit", outputs={"BootstrapVersion": "30"}), {"StackName": "CDKToolkit"})
    clients.ok("ssm", "get_parameter", {"Parameter": {"Name": REQUIREMENT.ssm_parameter, "Value": "30"}},
               {"Name": REQUIREMENT.ssm_parameter})
    assert check("bootstrap", make_ctx(clients=clients)) == (
        "PASS bootstrap: CDKToolkit version 30 (templates require >= 6, qualifier hnb659fds)")


def test_bootstrap_fails_without_the_toolkit_stack():
    clients = StubbedClients()
    no_stack(clients, "CDKToolkit")
    assert check("bootstrap", make_ctx(clients=clients)) == (
        f"FAIL bootstrap: no bootstrap stack CDKToolkit in aws://{ACCOUNT}/{REGION} -- {BOOTSTRAP_FIX}")


def test_bootstrap_fails_when_older_than_the_templates_require():
    clients = StubbedClients()
    clients.ok("cloudformation", "describe_stacks", stack("CDKToolkit", outputs={"BootstrapVersion": "5"}))
    clients.ok("ssm", "get_parameter", {"Parameter": {"Name": REQUIREMENT.ssm_parameter, "Value": "5"}})
    assert check("bootstrap", make_ctx(clients=clients)) == (
        f"FAIL bootstrap: CDKToolkit is bootstrap version 5; the templates require 6 or newer -- {BOOTSTRAP_FIX}")


def test_bootstrap_fails_when_the_qualifiers_parameter_is_missing():
    clients = StubbedClients()
    clients.ok("cloudformation", "describe_stacks", stack("CDKToolkit"))
    clients.error("ssm", "get_parameter", "ParameterNotFound")
    assert check("bootstrap", make_ctx(clients=clients)) == (
        "FAIL bootstrap: CDKToolkit exists but /cdk-bootstrap/hnb659fds/version does not (bootstrapped with another "
        f"qualifier than hnb659fds?) -- {BOOTSTRAP_FIX}")


def test_bootstrap_fails_when_the_templates_cannot_be_synthesised():
    ctx = make_ctx(requirement=AssemblyError("synthesising staging failed: ValidationFailed"))
    assert check("bootstrap", ctx) == (
        "FAIL bootstrap: cannot tell which bootstrap version the templates need: synthesising staging failed: "
        "ValidationFailed -- fix: make synth ENV=staging and fix what it reports, or pass --assembly <cdk.out dir>")


def test_a_refused_call_is_that_checks_fail_with_the_permission_fix():
    clients = StubbedClients()
    clients.error("cloudformation", "describe_stacks", "AccessDenied", "not authorized to perform cloudformation:DescribeStacks",
                  http_status=403)
    assert check("bootstrap", make_ctx(clients=clients)) == (
        "FAIL bootstrap: AWS refused DescribeStacks: AccessDenied: not authorized to perform cloudformation:DescribeStacks "
        "-- fix: run with credentials allowed to read it (for example the ReadOnlyAccess managed policy)")


# --- region offers -------------------------------------------------------------------------


def test_powertools_layer_and_runtime_pass():
    clients = StubbedClients()
    clients.ok("lambda", "get_layer_version_by_arn", layer([RUNTIME]), {"Arn": LAYER_ARN})
    clients.ok("lambda", "get_layer_version_by_arn", layer([RUNTIME]), {"Arn": LAYER_ARN})
    ctx = make_ctx(clients=clients)
    assert check("powertools-layer", ctx) == f"PASS powertools-layer: {LAYER_ARN} exists"
    assert check("lambda-runtime", ctx) == (
        f"PASS lambda-runtime: {RUNTIME} (the Powertools layer in {REGION} is built for it)")


def test_powertools_layer_missing_fails_and_the_runtime_is_skipped():
    clients = StubbedClients()
    clients.error("lambda", "get_layer_version_by_arn", "ResourceNotFoundException", http_status=404)
    clients.error("lambda", "get_layer_version_by_arn", "ResourceNotFoundException", http_status=404)
    ctx = make_ctx(clients=clients)
    assert check("powertools-layer", ctx) == (
        f"FAIL powertools-layer: {LAYER_ARN} does not exist in {REGION} (or is not readable) -- fix: set "
        "powertools_layer_version in config/project.yaml to a version published there (aws lambda "
        f"get-layer-version-by-arn --region {REGION} --arn <arn with another version>)")
    assert check("lambda-runtime", ctx) == (
        f"SKIP lambda-runtime: {RUNTIME}: cannot tell without the Powertools layer (see powertools-layer)")


def test_lambda_runtime_fails_when_the_layer_is_built_for_other_runtimes():
    clients = StubbedClients()
    clients.ok("lambda", "get_layer_version_by_arn", layer(["python3.12", "python3.13"]))
    assert check("lambda-runtime", make_ctx(clients=clients)) == (
        f"FAIL lambda-runtime: the Powertools layer in {REGION} is built for python3.12, python3.13, not {RUNTIME} "
        f"(the transform's runtime) -- fix: pick a powertools_layer_version in config/project.yaml built for {RUNTIME}, "
        f"or deploy to a region that offers {RUNTIME}")


def test_opensearch_engine_pages_through_the_versions():
    clients = StubbedClients()
    clients.ok("opensearch", "list_versions", {"Versions": ["OpenSearch_2.19"], "NextToken": "t"}, {"MaxResults": 100})
    clients.ok("opensearch", "list_versions", {"Versions": [ENGINE]}, {"MaxResults": 100, "NextToken": "t"})
    assert check("opensearch-engine", make_ctx(clients=clients)) == f"PASS opensearch-engine: {ENGINE} is offered"


def test_opensearch_engine_fails_when_not_offered():
    clients = StubbedClients()
    clients.ok("opensearch", "list_versions", {"Versions": ["OpenSearch_2.19", "Elasticsearch_7.10"]})
    assert check("opensearch-engine", make_ctx(clients=clients)) == (
        f"FAIL opensearch-engine: {ENGINE} is not offered in {REGION} -- fix: deploy to a region that offers it, "
        "or pass another engine_version to SearchDomain (constructs_lib/search/search_domain.py DEFAULT_ENGINE_VERSION)")


def _instance_type_details(clients: StubbedClients, instance_type: str, offered: bool) -> None:
    details = [{"InstanceType": instance_type, "EncryptionEnabled": True}] if offered else []
    clients.ok("opensearch", "list_instance_type_details", {"InstanceTypeDetails": details},
               {"EngineVersion": ENGINE, "InstanceType": instance_type})


def test_opensearch_instance_types_pass_for_data_and_master_nodes():
    clients = StubbedClients()
    _instance_type_details(clients, "r7g.large.search", True)
    _instance_type_details(clients, "m7g.large.search", True)
    assert check("opensearch-instance-types", make_ctx(clients=clients)) == (
        f"PASS opensearch-instance-types: r7g.large.search, m7g.large.search offered for {ENGINE}")


def test_opensearch_instance_types_fail_naming_the_missing_one():
    clients = StubbedClients()
    _instance_type_details(clients, "r7g.large.search", True)
    _instance_type_details(clients, "m7g.large.search", False)
    assert check("opensearch-instance-types", make_ctx(clients=clients)) == (
        f"FAIL opensearch-instance-types: m7g.large.search not offered for {ENGINE} in {REGION} -- fix: change "
        "search.data_node_instance_type / search.master_node_instance_type in config/environments/staging.yaml")


def test_redshift_node_type_pass_and_fail():
    clients = StubbedClients()
    option = {"ClusterVersion": "1.0", "ClusterType": "multi-node", "NodeType": "ra3.xlplus",
              "AvailabilityZones": [{"Name": f"{REGION}a"}]}
    clients.ok("redshift", "describe_orderable_cluster_options", {"OrderableClusterOptions": [option]},
               {"NodeType": "ra3.xlplus", "MaxRecords": 20})
    clients.ok("redshift", "describe_orderable_cluster_options", {"OrderableClusterOptions": []})
    ctx = make_ctx(clients=clients)
    assert check("redshift-node-type", ctx) == "PASS redshift-node-type: ra3.xlplus can be ordered"
    assert check("redshift-node-type", ctx) == (
        f"FAIL redshift-node-type: ra3.xlplus cannot be ordered in {REGION} -- fix: change redshift.node_type in "
        "config/environments/staging.yaml")


def test_emr_release_pass_and_fail():
    clients = StubbedClients()
    clients.ok("emr", "list_release_labels", {"ReleaseLabels": ["emr-7.12.0"]},
               {"Filters": {"Prefix": "emr-7.12.0"}, "MaxResults": 100})
    clients.ok("emr", "list_release_labels", {"ReleaseLabels": []})
    ctx = make_ctx(clients=clients)
    assert check("emr-release", ctx) == "PASS emr-release: emr-7.12.0 is offered"
    assert check("emr-release", ctx) == (
        f"FAIL emr-release: emr-7.12.0 is not offered in {REGION} -- fix: change emr.release_label in "
        f"config/environments/staging.yaml (aws emr list-release-labels --region {REGION})")


def test_emr_instance_types_page_and_pass():
    clients = StubbedClients()
    clients.ok("emr", "list_supported_instance_types", {"SupportedInstanceTypes": [{"Type": "m7g.xlarge"}], "Marker": "m"},
               {"ReleaseLabel": "emr-7.12.0"})
    clients.ok("emr", "list_supported_instance_types", {"SupportedInstanceTypes": [{"Type": "r7g.xlarge"}]},
               {"ReleaseLabel": "emr-7.12.0", "Marker": "m"})
    assert check("emr-instance-types", make_ctx(clients=clients)) == (
        "PASS emr-instance-types: m7g.xlarge, r7g.xlarge supported by emr-7.12.0")


def test_emr_instance_types_fail_naming_the_unsupported_one():
    clients = StubbedClients()
    clients.ok("emr", "list_supported_instance_types", {"SupportedInstanceTypes": [{"Type": "m7g.xlarge"}]})
    assert check("emr-instance-types", make_ctx(clients=clients)) == (
        f"FAIL emr-instance-types: r7g.xlarge not supported by emr-7.12.0 in {REGION} -- fix: change "
        "emr.primary_instance_type / core_instance_type / task_instance_type in config/environments/staging.yaml")


# --- roles and certificates ----------------------------------------------------------------


def test_opensearch_service_linked_role_pass_and_fail():
    clients = StubbedClients()
    name = "AWSServiceRoleForAmazonOpenSearchService"
    clients.ok("iam", "get_role", role(name), {"RoleName": name})
    clients.error("iam", "get_role", "NoSuchEntity", http_status=404)
    ctx = make_ctx(clients=clients)
    assert check("opensearch-service-linked-role", ctx) == f"PASS opensearch-service-linked-role: {name} exists"
    assert check("opensearch-service-linked-role", ctx) == (
        f"FAIL opensearch-service-linked-role: {name} does not exist in account {ACCOUNT} -- fix: aws iam "
        "create-service-linked-role --aws-service-name opensearchservice.amazonaws.com")


def test_lake_formation_admins_pass_fail_and_skip():
    clients = StubbedClients()
    clients.ok("iam", "get_role", role("data-platform-admin"), {"RoleName": "data-platform-admin"})
    clients.error("iam", "get_role", "NoSuchEntity", http_status=404)
    ctx = make_ctx(clients=clients)
    assert check("lake-formation-admins", ctx) == "PASS lake-formation-admins: data-platform-admin exist"
    assert check("lake-formation-admins", ctx) == (
        f"FAIL lake-formation-admins: role(s) data-platform-admin do not exist in account {ACCOUNT} -- fix: create them "
        "(aws iam create-role --role-name <name> ...) or remove them from baseline.lake_formation_admin_roles in "
        "config/project.yaml")
    assert check("lake-formation-admins", make_ctx(lake_formation_admin_roles=())) == (
        "SKIP lake-formation-admins: baseline.lake_formation_admin_roles is empty in config/project.yaml")


def test_persona_roles_skip_when_created_by_the_stack():
    assert check("persona-roles", make_ctx()) == (
        "SKIP persona-roles: no governance.*.role_arn set: the catalog stack creates the persona roles")


def test_persona_roles_pass_and_fail_for_imported_roles():
    arn = f"arn:aws:iam::{ACCOUNT}:role/teams/bi-analyst"
    clients = StubbedClients()
    clients.ok("iam", "get_role", role("bi-analyst"), {"RoleName": "bi-analyst"})
    clients.error("iam", "get_role", "NoSuchEntity", http_status=404)
    ctx = make_ctx(clients=clients, persona_role_arns={"analyst": arn})
    assert check("persona-roles", ctx) == f"PASS persona-roles: analyst {arn} exist"
    assert check("persona-roles", ctx) == (
        f"FAIL persona-roles: governance.analyst.role_arn {arn} does not exist -- fix: create the role(s), or fix or "
        "remove governance.<persona>.role_arn in config/environments/staging.yaml")
    other = "arn:aws:iam::999999999999:role/bi"
    assert check("persona-roles", make_ctx(persona_role_arns={"restricted_analyst": other})) == (
        f"FAIL persona-roles: governance.restricted_analyst.role_arn is in account 999999999999, not {ACCOUNT} -- fix: "
        "create the role(s), or fix or remove governance.<persona>.role_arn in config/environments/staging.yaml")


def test_emr_certificates_pass_missing_forbidden_and_skip():
    clients = StubbedClients()
    params = {"Bucket": "analytics-staging-emr-tls", "Key": "certificates.zip"}
    clients.ok("s3", "head_object", {"ContentLength": 2048}, params)
    clients.error("s3", "head_object", "404", "Not Found", params, http_status=404)
    clients.error("s3", "head_object", "403", "Forbidden", params, http_status=403)
    ctx = make_ctx(clients=clients)
    uri = "s3://analytics-staging-emr-tls/certificates.zip"
    assert check("emr-certificates", ctx) == f"PASS emr-certificates: {uri} exists"
    assert check("emr-certificates", ctx) == (
        f"FAIL emr-certificates: {uri} does not exist -- fix: aws s3 cp <your PEM zip> {uri} (see README \"EMR "
        "certificates\"), or change emr.tls_certificates_s3_uri in config/environments/staging.yaml")
    assert check("emr-certificates", ctx) == (
        f"FAIL emr-certificates: {uri} is not readable with these credentials (403) -- fix: check the bucket policy and "
        f"key of {uri}; the EMR instance role must read it too")
    assert check("emr-certificates", make_ctx("dev", emr_tls_certificates_s3_uri=None)) == (
        "SKIP emr-certificates: emr.tls_certificates_s3_uri is not set in config/environments/dev.yaml")


# --- quotas --------------------------------------------------------------------------------


def _limits(shard_limit=200, open_shards=10, on_demand=3, on_demand_limit=50) -> dict:
    return {"ShardLimit": shard_limit, "OpenShardCount": open_shards, "OnDemandStreamCount": on_demand,
            "OnDemandStreamCountLimit": on_demand_limit}


def test_kinesis_provisioned_shards_pass_and_fail():
    clients = StubbedClients()
    clients.ok("kinesis", "describe_limits", _limits(shard_limit=11, open_shards=10))
    no_stack(clients, "analytics-staging-ingestion")
    assert check("kinesis-shards", make_ctx(clients=clients)) == (
        "PASS kinesis-shards: 10 of 11 shards open, the stream needs 1")
    clients = StubbedClients()
    clients.ok("kinesis", "describe_limits", _limits(shard_limit=10, open_shards=10))
    no_stack(clients, "analytics-staging-ingestion")
    assert check("kinesis-shards", make_ctx(clients=clients)) == (
        "FAIL kinesis-shards: 10 of 10 shards open; the stream needs 1 more -- fix: lower ingestion.stream.shard_count in "
        "config/environments/staging.yaml, or ask for a higher shard limit (AWS Support)")


def test_kinesis_shards_of_a_deployed_stream_are_already_counted():
    clients = StubbedClients()
    clients.ok("kinesis", "describe_limits", _limits(shard_limit=10, open_shards=10))
    clients.ok("cloudformation", "describe_stacks", stack("analytics-staging-ingestion", "UPDATE_COMPLETE"))
    assert check("kinesis-shards", make_ctx(clients=clients)) == (
        "PASS kinesis-shards: 10 of 10 shards open, the stream needs none more (it exists already)")


def test_kinesis_on_demand_pass_and_fail():
    clients = StubbedClients()
    clients.ok("kinesis", "describe_limits", _limits(on_demand=3, on_demand_limit=50))
    no_stack(clients, "analytics-dev-ingestion")
    assert check("kinesis-shards", make_ctx("dev", clients=clients, stream_capacity_mode="on_demand", stream_shard_count=None)) == (
        "PASS kinesis-shards: on-demand mode (scales by itself; the stream will be created): 3 of 50 on-demand streams in use")
    clients = StubbedClients()
    clients.ok("kinesis", "describe_limits", _limits(on_demand=50, on_demand_limit=50))
    no_stack(clients, "analytics-dev-ingestion")
    assert check("kinesis-shards", make_ctx("dev", clients=clients, stream_capacity_mode="on_demand", stream_shard_count=None)) == (
        "FAIL kinesis-shards: on-demand streams: 50 of 50 in use, the stream needs one more -- fix: ask for a higher "
        "on-demand stream limit (AWS Support), or set ingestion.stream.capacity_mode provisioned in "
        "config/environments/dev.yaml")


def _vpcs(count: int) -> dict:
    return {"Vpcs": [{"VpcId": f"vpc-{n:08d}", "CidrBlock": "10.0.0.0/16", "State": "available"} for n in range(count)]}


def test_vpcs_per_region_pass_and_fail():
    clients = StubbedClients()
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-F678F1CE", 5.0),
               {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"})
    clients.ok("ec2", "describe_vpcs", _vpcs(4), {"MaxResults": 1000})
    no_stack(clients, "analytics-staging-network")
    assert check("vpcs-per-region", make_ctx(clients=clients)) == (
        "PASS vpcs-per-region: 4 of 5 in use (L-F678F1CE), 1 more needed")
    clients = StubbedClients()
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-F678F1CE", 5.0))
    clients.ok("ec2", "describe_vpcs", _vpcs(5))
    no_stack(clients, "analytics-staging-network")
    assert check("vpcs-per-region", make_ctx(clients=clients)) == (
        "FAIL vpcs-per-region: 5 of 5 VPCs in use (L-F678F1CE); the network stack needs one more -- fix: aws "
        f"service-quotas request-service-quota-increase --region {REGION} --service-code vpc --quota-code L-F678F1CE "
        "--desired-value 6")


def test_quota_falls_back_to_the_aws_default_when_none_is_applied():
    clients = StubbedClients()
    clients.error("service-quotas", "get_service_quota", "NoSuchResourceException")
    clients.ok("service-quotas", "get_aws_default_service_quota", quota("vpc", "L-29B6F2EB", 50.0),
               {"ServiceCode": "vpc", "QuotaCode": "L-29B6F2EB"})
    assert check("interface-endpoints-per-vpc", make_ctx(clients=clients)) == (
        f"PASS interface-endpoints-per-vpc: {len(ENDPOINTS)} needed ({', '.join(ENDPOINTS)}), quota 50 (L-29B6F2EB)")


def test_interface_endpoints_fail_when_the_quota_is_lower():
    clients = StubbedClients()
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-29B6F2EB", len(ENDPOINTS) - 1.0))
    assert check("interface-endpoints-per-vpc", make_ctx(clients=clients)) == (
        f"FAIL interface-endpoints-per-vpc: the VPC needs {len(ENDPOINTS)} interface endpoints, the quota (L-29B6F2EB) is "
        f"{len(ENDPOINTS) - 1} -- fix: aws service-quotas request-service-quota-increase --region {REGION} --service-code vpc "
        f"--quota-code L-29B6F2EB --desired-value {len(ENDPOINTS)}")


def test_nat_and_elastic_ips_skip_without_nat_gateways():
    assert check("nat-elastic-ips", make_ctx()) == (
        "SKIP nat-elastic-ips: network.nat_gateways is 0 in config/environments/staging.yaml: no NAT gateway, no Elastic IP")


def _addresses(count: int) -> dict:
    return {"Addresses": [{"PublicIp": f"203.0.113.{n}", "AllocationId": f"eipalloc-{n}", "Domain": "vpc"} for n in range(count)]}


def test_nat_and_elastic_ips_pass_and_fail():
    clients = StubbedClients()
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-FE5A380F", 5.0), {"ServiceCode": "vpc", "QuotaCode": "L-FE5A380F"})
    clients.ok("service-quotas", "get_service_quota", quota("ec2", "L-0263D0A3", 5.0), {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"})
    clients.ok("ec2", "describe_addresses", _addresses(3))
    no_stack(clients, "analytics-staging-network")
    assert check("nat-elastic-ips", make_ctx(clients=clients, nat_gateways=2)) == (
        "PASS nat-elastic-ips: 3 of 5 Elastic IPs in use (L-0263D0A3), 2 more needed; NAT gateways per AZ 5 (L-FE5A380F)")
    clients = StubbedClients()
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-FE5A380F", 5.0))
    clients.ok("service-quotas", "get_service_quota", quota("ec2", "L-0263D0A3", 5.0))
    clients.ok("ec2", "describe_addresses", _addresses(4))
    no_stack(clients, "analytics-staging-network")
    assert check("nat-elastic-ips", make_ctx(clients=clients, nat_gateways=2)) == (
        "FAIL nat-elastic-ips: 4 of 5 Elastic IPs in use (L-0263D0A3); 2 NAT gateway(s) need 2 more -- fix: aws "
        f"service-quotas request-service-quota-increase --region {REGION} --service-code ec2 --quota-code L-0263D0A3 "
        "--desired-value 6, or lower network.nat_gateways in config/environments/staging.yaml")


# --- bootstrap requirement from an assembly ------------------------------------------------


def test_the_required_bootstrap_version_is_read_from_a_real_synthesised_assembly(synthesised):
    """Not a guess: the manifest's requirement must equal what the templates' CheckBootstrapVersion
    rule refuses (versions 1..N-1 listed, so N is required)."""
    dev = synthesised("dev")
    requirement = read_requirement(dev.outdir)
    template = dev.template("analytics-dev-ingestion")
    refused = template["Rules"]["CheckBootstrapVersion"]["Assertions"][0]["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
    assert requirement.version == max(int(v) for v in refused) + 1
    assert requirement.ssm_parameter == template["Parameters"]["BootstrapVersion"]["Default"]
    assert set(requirement.stacks) == set(dev.stack_names())


def _manifest(tmp_path: Path, artifacts: dict) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return tmp_path


def test_read_requirement_takes_the_highest_version_and_rejects_mixed_qualifiers(tmp_path):
    stack_props = {"requiresBootstrapStackVersion": 6, "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/abc/version"}
    assets_props = {"requiresBootstrapStackVersion": 8, "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/abc/version"}
    found = read_requirement(_manifest(tmp_path, {
        "s": {"type": "aws:cloudformation:stack", "properties": stack_props},
        "s.assets": {"type": "cdk:asset-manifest", "properties": assets_props},
        "Tree": {"type": "cdk:tree"},
    }))
    assert (found.version, found.qualifier, found.stacks) == (8, "abc", ("s",))
    mixed = dict(stack_props, bootstrapStackVersionSsmParameter="/cdk-bootstrap/xyz/version")
    _manifest(tmp_path, {"a": {"type": "aws:cloudformation:stack", "properties": stack_props},
                         "b": {"type": "aws:cloudformation:stack", "properties": mixed}})
    with pytest.raises(AssemblyError, match="different bootstrap qualifiers"):
        read_requirement(tmp_path)
    with pytest.raises(AssemblyError, match="cannot read"):
        read_requirement(tmp_path / "missing")


def test_toolkit_stack_name_follows_cdk_json(tmp_path):
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "toolkitStackName": "TeamToolkit"}))
    assert toolkit_stack_name(tmp_path / "cdk.json") == "TeamToolkit"
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x"}))
    assert toolkit_stack_name(tmp_path / "cdk.json") == "CDKToolkit"
    assert toolkit_stack_name(ROOT / "cdk.json") == "CDKToolkit"


# --- the command ---------------------------------------------------------------------------


def test_the_plan_follows_the_config():
    """Every plan field comes from its config key; the task type only when task nodes are allowed."""
    config = load_config("staging")
    env = config.environment
    plan = DeployPlan.from_config(config, REGION, CONSTANTS)
    assert plan.redshift_node_type == env.redshift.node_type
    assert plan.emr_release_label == env.emr.release_label
    assert plan.search_instance_types == tuple(dict.fromkeys(
        t for t in (env.search.data_node_instance_type, env.search.master_node_instance_type) if t))
    assert plan.emr_instance_types == tuple(dict.fromkeys(
        (env.emr.primary_instance_type, env.emr.core_instance_type) + ((env.emr.task_instance_type,) if env.emr.max_task_instances else ())))
    assert (plan.stream_capacity_mode, plan.stream_shard_count) == (env.ingestion.stream.capacity_mode, env.ingestion.stream.shard_count)
    assert plan.lake_formation_admin_roles == config.project.baseline.lake_formation_admin_roles
    assert plan.emr_tls_certificates_s3_uri == env.emr.tls_certificates_s3_uri
    assert plan.stack_name("ingestion") == f"{env.project}-staging-ingestion"
    no_tasks = config.model_copy(update={"environment": env.model_copy(update={"emr": env.emr.model_copy(update={"max_task_instances": 0})})})
    assert DeployPlan.from_config(no_tasks, REGION, CONSTANTS).emr_instance_types == tuple(dict.fromkeys(
        (env.emr.primary_instance_type, env.emr.core_instance_type)))
    imported = f"arn:aws:iam::{ACCOUNT}:role/bi"
    governance = env.governance.model_copy(update={"analyst": env.governance.analyst.model_copy(update={"role_arn": imported})})
    with_persona = config.model_copy(update={"environment": env.model_copy(update={"governance": governance})})
    assert DeployPlan.from_config(with_persona, REGION, CONSTANTS).persona_role_arns == {"analyst": imported}


def _stub_a_passing_dev_account(clients: StubbedClients) -> None:
    dev = DeployPlan.from_config(load_config("dev"), REGION, CONSTANTS)
    clients.ok("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": CALLER.arn, "UserId": "AIDAEXAMPLE"})
    clients.ok("cloudformation", "describe_stacks", stack("CDKToolkit", outputs={"BootstrapVersion": "30"}), {"StackName": "CDKToolkit"})
    clients.ok("ssm", "get_parameter", {"Parameter": {"Name": "/cdk-bootstrap/hnb659fds/version", "Value": "30"}})
    clients.ok("lambda", "get_layer_version_by_arn", layer([RUNTIME]))
    clients.ok("lambda", "get_layer_version_by_arn", layer([RUNTIME]))
    clients.ok("opensearch", "list_versions", {"Versions": [ENGINE]})
    for instance_type in dev.search_instance_types:
        _instance_type_details(clients, instance_type, True)
    clients.ok("redshift", "describe_orderable_cluster_options", {"OrderableClusterOptions": [{"NodeType": dev.redshift_node_type}]})
    clients.ok("emr", "list_release_labels", {"ReleaseLabels": [dev.emr_release_label]})
    clients.ok("emr", "list_supported_instance_types", {"SupportedInstanceTypes": [{"Type": t} for t in dev.emr_instance_types]})
    clients.ok("iam", "get_role", role("AWSServiceRoleForAmazonOpenSearchService"))
    for name in dev.lake_formation_admin_roles:
        clients.ok("iam", "get_role", role(name))
    clients.ok("kinesis", "describe_limits", _limits())
    no_stack(clients, "analytics-dev-ingestion")
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-F678F1CE", 5.0))
    clients.ok("ec2", "describe_vpcs", _vpcs(1))
    no_stack(clients, "analytics-dev-network")
    clients.ok("service-quotas", "get_service_quota", quota("vpc", "L-29B6F2EB", 50.0))


def test_main_prints_one_line_per_check_and_exits_0_when_nothing_fails(tmp_path):
    assembly = _manifest(tmp_path, {"analytics-dev-foundation": {"type": "aws:cloudformation:stack", "properties": {
        "requiresBootstrapStackVersion": 6, "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version"}}})
    clients = StubbedClients()
    _stub_a_passing_dev_account(clients)
    out = io.StringIO()
    code = main(["--env", "dev", "--assembly", str(assembly)], session=clients.session, clients=clients,
                environ={"AWS_REGION": REGION}, stdout=out)
    lines = out.getvalue().splitlines()
    assert code == 0
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"{'SKIP' if name in ('persona-roles', 'emr-certificates', 'nat-elastic-ips') else 'PASS'} {name}" for name in CHECKS
    ]
    assert lines[0] == (f"PASS account: {CALLER.arn} in account {ACCOUNT} (`account` not set in config/environments/dev.yaml: "
                        f"the credentials' account), region {REGION}")
    assert lines[-1] == "preflight dev: ok (14 pass, 3 skip)"
    clients.assert_done()


def test_main_exits_1_on_any_fail_and_says_so_last(tmp_path):
    assembly = _manifest(tmp_path, {"s": {"type": "aws:cloudformation:stack", "properties": {
        "requiresBootstrapStackVersion": 31, "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version"}}})
    clients = StubbedClients()
    _stub_a_passing_dev_account(clients)
    out = io.StringIO()
    code = main(["--env", "dev", "--assembly", str(assembly)], session=clients.session, clients=clients,
                environ={"AWS_REGION": REGION}, stdout=out)
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[1] == f"FAIL bootstrap: CDKToolkit is bootstrap version 30; the templates require 31 or newer -- {BOOTSTRAP_FIX}"
    assert lines[-1] == "preflight dev: FAILED (13 pass, 3 skip, 1 fail)"


def test_main_reports_refused_credentials_in_one_line():
    clients = StubbedClients()
    clients.error("sts", "get_caller_identity", "ExpiredToken", "The security token included in the request is expired")
    out = io.StringIO()
    code = main(["--env", "dev"], session=clients.session, clients=clients, environ={"AWS_REGION": REGION}, stdout=out)
    assert (code, out.getvalue()) == (
        1, "FAIL credentials: AWS refused them (ExpiredToken): refresh them (aws sso login, or new keys)\n")


def test_main_without_a_region_says_where_to_set_it():
    clients = StubbedClients()
    clients.session = type("NoRegion", (), {"region_name": None})()
    out = io.StringIO()
    code = main(["--env", "dev"], session=clients.session, clients=clients, environ={}, stdout=out)
    assert (code, out.getvalue()) == (
        1, "FAIL region: no region for environment 'dev': set `region` (with `account`) in config/environments/dev.yaml, "
           "or AWS_REGION\n")


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true", AWS_REGION=REGION)
    return env


def test_without_credentials_it_prints_one_line_and_exits_1(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.preflight", "--env", "prod"], cwd=ROOT, env=_offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == (
        "FAIL credentials: no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`), or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile\n")


def test_help_works_offline(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.preflight", "--help"], cwd=ROOT, env=_offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: python -m tools.preflight")
    assert "--assembly DIR" in done.stdout and "exit 1 on any FAIL" in " ".join(done.stdout.split())


def test_a_synth_that_fails_is_reported_with_its_last_line_and_leaves_no_directory(tmp_path, monkeypatch):
    import tempfile

    from tools.preflight.bootstrap import requirement_of

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(AssemblyError, match=r"^synthesising nosuch failed: .*Unknown environment 'nosuch'"):
        requirement_of("nosuch", None)
    assert list(tmp_path.iterdir()) == []


def test_requirement_of_an_existing_assembly_does_not_synthesise(tmp_path):
    from tools.preflight.bootstrap import requirement_of

    _manifest(tmp_path, {"s": {"type": "aws:cloudformation:stack", "properties": {
        "requiresBootstrapStackVersion": 6, "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version"}}})
    assert requirement_of("dev", tmp_path) == BootstrapRequirement(6, "/cdk-bootstrap/hnb659fds/version", ("s",))
    assert (tmp_path / "manifest.json").exists()
