"""The EMR stack as the app builds it: config reaches the cluster, it runs in one data subnet,
reads raw and curated, writes only under emr/ of the analytics bucket, and prod protects it."""

from __future__ import annotations

import json

import pytest

from config import load_config
from tests.synth import ENVIRONMENTS
from tests.unit.stacks.templates import only, resources


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request, synthesised):
    name = request.param
    return name, synthesised(name).template(f"analytics-{name}-emr"), load_config(name).environment


def foundation_objects(name: str, output: str, pattern: str) -> dict:
    return {"Fn::Join": ["", [{"Fn::GetStackOutput": {"StackName": f"analytics-{name}-foundation", "Region": {"Ref": "AWS::Region"}, "OutputName": output}}, pattern]]}


def test_config_sets_release_applications_capacity_and_idle_timeout(env) -> None:
    _, template, config = env
    emr = config.emr
    props = only(template, "AWS::EMR::Cluster")["Properties"]
    assert props["ReleaseLabel"] == emr.release_label
    assert [a["Name"] for a in props["Applications"]] == ["Spark", "Hive", *emr.extra_applications]
    instances = props["Instances"]
    assert instances["MasterInstanceGroup"]["InstanceType"] == emr.primary_instance_type
    assert instances["CoreInstanceGroup"]["InstanceType"] == emr.core_instance_type
    assert instances["CoreInstanceGroup"]["InstanceCount"] == emr.core_instances
    assert instances["CoreInstanceGroup"]["Market"] == "ON_DEMAND"
    limits = props["ManagedScalingPolicy"]["ComputeLimits"]
    assert limits["MaximumCapacityUnits"] == emr.max_core_instances + emr.max_task_instances
    assert limits["MaximumOnDemandCapacityUnits"] == emr.max_core_instances
    assert props["AutoTerminationPolicy"]["IdleTimeout"] == emr.idle_timeout_minutes * 60


def test_the_cluster_runs_in_one_data_subnet_of_the_network(env) -> None:
    name, template, _ = env
    subnet = only(template, "AWS::EMR::Cluster")["Properties"]["Instances"]["Ec2SubnetId"]
    assert subnet["Fn::GetStackOutput"]["StackName"] == f"analytics-{name}-network"
    assert "DataSubnet1" in subnet["Fn::GetStackOutput"]["OutputName"]


def test_prod_is_protected_and_retained(env) -> None:
    name, template, config = env
    cluster = only(template, "AWS::EMR::Cluster")
    assert cluster["Properties"]["Instances"]["TerminationProtected"] is (name == "prod")
    assert cluster["DeletionPolicy"] == ("Delete" if config.destroys_data_on_delete else "Retain")


def test_in_transit_encryption_and_kerberos_follow_the_config(env) -> None:
    _, template, config = env
    security = only(template, "AWS::EMR::SecurityConfiguration")["Properties"]["SecurityConfiguration"]
    security = json.loads(security) if isinstance(security, str) else security
    assert security["EncryptionConfiguration"]["EnableInTransitEncryption"] is (config.emr.tls_certificates_s3_uri is not None)
    assert security["EncryptionConfiguration"]["EnableAtRestEncryption"] is True
    assert ("AuthenticationConfiguration" in security) is (config.emr.kerberos is not None)


def test_the_instance_role_writes_only_under_emr_of_the_analytics_bucket(env) -> None:
    name, template, config = env
    (policy,) = [r for k, r in resources(template, "AWS::IAM::Policy").items() if k.startswith("EmrInstanceRoleDefaultPolicy")]
    writes = [
        s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutObject" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert sorted(map(json.dumps, writes)) == sorted(map(json.dumps, [
        foundation_objects(name, "PublishOutputFnGetAttDataLakeAnalyticsBucket218960F6ArnC099383B", "/emr/*"),
        foundation_objects(name, "PublishOutputFnGetAttDataLakeAccessLogsBucket7B54C271Arn071F6FFB", "/emr-logs/*"),
    ]))
    reads = [
        resource
        for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "s3:GetObject"
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    expected = [
        foundation_objects(name, "PublishOutputFnGetAttDataLakeRawBucket881B694BArnAF96B5B0", "/telemetry/*"),
        foundation_objects(name, "PublishOutputFnGetAttDataLakeCuratedBucketFF1C9EA8Arn75DFFC01", "/telemetry/*"),
    ]
    uri = config.emr.tls_certificates_s3_uri
    if uri is not None:  # the one certificate object, nothing else of that bucket
        expected.append({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{uri.removeprefix('s3://')}"]]})
    assert sorted(map(json.dumps, reads)) == sorted(map(json.dumps, expected))


def test_spark_reads_the_curated_iceberg_tables_through_the_jobs_glue_catalog(env) -> None:
    """iceberg-defaults for Spark and Hive, and a glue_catalog whose settings are exactly the Glue job's
    --conf (curated_table.glue_spark_conf) with the same warehouse: both engines see one catalog."""
    from glue_scripts.curated_table import glue_spark_conf

    name, template, _ = env
    configurations = {c["Classification"]: c["ConfigurationProperties"] for c in only(template, "AWS::EMR::Cluster")["Properties"]["Configurations"]}
    assert configurations["iceberg-defaults"] == {"iceberg.enabled": "true"}
    curated = {"Fn::GetStackOutput": {"StackName": f"analytics-{name}-foundation", "Region": {"Ref": "AWS::Region"},
                                      "OutputName": "PublishOutputRefDataLakeCuratedBucketFF1C9EA8758FBCF9"}}
    expected = glue_spark_conf("WAREHOUSE")
    assert set(configurations["spark-defaults"]) == set(expected)
    for key, value in expected.items():
        if value == "WAREHOUSE":
            assert configurations["spark-defaults"][key] == {"Fn::Join": ["", ["s3://", curated, "/telemetry/iceberg/"]]}
        else:
            assert configurations["spark-defaults"][key] == value, key
    assert {c: p.get("hive.metastore.client.factory.class") for c, p in configurations.items() if c.endswith("hive-site")} == {
        "hive-site": "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory",
        "spark-hive-site": "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory",
    }
