"""Fakes for tests/tools/test_smoke.py: a clock that sleeping advances, a smoke context with known
targets and readings, and stub helpers that queue one stage's AWS answers."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from typing import Any

from botocore.response import StreamingBody

from config import load_config
from tests.tools.aws_stubs import ACCOUNT, StubbedClients
from tools.smoke.context import SmokeContext, SmokeOptions, Targets

START = dt.datetime(2026, 12, 6, 5, 0, 0, tzinfo=dt.timezone.utc)
RUN_ID = "20261206t050000"
PREFIX = f"smoke-{RUN_ID}"
DEVICES = (f"{PREFIX}-0001", f"{PREFIX}-0002")
EVENT_TIME = "2026-12-06T05:00:00.000Z"
TARGETS = Targets(
    raw_bucket="analytics-dev-foundation-rawbucket-1a2b3c", stream_name="analytics-dev-ingestion-Stream-1A2B",
    workflow_name="analytics-dev-raw-to-curated", analysts_workgroup="analytics-dev-analysts",
    search_delivery_stream="analytics-dev-search-ToSearch-9Z8Y", cluster_identifier="analytics-dev-warehouse",
    admin_secret_arn=f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:WarehouseSecret-abc123",
)
ANALYST_ARN = f"arn:aws:iam::{ACCOUNT}:role/analytics-dev-analyst"
SAVED_QUERY = "SELECT device_id ... WHERE CAST(event_time AS date) = CAST(? AS date) ..."


class FakeTime:
    """``clock()`` advances only when ``sleep`` is called; ``now()`` stays at START (so every
    reading has the same, known event time)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    @staticmethod
    def now() -> dt.datetime:
        return START


def reading(device: str, event_time: str = EVENT_TIME) -> dict[str, Any]:
    return {"schema_version": 1, "device_id": device, "event_time": event_time, "ingested_at": None,
            "metrics": {"temperature_c": 21.5}, "attributes": {}, "event_date": event_time[:10], "event_hour": event_time[11:13]}


def make_ctx(clients: StubbedClients | None = None, role_clients: StubbedClients | None = None, *, env: str = "dev",
             sent: bool = True, targets: bool = True, progress: list[str] | None = None, **options: Any) -> SmokeContext:
    fake = FakeTime()
    analyst = role_clients or StubbedClients()
    ctx = SmokeContext(
        config=load_config(env), options=SmokeOptions(**{"poll_seconds": 10.0, **options}), clients=clients or StubbedClients(),
        role_clients=lambda credentials: analyst, progress=(progress.append if progress is not None else (lambda text: None)),
        clock=fake.clock, sleep=fake.sleep, now=fake.now,
    )
    ctx.account = ACCOUNT
    if targets:
        ctx.targets = TARGETS
    if sent:
        ctx.sent = [reading(device) for device in DEVICES]
    return ctx


