"""Stages ``send``, ``raw`` and ``search``: the readings go in, and are looked for where Firehose
puts them."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

from scripts import simulate_devices as sim
from tools.smoke.context import SmokeContext, StageFailed, event_instant
from tools.smoke.waiting import wait_for

#: The one definition of a reading (lambda_src/telemetry_contract.py), as the simulator imports it
#: (it puts the Lambda asset root on sys.path first).
telemetry_contract = sim.telemetry_contract

#: S3 clocks and ours may differ a little; objects this much older than the start are still read.
CLOCK_SKEW = dt.timedelta(seconds=60)


class _Recording:
    """The simulator, keeping every reading it hands out (parsed by the contract)."""

    def __init__(self, simulator: sim.TelemetrySimulator, sent: list[dict[str, Any]]) -> None:
        self._simulator = simulator
        self._sent = sent

    def next_reading(self) -> dict[str, Any]:
        reading = self._simulator.next_reading()
        self._sent.append(telemetry_contract.parse_reading(reading))
        return reading


def _publisher(ctx: SmokeContext) -> Any:
    if ctx.options.target == "kinesis":
        return sim.KinesisPublisher(ctx.clients("kinesis"), ctx.require_targets().stream_name, clock=ctx.clock, sleep=ctx.sleep)
    endpoint = sim.iot_data_endpoint(ctx.clients("iot"))
    return sim.IotPublisher(ctx.clients("iot-data", endpoint_url=endpoint), ctx.config.environment.ingestion.topic_prefix)


def send(ctx: SmokeContext) -> str:
    """Stage ``send``: the simulator's readings, through IoT Core (as devices do) or onto the stream."""
    options = ctx.options
    simulator = sim.TelemetrySimulator(options.devices, seed=options.seed, device_prefix=ctx.device_prefix, now=ctx.now)
    publisher = _publisher(ctx)
    summary = sim.run(_Recording(simulator, ctx.sent), publisher, rate=options.rate, count=options.readings,  # type: ignore[arg-type]
                      clock=ctx.clock, sleep=ctx.sleep)
    if summary.exit_code != 0:
        failures = "; ".join(f.describe() for f in summary.failures[:3])
        raise StageFailed(" ".join(summary.lines()) + (f" ({failures})" if failures else ""))
    return (f"{summary.sent} readings from {options.devices} devices {ctx.device_prefix}-* via {options.target}")


def _read_lines(body: bytes) -> list[str]:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8").splitlines()


def _new_objects(ctx: SmokeContext, bucket: str, prefix: str) -> list[str]:
    client = ctx.clients("s3")
    since = ctx.started_at - CLOCK_SKEW
    keys: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = client.list_objects_v2(**kwargs)
        keys.extend(o["Key"] for o in page.get("Contents", []) if o["LastModified"] >= since)
        if not page.get("IsTruncated"):
            return keys
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def raw_prefixes(ctx: SmokeContext) -> list[str]:
    """``telemetry/event_date=D/event_hour=H/`` of every reading sent (the delivery's partitions)."""
    from stacks.telemetry_tables import RAW_PREFIX

    return sorted({f"{RAW_PREFIX}event_date={r['event_date']}/event_hour={r['event_hour']}/" for r in ctx.sent})


def raw(ctx: SmokeContext) -> str:
    """Stage ``raw``: every reading sent is in a new object under its event-time partition."""
    bucket = ctx.require_targets().raw_bucket
    expected = ctx.sent_keys
    found: set[tuple[str, dt.datetime]] = set()
    read: set[str] = set()

    def poll() -> tuple[bool, str, None]:
        for prefix in raw_prefixes(ctx):
            for key in _new_objects(ctx, bucket, prefix):
                if key in read:
                    continue
                read.add(key)
                body = ctx.clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
                for line in _read_lines(body):
                    record = json.loads(line)
                    key = (record.get("device_id"), event_instant(record.get("event_time")))
                    if key in expected:
                        found.add(key)  # type: ignore[arg-type]
        return found >= expected, f"{len(found)} of {len(expected)} readings in {len(read)} new objects", None

    seen, _ = wait_for(ctx, "raw", poll, timeout=ctx.options.raw_timeout)
    return f"{seen} under s3://{bucket}/{raw_prefixes(ctx)[0]}"


def _metric_query(query_id: str, name: str, stat: str, stream: str) -> dict[str, Any]:
    return {"Id": query_id, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/Firehose", "MetricName": name,
                   "Dimensions": [{"Name": "DeliveryStreamName", "Value": stream}]},
        "Period": 60, "Stat": stat}}


def search(ctx: SmokeContext) -> str:
    """Stage ``search``: the delivery stream indexed at least the readings sent since the start
    (CloudWatch ``DeliveryToAmazonOpenSearchService.Records``), every index request succeeded
    (``...Success`` is 1), and nothing new is under the failed-documents prefix. The domain is in
    the VPC, so it is not queried from here; the metrics count all documents, not only ours."""
    from stacks.search_stack import FAILED_DOCUMENTS_PREFIX

    targets = ctx.require_targets()
    stream, bucket = targets.search_delivery_stream, targets.raw_bucket
    wanted = len(ctx.sent)

    def poll() -> tuple[bool, str, None]:
        failed = _new_objects(ctx, bucket, FAILED_DOCUMENTS_PREFIX)
        if failed:
            raise StageFailed(f"{len(failed)} new object(s) under s3://{bucket}/{FAILED_DOCUMENTS_PREFIX}, e.g. {failed[0]} "
                              "-- fix: read the error in it (aws s3 cp ... - | gunzip)")
        results = ctx.clients("cloudwatch").get_metric_data(
            MetricDataQueries=[
                _metric_query("records", "DeliveryToAmazonOpenSearchService.Records", "Sum", stream),
                _metric_query("success", "DeliveryToAmazonOpenSearchService.Success", "Minimum", stream),
            ],
            StartTime=ctx.started_at - CLOCK_SKEW, EndTime=ctx.now() + CLOCK_SKEW,
        )["MetricDataResults"]
        values = {r["Id"]: r.get("Values", []) for r in results}
        if values.get("success") and min(values["success"]) < 1:
            raise StageFailed(f"{stream}: DeliveryToAmazonOpenSearchService.Success fell to {min(values['success']):g} "
                              "(some index requests failed) -- fix: see the delivery stream's error logs")
        indexed = int(sum(values.get("records", [])))
        return indexed >= wanted and bool(values.get("success")), f"{indexed} documents indexed of {wanted} sent", None

    seen, _ = wait_for(ctx, "search", poll, timeout=ctx.options.search_timeout)
    return f"{stream}: {seen}, no failed documents"
