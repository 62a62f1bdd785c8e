"""Stages ``glue``, ``athena`` and ``spectrum``: the curated zone is built and read the way
analysts and the warehouse read it."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tools.smoke.context import SmokeContext, StageFailed
from tools.smoke.waiting import wait_for

_FAILED_ACTIONS = ("FailedActions", "StoppedActions", "TimeoutActions", "ErroredActions")
#: The saved query the smoke test runs: the one with a parameter (the day), as analysts use it.
SAVED_QUERY_STEM = "hourly_aggregates_per_device"


def glue(ctx: SmokeContext) -> str:
    """Stage ``glue``: one run of the workflow (raw crawler -> job), all green."""
    name = ctx.require_targets().workflow_name
    client = ctx.clients("glue")
    try:
        run_id = client.start_workflow_run(Name=name)["RunId"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConcurrentRunsExceededException":
            raise StageFailed(f"a run of {name} is in progress already (its schedule?) -- fix: rerun the smoke test when "
                              f"it has finished (aws glue get-workflow-runs --name {name})") from None
        raise
    inspect = f"aws glue get-workflow-run --name {name} --run-id {run_id} --include-graph"

    def poll() -> tuple[bool, str, None]:
        run = client.get_workflow_run(Name=name, RunId=run_id)["Run"]
        status, stats = run.get("Status", "RUNNING"), run.get("Statistics", {})
        seen = f"{status}, {stats.get('SucceededActions', 0)} of {stats.get('TotalActions', 0)} actions succeeded"
        bad = {key: stats.get(key, 0) for key in _FAILED_ACTIONS if stats.get(key, 0)}
        if status in ("STOPPED", "ERROR") or (status == "COMPLETED" and bad):
            detail = ", ".join(f"{k} {v}" for k, v in bad.items()) or run.get("ErrorMessage", "")
            raise StageFailed(f"run {run_id} {status}: {detail} -- fix: {inspect}")
        return status == "COMPLETED", seen, None

    seen, _ = wait_for(ctx, "glue", poll, timeout=ctx.options.workflow_timeout)
    return f"{name} run {run_id}: {seen}"


def _saved_query(client: Any, workgroup: str, name: str) -> dict[str, Any]:
    ids: list[str] = []
    kwargs: dict[str, Any] = {"WorkGroup": workgroup, "MaxResults": 50}
    while True:
        page = client.list_named_queries(**kwargs)
        ids.extend(page.get("NamedQueryIds", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    for start in range(0, len(ids), 50):
        for query in client.batch_get_named_query(NamedQueryIds=ids[start:start + 50]).get("NamedQueries", []):
            if query["Name"] == name:
                return query
    raise StageFailed(f"no saved query {name!r} in workgroup {workgroup} -- fix: deploy the catalog stack")


def analyst_role_arn(ctx: SmokeContext) -> str:
    """The analyst persona (README "Lake Formation governance"): imported, or ``<project>-<env>-analyst``."""
    if ctx.options.athena_role_arn:
        return ctx.options.athena_role_arn
    configured = ctx.config.environment.governance.analyst.role_arn
    return configured or f"arn:{ctx.partition}:iam::{ctx.account}:role/{ctx.namer.name('analyst')}"


def _athena_client(ctx: SmokeContext) -> tuple[Any, str]:
    """Lake Formation grants SELECT to the personas, not to whoever deploys: the query runs as the
    analyst persona (assumable by the account's administrators) unless told otherwise."""
    if ctx.options.athena_as_caller:
        return ctx.clients("athena"), "as the caller"
    arn = analyst_role_arn(ctx)
    try:
        credentials = ctx.clients("sts").assume_role(RoleArn=arn, RoleSessionName=f"smoke-{ctx.run_id}")["Credentials"]
    except ClientError as error:
        raise StageFailed(f"cannot assume {arn}: {error.response['Error']['Code']} -- fix: use credentials allowed to "
                          "assume it, pass --athena-role-arn, or --athena-as-caller with a Lake Formation grant") from None
    return ctx.role_clients(credentials)("athena"), f"as {arn}"


def _rows(client: Any, execution_id: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    columns: list[str] = []
    kwargs: dict[str, Any] = {"QueryExecutionId": execution_id}
    while True:
        page = client.get_query_results(**kwargs)
        result = page["ResultSet"]
        if not columns:
            columns = [c["Name"] for c in result["ResultSetMetadata"]["ColumnInfo"]]
        data = [[cell.get("VarCharValue", "") for cell in row.get("Data", [])] for row in result.get("Rows", [])]
        if "NextToken" not in kwargs and data and data[0] == columns:
            data = data[1:]  # the header row comes first on the first page
        rows.extend(dict(zip(columns, values)) for values in data)
        if not page.get("NextToken"):
            return rows
        kwargs["NextToken"] = page["NextToken"]


def athena(ctx: SmokeContext) -> str:
    """Stage ``athena``: the saved hourly-aggregates query in the analysts workgroup, for each
    event date, with the day as its parameter (``'YYYY-MM-DD'``), returns every smoke device."""
    from stacks.telemetry_tables import SAVED_QUERIES

    workgroup = ctx.require_targets().analysts_workgroup
    query_name = SAVED_QUERIES[SAVED_QUERY_STEM].name
    client, who = _athena_client(ctx)
    saved = _saved_query(client, workgroup, query_name)
    found: set[str] = set()
    for day in ctx.event_dates:
        execution_id = client.start_query_execution(
            QueryString=saved["QueryString"], QueryExecutionContext={"Database": saved["Database"]},
            WorkGroup=workgroup, ExecutionParameters=[f"'{day}'"],
        )["QueryExecutionId"]

        def poll() -> tuple[bool, str, None]:
            status = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state in ("FAILED", "CANCELLED"):
                raise StageFailed(f"{query_name} ({day}) {state}: {status.get('StateChangeReason', '')}")
            return state == "SUCCEEDED", f"{query_name} ({day}) {state}", None

        wait_for(ctx, "athena", poll, timeout=ctx.options.query_timeout)
        found |= {row["device_id"] for row in _rows(client, execution_id) if row.get("device_id", "").startswith(ctx.device_prefix)}
    missing = sorted(ctx.device_ids - found)
    if missing:
        raise StageFailed(f"{query_name} in {workgroup} {who} found {len(found)} of {len(ctx.device_ids)} smoke devices; "
                          f"missing {', '.join(missing)}")
    return f"{query_name} in {workgroup} {who}: all {len(found)} smoke devices on {', '.join(ctx.event_dates)}"


#: The curated table is an Iceberg table partitioned by day(event_time): there is no event_date column,
#: and Redshift reads event_time as TIMESTAMPTZ, so the day is event_time's UTC date (the session's zone).
SPECTRUM_SQL = (
    "SELECT device_id, COUNT(*) AS readings FROM {schema}.{table} "
    "WHERE CAST(event_time AS DATE) BETWEEN CAST(:first_day AS DATE) AND CAST(:last_day AS DATE) AND device_id LIKE :devices "
    "GROUP BY device_id ORDER BY device_id"
)


def spectrum(ctx: SmokeContext) -> str:
    """Stage ``spectrum``: the warehouse reads the same readings through its external schema
    (Redshift Data API with the admin secret)."""
    from stacks.telemetry_tables import TABLE_NAME

    targets = ctx.require_targets()
    redshift = ctx.config.environment.redshift
    client = ctx.clients("redshift-data")
    dates = ctx.event_dates
    statement_id = client.execute_statement(
        ClusterIdentifier=targets.cluster_identifier, Database=redshift.database_name, SecretArn=targets.admin_secret_arn,
        Sql=SPECTRUM_SQL.format(schema=redshift.spectrum_schema, table=TABLE_NAME), StatementName=f"smoke-{ctx.run_id}",
        Parameters=[{"name": "first_day", "value": dates[0]}, {"name": "last_day", "value": dates[-1]},
                    {"name": "devices", "value": f"{ctx.device_prefix}-%"}],
    )["Id"]

    def poll() -> tuple[bool, str, None]:
        described = client.describe_statement(Id=statement_id)
        status = described["Status"]
        if status in ("FAILED", "ABORTED"):
            raise StageFailed(f"statement {statement_id} {status}: {described.get('Error', '')}")
        return status == "FINISHED", f"statement {status}", None

    wait_for(ctx, "spectrum", poll, timeout=ctx.options.query_timeout)
    counts: dict[str, int] = {}
    kwargs: dict[str, Any] = {"Id": statement_id}
    while True:
        page = client.get_statement_result(**kwargs)
        for device, readings in page.get("Records", []):
            counts[device["stringValue"]] = int(readings["longValue"])
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    expected: dict[str, int] = {}
    for device, _ in ctx.sent_keys:
        expected[device] = expected.get(device, 0) + 1
    if counts != expected:
        raise StageFailed(f"{redshift.spectrum_schema}.{TABLE_NAME} has {sum(counts.values())} smoke readings from "
                          f"{len(counts)} devices; expected {sum(expected.values())} from {len(expected)}")
    return f"{redshift.spectrum_schema}.{TABLE_NAME}: all {sum(counts.values())} readings of {len(counts)} smoke devices"