def stack(name: str, outputs: dict[str, str], status: str = "CREATE_COMPLETE") -> dict:
    return {"Stacks": [{"StackName": name, "CreationTime": START, "StackStatus": status,
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}


def stub_discover(clients: StubbedClients) -> None:
    clients.ok("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops", "UserId": "AIDA"})
    outputs = {
        "analytics-dev-foundation": {"RawBucketName": TARGETS.raw_bucket, "CuratedBucketName": "c"},
        "analytics-dev-ingestion": {"StreamName": TARGETS.stream_name},
        "analytics-dev-catalog": {"WorkflowName": TARGETS.workflow_name, "AnalystsWorkgroupName": TARGETS.analysts_workgroup},
        "analytics-dev-search": {"DeliveryStreamName": TARGETS.search_delivery_stream},
        "analytics-dev-warehouse": {"ClusterIdentifier": TARGETS.cluster_identifier, "AdminSecretArn": TARGETS.admin_secret_arn},
    }
    for name, values in outputs.items():
        clients.ok("cloudformation", "describe_stacks", stack(name, values), {"StackName": name})


def stub_put_records(clients: StubbedClients, count: int) -> None:
    records = [{"SequenceNumber": str(n), "ShardId": "shardId-000000000000"} for n in range(count)]
    clients.ok("kinesis", "put_records", {"Records": records})


def gzip_lines(records: list[dict[str, Any]]) -> StreamingBody:
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    return StreamingBody(io.BytesIO(data), len(data))


RAW_PREFIX = "telemetry/event_date=2026-12-06/event_hour=05/"


def listing(*objects: tuple[str, dt.datetime]) -> dict:
    return {"IsTruncated": False, "Contents": [{"Key": key, "LastModified": when, "Size": 100} for key, when in objects],
            "KeyCount": len(objects)}


def stub_raw(clients: StubbedClients, devices: tuple[str, ...] = DEVICES) -> None:
    key = f"{RAW_PREFIX}analytics-dev-1-2026-12-06-05-00-10-abc.gz"
    old = f"{RAW_PREFIX}analytics-dev-1-2026-12-06-04-50-00-old.gz"
    clients.ok("s3", "list_objects_v2", listing((old, START - dt.timedelta(minutes=10)), (key, START + dt.timedelta(seconds=70))),
               {"Bucket": TARGETS.raw_bucket, "Prefix": RAW_PREFIX})
    body = gzip_lines([reading("eu-0042")] + [reading(device) for device in devices])
    clients.ok("s3", "get_object", {"Body": body}, {"Bucket": TARGETS.raw_bucket, "Key": key})


def stub_search(clients: StubbedClients, records: float = 2.0, success: float = 1.0, failed_objects: int = 0) -> None:
    objects = [(f"search-failed/telemetry/AmazonOpenSearchService-failed/2026/12/06/05/f{n}", START + dt.timedelta(seconds=90))
               for n in range(failed_objects)]
    clients.ok("s3", "list_objects_v2", listing(*objects), {"Bucket": TARGETS.raw_bucket, "Prefix": "search-failed/telemetry/"})
    if failed_objects:
        return
    clients.ok("cloudwatch", "get_metric_data", {"MetricDataResults": [
        {"Id": "records", "Values": [records], "Timestamps": [START], "StatusCode": "Complete"},
        {"Id": "success", "Values": [success], "Timestamps": [START], "StatusCode": "Complete"},
    ]})


def stub_glue(clients: StubbedClients, final: dict | None = None) -> None:
    clients.ok("glue", "start_workflow_run", {"RunId": "wr_1"}, {"Name": TARGETS.workflow_name})
    running = {"Run": {"Status": "RUNNING", "Statistics": {"TotalActions": 3, "SucceededActions": 1, "RunningActions": 1}}}
    done = final or {"Run": {"Status": "COMPLETED", "Statistics": {"TotalActions": 3, "SucceededActions": 3}}}
    for response in (running, done):
        clients.ok("glue", "get_workflow_run", response, {"Name": TARGETS.workflow_name, "RunId": "wr_1"})


def stub_assume_analyst(clients: StubbedClients) -> None:
    credentials = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE", "SecretAccessKey": "s" * 40, "SessionToken": "t" * 40, "Expiration": START}
    clients.ok("sts", "assume_role", {"Credentials": credentials},
               {"RoleArn": ANALYST_ARN, "RoleSessionName": f"smoke-{RUN_ID}"})


def stub_athena(analyst: StubbedClients, devices: tuple[str, ...] = DEVICES, final_state: str = "SUCCEEDED") -> None:
    analyst.ok("athena", "list_named_queries", {"NamedQueryIds": ["q1", "q2"]}, {"WorkGroup": TARGETS.analysts_workgroup, "MaxResults": 50})
    analyst.ok("athena", "batch_get_named_query", {"NamedQueries": [
        {"Name": "latest-reading-per-device", "Database": "analytics_dev_curated", "QueryString": "SELECT 1", "NamedQueryId": "q1"},
        {"Name": "hourly-aggregates-per-device", "Database": "analytics_dev_curated", "QueryString": SAVED_QUERY, "NamedQueryId": "q2"},
    ], "UnprocessedNamedQueryIds": []}, {"NamedQueryIds": ["q1", "q2"]})
    analyst.ok("athena", "start_query_execution", {"QueryExecutionId": "qe-1"}, {
        "QueryString": SAVED_QUERY, "QueryExecutionContext": {"Database": "analytics_dev_curated"},
        "WorkGroup": TARGETS.analysts_workgroup, "ExecutionParameters": ["'2026-12-06'"]})
    for state in ("RUNNING", final_state):
        status = {"State": state}
        if state == "FAILED":
            status["StateChangeReason"] = "Insufficient Lake Formation permission(s) on telemetry"
        analyst.ok("athena", "get_query_execution", {"QueryExecution": {"QueryExecutionId": "qe-1", "Status": status}},
                   {"QueryExecutionId": "qe-1"})
    if final_state != "SUCCEEDED":
        return
    columns = ["device_id", "hour", "metric", "readings"]
    rows = [columns] + [[device, "2026-12-06 05:00:00.000", "temperature_c", "1"] for device in ("eu-0042", *devices)]
    analyst.ok("athena", "get_query_results", {"ResultSet": {
        "Rows": [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
        "ResultSetMetadata": {"ColumnInfo": [{"Name": c, "Type": "varchar"} for c in columns]},
    }}, {"QueryExecutionId": "qe-1"})


#: dev's warehouse settings (config/environments/dev.yaml), read rather than retyped.
DEV_REDSHIFT = load_config("dev").environment.redshift
SPECTRUM_TABLE = f"{DEV_REDSHIFT.spectrum_schema}.telemetry"
SPECTRUM_SQL = (
    f"SELECT device_id, COUNT(*) AS readings FROM {SPECTRUM_TABLE} WHERE CAST(event_time AS DATE) BETWEEN CAST(:first_day AS DATE) "
    "AND CAST(:last_day AS DATE) AND device_id LIKE :devices GROUP BY device_id ORDER BY device_id"
)


def stub_spectrum(clients: StubbedClients, counts: dict[str, int] | None = None, final: str = "FINISHED") -> None:
    clients.ok("redshift-data", "execute_statement", {"Id": "st-1"}, {
        "ClusterIdentifier": TARGETS.cluster_identifier, "Database": DEV_REDSHIFT.database_name, "SecretArn": TARGETS.admin_secret_arn,
        "Sql": SPECTRUM_SQL, "StatementName": f"smoke-{RUN_ID}",
        "Parameters": [{"name": "first_day", "value": "2026-12-06"}, {"name": "last_day", "value": "2026-12-06"},
                       {"name": "devices", "value": f"{PREFIX}-%"}]})
    described = {"Id": "st-1", "Status": final}
    if final == "FAILED":
        described["Error"] = 'ERROR: schema "curated" does not exist'
    clients.ok("redshift-data", "describe_statement", described, {"Id": "st-1"})
    if final != "FINISHED":
        return
    counts = {device: 1 for device in DEVICES} if counts is None else counts
    clients.ok("redshift-data", "get_statement_result", {
        "Records": [[{"stringValue": d}, {"longValue": n}] for d, n in counts.items()], "TotalNumRows": len(counts),
    }, {"Id": "st-1"})
