"""The health check of one Iceberg table's Glue table optimizers, run on a schedule by
``IcebergTableMaintenance``. Entry point: ``handler.lambda_handler``. Standard library and the Lambda
runtime's boto3 only.

Why a check of our own: the optimizers publish no documented failure signal. EventBridge receives no
optimizer event (the Glue events listed in the EventBridge events reference are jobs, crawlers,
the catalog's databases and tables, statistics and data quality), and the CloudWatch metrics the
Glue guide lists ("Viewing Amazon CloudWatch metrics": bytes and files compacted, files deleted,
durations) are emitted only "after running the table optimizers successfully", under names the
guide does not give. What is documented is the API: ``GetTableOptimizer`` returns the optimizer's
configuration (``enabled``) and its ``lastRun`` (``eventType`` starting, in_progress, completed or
failed, its timestamps and ``error``).

For each optimizer type (environment ``OPTIMIZER_TYPES``), one datapoint of
``OptimizerUnhealthy`` (1 or 0; dimensions ``Database``, ``Table``, ``Optimizer``) in
``METRICS_NAMESPACE``, 1 when:

- ``configuration.enabled`` is false: Glue suspends compaction after four consecutive failed runs
  and it stays off until re-enabled ("Considerations and limitations"), and CloudFormation does not
  see it (its template still says enabled); an optimizer disabled by hand reads the same;
- the last run failed (until a later run succeeds);
- for the scheduled optimizers (retention, orphan file deletion, which run every 24 hours by default),
  the last run started more than ``MAX_HOURS_WITHOUT_RUN`` hours ago.

and ``HoursSinceLastRun`` for the scheduled ones that have run. An optimizer the API cannot return
(deleted, or access denied) gets no datapoint and fails the invocation, so its alarm, which counts a
missing datapoint as unhealthy, fires as well. Each assessment is logged as one JSON line with its
reasons.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

LOGGER = logging.getLogger()
LOGGER.setLevel(logging.INFO)

#: Optimizers that run on a schedule (every ``runRateInHours``, 24 by default); compaction runs when
#: the table needs it, so a long quiet spell is no sign of trouble.
SCHEDULED = frozenset({"retention", "orphan_file_deletion"})


@dataclass
class Assessment:
    optimizer_type: str
    unhealthy: bool = False
    hours_since_last_run: float | None = None
    reasons: list[str] = field(default_factory=list)


def assess(optimizer_type: str, optimizer: dict[str, Any], now: dt.datetime, max_hours_without_run: float) -> Assessment:
    """What ``GetTableOptimizer``'s ``TableOptimizer`` says about one optimizer at ``now``."""
    result = Assessment(optimizer_type)
    if optimizer.get("configuration", {}).get("enabled") is not True:
        result.reasons.append("the optimizer is not enabled: suspended by Glue after repeated failures, or disabled by hand")
    last = optimizer.get("lastRun") or {}
    if last.get("eventType") == "failed":
        result.reasons.append(f"the last run failed: {last.get('error') or 'no error message'}")
    started = last.get("startTimestamp") or last.get("endTimestamp")
    if optimizer_type in SCHEDULED and isinstance(started, dt.datetime):
        hours = (now - started).total_seconds() / 3600
        result.hours_since_last_run = round(hours, 2)
        if hours > max_hours_without_run:
            result.reasons.append(f"no run for {hours:.1f} hours (limit {max_hours_without_run:g})")
    result.unhealthy = bool(result.reasons)
    return result


def metric_data(assessment: Assessment, database: str, table: str, now: dt.datetime) -> list[dict[str, Any]]:
    dimensions = [
        {"Name": "Database", "Value": database},
        {"Name": "Table", "Value": table},
        {"Name": "Optimizer", "Value": assessment.optimizer_type},
    ]
    data = [{"MetricName": "OptimizerUnhealthy", "Dimensions": dimensions, "Timestamp": now,
             "Value": 1.0 if assessment.unhealthy else 0.0, "Unit": "Count"}]
    if assessment.hours_since_last_run is not None:
        data.append({"MetricName": "HoursSinceLastRun", "Dimensions": dimensions, "Timestamp": now,
                     "Value": assessment.hours_since_last_run, "Unit": "None"})
    return data


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    import boto3  # the Lambda runtime's; imported here so the pure functions above need no AWS SDK

    glue, cloudwatch = boto3.client("glue"), boto3.client("cloudwatch")
    catalog, database, table = os.environ["CATALOG_ID"], os.environ["DATABASE_NAME"], os.environ["TABLE_NAME"]
    namespace = os.environ["METRICS_NAMESPACE"]
    limit = float(os.environ["MAX_HOURS_WITHOUT_RUN"])
    now = utc_now()
    failed: list[str] = []
    summary: dict[str, Any] = {}
    for optimizer_type in os.environ["OPTIMIZER_TYPES"].split(","):
        try:
            response = glue.get_table_optimizer(
                CatalogId=catalog, DatabaseName=database, TableName=table, Type=optimizer_type
            )
        except Exception as error:  # noqa: BLE001 - any error: no datapoint, and the invocation fails below
            LOGGER.error(json.dumps({"optimizer": optimizer_type, "error": f"{type(error).__name__}: {error}"}))
            failed.append(optimizer_type)
            continue
        assessment = assess(optimizer_type, response.get("TableOptimizer", {}), now, limit)
        LOGGER.info(json.dumps({"database": database, "table": table, "optimizer": optimizer_type,
                                "unhealthy": assessment.unhealthy, "hours_since_last_run": assessment.hours_since_last_run,
                                "reasons": assessment.reasons}))
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=metric_data(assessment, database, table, now))
        summary[optimizer_type] = assessment.unhealthy
    if failed:
        raise RuntimeError(f"GetTableOptimizer failed for {failed} of {database}.{table}; see the log above")
    return summary
