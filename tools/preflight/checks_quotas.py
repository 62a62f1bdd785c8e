"""Service quotas the environment would exceed: a deploy that fails on a quota fails late (the
VPC or the stream is created after other stacks), so count before deploying.

Quota codes (Service Quotas, ``aws service-quotas get-service-quota --service-code <s> --quota-code <q>``):

- ``vpc`` / ``L-F678F1CE``: VPCs per Region (default 5)
- ``vpc`` / ``L-29B6F2EB``: Interface VPC endpoints per VPC (default 50)
- ``vpc`` / ``L-FE5A380F``: NAT gateways per Availability Zone (default 5)
- ``ec2`` / ``L-0263D0A3``: EC2-VPC Elastic IPs (default 5)

They were taken from AWS's Service Quotas naming as used in public tooling and the VPC quota
page, not from a live account (none was available); a wrong code shows as a FAIL naming it.
Kinesis has its own read-only API for its limits (DescribeLimits).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from tools.preflight.context import PreflightContext
from tools.preflight.results import CheckResult, failed, passed, skipped


@dataclass(frozen=True)
class Quota:
    service: str
    code: str
    title: str


VPCS_PER_REGION = Quota("vpc", "L-F678F1CE", "VPCs per Region")
INTERFACE_ENDPOINTS_PER_VPC = Quota("vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC")
NAT_GATEWAYS_PER_AZ = Quota("vpc", "L-FE5A380F", "NAT gateways per Availability Zone")
ELASTIC_IPS = Quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")


def quota_value(ctx: PreflightContext, quota: Quota) -> int:
    """The account's applied value; AWS's default where none was ever applied."""
    client = ctx.client("service-quotas")
    try:
        value = client.get_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)["Quota"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchResourceException":
            raise
        value = client.get_aws_default_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)["Quota"]["Value"]
    return int(value)


def _increase(quota: Quota, region: str, needed: int) -> str:
    return (f"aws service-quotas request-service-quota-increase --region {region} --service-code {quota.service} "
            f"--quota-code {quota.code} --desired-value {needed}")


def check_kinesis_shards(ctx: PreflightContext) -> CheckResult:
    plan = ctx.plan
    limits = ctx.client("kinesis").describe_limits()
    deployed = ctx.deployed("ingestion")
    if plan.stream_capacity_mode == "on_demand":
        count, limit = limits["OnDemandStreamCount"], limits["OnDemandStreamCountLimit"]
        needed = count + (0 if deployed else 1)
        if needed > limit:
            return failed("kinesis-shards", f"on-demand streams: {count} of {limit} in use, the stream needs one more",
                          f"ask for a higher on-demand stream limit (AWS Support), or set ingestion.stream.capacity_mode "
                          f"provisioned in {plan.env_file}")
        state = "exists already" if deployed else "will be created"
        return passed("kinesis-shards", f"on-demand mode (scales by itself; the stream {state}): "
                                        f"{count} of {limit} on-demand streams in use")
    shards = plan.stream_shard_count or 0
    open_shards, limit = limits["OpenShardCount"], limits["ShardLimit"]
    needed = open_shards + (0 if deployed else shards)
    if needed > limit:
        return failed("kinesis-shards", f"{open_shards} of {limit} shards open; the stream needs {shards} more",
                      f"lower ingestion.stream.shard_count in {plan.env_file}, or ask for a higher shard limit (AWS Support)")
    return passed("kinesis-shards", f"{open_shards} of {limit} shards open, the stream needs "
                                    f"{'none more (it exists already)' if deployed else shards}")


def check_vpcs(ctx: PreflightContext) -> CheckResult:
    limit = quota_value(ctx, VPCS_PER_REGION)
    client = ctx.client("ec2")
    count, kwargs = 0, {"MaxResults": 1000}
    while True:
        page = client.describe_vpcs(**kwargs)
        count += len(page.get("Vpcs", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    needed = count + (0 if ctx.deployed("network") else 1)
    if needed > limit:
        return failed("vpcs-per-region", f"{count} of {limit} VPCs in use ({VPCS_PER_REGION.code}); the network stack needs one more",
                      _increase(VPCS_PER_REGION, ctx.plan.region, needed))
    return passed("vpcs-per-region", f"{count} of {limit} in use ({VPCS_PER_REGION.code}), {needed - count} more needed")


def check_interface_endpoints(ctx: PreflightContext) -> CheckResult:
    limit = quota_value(ctx, INTERFACE_ENDPOINTS_PER_VPC)
    wanted = len(ctx.plan.constants.interface_endpoints)
    if wanted > limit:
        return failed("interface-endpoints-per-vpc", f"the VPC needs {wanted} interface endpoints, the quota "
                                                     f"({INTERFACE_ENDPOINTS_PER_VPC.code}) is {limit}",
                      _increase(INTERFACE_ENDPOINTS_PER_VPC, ctx.plan.region, wanted))
    return passed("interface-endpoints-per-vpc", f"{wanted} needed ({', '.join(ctx.plan.constants.interface_endpoints)}), "
                                                 f"quota {limit} ({INTERFACE_ENDPOINTS_PER_VPC.code})")


def check_nat_and_elastic_ips(ctx: PreflightContext) -> CheckResult:
    nat = ctx.plan.nat_gateways
    if nat == 0:
        return skipped("nat-elastic-ips", f"network.nat_gateways is 0 in {ctx.plan.env_file}: no NAT gateway, no Elastic IP")
    per_az = quota_value(ctx, NAT_GATEWAYS_PER_AZ)
    if per_az < 1:
        return failed("nat-elastic-ips", f"NAT gateways per AZ quota ({NAT_GATEWAYS_PER_AZ.code}) is {per_az}",
                      _increase(NAT_GATEWAYS_PER_AZ, ctx.plan.region, 1))
    limit = quota_value(ctx, ELASTIC_IPS)
    in_use = len(ctx.client("ec2").describe_addresses().get("Addresses", []))
    needed = in_use + (0 if ctx.deployed("network") else nat)
    if needed > limit:
        return failed("nat-elastic-ips", f"{in_use} of {limit} Elastic IPs in use ({ELASTIC_IPS.code}); "
                                         f"{nat} NAT gateway(s) need {nat} more",
                      _increase(ELASTIC_IPS, ctx.plan.region, needed) + f", or lower network.nat_gateways in {ctx.plan.env_file}")
    return passed("nat-elastic-ips", f"{in_use} of {limit} Elastic IPs in use ({ELASTIC_IPS.code}), {needed - in_use} more needed; "
                                     f"NAT gateways per AZ {per_az} ({NAT_GATEWAYS_PER_AZ.code})")
