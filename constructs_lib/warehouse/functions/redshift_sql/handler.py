"""``Custom::RedshiftSql``: run SQL on a provisioned Redshift cluster through the Redshift Data API
at deploy time, and answer CloudFormation itself. Entry point: ``handler.lambda_handler``.

CloudFormation invokes the function asynchronously and then waits for a JSON document PUT to the
request's pre-signed ``ResponseURL``. No response means a stack stuck until the custom resource's
service timeout, so the function always answers, exactly once (``cfn_response.answer``, which the
library's custom resource functions share): on success, on a failed or aborted statement, on any
exception, and, through a watchdog timer, a few seconds before Lambda would stop it (for example
while an API call hangs).

Request types:

- Create / Update: ``CreateStatements`` run with the cluster's admin secret. One statement runs
  with ``ExecuteStatement`` (autocommit, so statements Redshift refuses inside a transaction block
  still work); several run with ``BatchExecuteStatement``, in order, as one transaction (all or
  nothing). The function polls ``DescribeStatement`` until FINISHED (SUCCESS), FAILED or ABORTED
  (FAILED with the Data API's error text in ``Reason``), or until it must stop to answer in time:
  it then cancels the statement and answers FAILED saying so.
- Delete: ``DeleteStatements`` run the same way; none means nothing to do. If the cluster no
  longer exists, there is nothing left to undo and the answer is SUCCESS, so deleting a stack whose
  cluster is already gone is never blocked. Any other failure is FAILED: objects that could not be
  dropped are not silently left behind.

Physical id ``<cluster>/<database>/<logical id>``: it names where the SQL ran, not what it says.
Changing statements is an in-place Update (the new create statements run; nothing is dropped),
whereas a statement hash in the id would make every change a replacement, after which CloudFormation
would send Delete with the old properties and the old delete statements would drop what the new
statements had just created. Changing the cluster or database changes the id: a replacement, where
the new target gets the create statements and the old one, later, its delete statements.

A failed Create answers with the id ``RedshiftSql::CREATE_FAILED`` (as CDK's provider framework
does); the rollback's Delete for that id does nothing, because a failed statement or transaction
leaves nothing behind (a timed-out one is cancelled first). Statements should therefore be
idempotent (``IF NOT EXISTS`` / ``IF EXISTS``), which also makes re-runs after a rollback safe.

Logged: request type, logical id, statement ids, statuses and errors. Never logged: the event as a
whole (its ``ResponseURL`` is a pre-signed URL), the SQL text, or any secret (the function never
reads the secret: the Data API does).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cfn_response import FAILED, SUCCESS, Result, answer, request_fields, text_property

logger = logging.getLogger("redshift_sql")

#: The physical id of a resource whose Create failed; its rollback Delete does nothing.
CREATE_FAILED_MARKER = "RedshiftSql::CREATE_FAILED"
#: The Data API's limit on statements in one BatchExecuteStatement.
MAX_STATEMENTS = 40
#: Time the poll loop leaves for cancelling a running statement and answering.
RESERVE_MS = 15_000
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 10.0
RUNNING = frozenset({"SUBMITTED", "PICKED", "STARTED"})
#: Short timeouts and few retries, so that one hanging call cannot eat the time left to answer.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 3, "mode": "standard"})
#: What the watchdog answers when Lambda is about to stop the function.
TIMEOUT_REASON = (
    "The function ran out of time (an AWS API call did not return); "
    "raise the construct's timeout or check the VPC endpoints for redshift-data"
)
#: Data API error codes and message fragments (lower case) that mean "this cluster does not exist".
_GONE_CODES = frozenset({"ResourceNotFoundException", "ClusterNotFoundFault", "ClusterNotFound"})
_GONE_FRAGMENTS = ("redshift endpoint doesn't exist", "cluster not found", "clusternotfound")


# --- pure functions: requests and statuses -------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the SQL runs, and as whom."""

    cluster_identifier: str
    database: str
    secret_arn: str


@dataclass(frozen=True)
class Request:
    request_type: str
    logical_id: str
    request_id: str
    physical_id: str | None
    target: Target
    create_statements: tuple[str, ...]
    delete_statements: tuple[str, ...]


def _statements(properties: Mapping[str, Any], key: str, *, required: bool) -> tuple[str, ...]:
    value = properties.get(key, [])
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ValueError(f"ResourceProperties.{key} must be a list of non-empty SQL strings")
    if required and not value:
        raise ValueError(f"ResourceProperties.{key} must hold at least one statement")
    if len(value) > MAX_STATEMENTS:
        raise ValueError(f"ResourceProperties.{key} holds {len(value)} statements; the Data API runs at most {MAX_STATEMENTS}")
    return tuple(value)


def parse_request(event: Mapping[str, Any]) -> Request:
    """The request and its properties, checked; a ValueError names what is wrong."""
    fields = request_fields(event)
    properties = event.get("ResourceProperties") or {}
    return Request(
        **fields,
        target=Target(
            cluster_identifier=text_property(properties, "ClusterIdentifier"),
            database=text_property(properties, "Database"),
            secret_arn=text_property(properties, "SecretArn"),
        ),
        create_statements=_statements(properties, "CreateStatements", required=True),
        delete_statements=_statements(properties, "DeleteStatements", required=False),
    )


def physical_resource_id(target: Target, logical_id: str) -> str:
    """Where the SQL runs, not what it says: see the module docstring."""
    return f"{target.cluster_identifier}/{target.database}/{logical_id}"


def failure_physical_id(event: Mapping[str, Any]) -> str:
    """The id to answer a failure with: the marker for a Create, the current id otherwise."""
    if event.get("RequestType") == "Create":
        return CREATE_FAILED_MARKER
    return event.get("PhysicalResourceId") or CREATE_FAILED_MARKER


def statement_call(
    target: Target, statements: Sequence[str], *, name: str, client_token: str
) -> tuple[str, dict[str, Any]]:
    """The Data API operation and its arguments: one statement autocommits on its own; several
    run as one transaction."""
    common = {
        "ClusterIdentifier": target.cluster_identifier,
        "Database": target.database,
        "SecretArn": target.secret_arn,
        "StatementName": name,
        "ClientToken": client_token,
    }
    if len(statements) == 1:
        return "execute_statement", {**common, "Sql": statements[0]}
    return "batch_execute_statement", {**common, "Sqls": list(statements)}


def failure_text(description: Mapping[str, Any]) -> str:
    """The Data API's error text, naming which statement of a batch failed."""
    subs = description.get("SubStatements") or []
    for position, sub in enumerate(subs, start=1):
        if sub.get("Status") in ("FAILED", "ABORTED"):
            error = sub.get("Error") or description.get("Error") or "no error text"
            return f"statement {position} of {len(subs)} {sub['Status'].lower()}: {error}"
    return description.get("Error") or "no error text"


def interpret(description: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(status, reason)`` once the statement is done, ``None`` while it runs."""
    status = description.get("Status")
    statement_id = description.get("Id")
    if status in RUNNING:
        return None
    if status == "FINISHED":
        return SUCCESS, f"Data API statement {statement_id} finished"
    if status == "FAILED":
        return FAILED, f"Data API statement {statement_id} failed: {failure_text(description)}"
    if status == "ABORTED":
        return FAILED, f"Data API statement {statement_id} was aborted before it finished: {failure_text(description)}"
    return FAILED, f"Data API statement {statement_id} has an unexpected status {status!r}"


def cluster_is_gone(error: ClientError) -> bool:
    """True when the Data API refused the call because the cluster does not exist."""
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    message = (details.get("Message") or "").lower()
    return code in _GONE_CODES or (
        code == "ValidationException" and any(fragment in message for fragment in _GONE_FRAGMENTS)
    )


# --- effects: the Data API -----------------------------------------------------------------


def wait_for(client: Any, statement_id: str, context: Any, sleep: Callable[[float], None]) -> tuple[str, str]:
    """Poll until the statement is done, or cancel it when only the reserve is left."""
    delay = FIRST_POLL_SECONDS
    while True:
        description = client.describe_statement(Id=statement_id)
        outcome = interpret(description)
        if outcome is not None:
            logger.info("statement done", extra={"statement_id": statement_id, "status": description.get("Status")})
            return outcome
        left_ms = context.get_remaining_time_in_millis() - RESERVE_MS
        if left_ms <= 0:
            return FAILED, timed_out(client, statement_id, description.get("Status"))
        sleep(min(delay, left_ms / 1000))
        delay = min(delay * 2, MAX_POLL_SECONDS)


def timed_out(client: Any, statement_id: str, status: str | None) -> str:
    try:
        cancelled = bool(client.cancel_statement(Id=statement_id).get("Status"))
    except (ClientError, BotoCoreError) as error:
        logger.warning("cancel failed", extra={"statement_id": statement_id, "error": str(error)})
        cancelled = False
    logger.error("statement timed out", extra={"statement_id": statement_id, "status": status, "cancelled": cancelled})
    outcome = "it was cancelled" if cancelled else "cancelling it failed, so it may still complete"
    return (
        f"Timed out: Data API statement {statement_id} was still {status} when the function had to answer; "
        f"{outcome}. Raise the construct's timeout or make the statements faster."
    )


def run(client: Any, request: Request, statements: Sequence[str], context: Any, sleep: Callable[[float], None]) -> tuple[str, str, str]:
    """Submit ``statements`` and wait: ``(status, reason, statement id)``."""
    operation, arguments = statement_call(
        request.target,
        statements,
        name=f"{request.logical_id}-{request.request_type}",
        client_token=request.request_id,
    )
    statement_id = getattr(client, operation)(**arguments)["Id"]
    logger.info("statement submitted", extra={"statement_id": statement_id, "statements": len(statements)})
    status, reason = wait_for(client, statement_id, context, sleep)
    return status, reason, statement_id


def handle(event: Mapping[str, Any], context: Any, *, client: Any, sleep: Callable[[float], None]) -> Result:
    """The answer to one request (exceptions are the caller's to turn into FAILED)."""
    if event.get("RequestType") == "Delete" and event.get("PhysicalResourceId") == CREATE_FAILED_MARKER:
        return Result(SUCCESS, "Nothing to delete: the Create of this resource failed and left nothing behind", CREATE_FAILED_MARKER)
    request = parse_request(event)
    if request.request_type == "Delete":
        physical_id = request.physical_id or physical_resource_id(request.target, request.logical_id)
        if not request.delete_statements:
            return Result(SUCCESS, "No delete statements to run", physical_id)
        try:
            status, reason, statement_id = run(client, request, request.delete_statements, context, sleep)
        except ClientError as error:
            if not cluster_is_gone(error):
                raise
            logger.warning("cluster gone", extra={"cluster": request.target.cluster_identifier})
            return Result(
                SUCCESS,
                f"Cluster {request.target.cluster_identifier} no longer exists; nothing left to delete",
                physical_id,
            )
        return Result(status, reason, physical_id, {"StatementId": statement_id})
    status, reason, statement_id = run(client, request, request.create_statements, context, sleep)
    physical_id = physical_resource_id(request.target, request.logical_id) if status == SUCCESS else failure_physical_id(event)
    return Result(status, reason, physical_id, {"StatementId": statement_id})


def _client() -> Any:
    return boto3.client("redshift-data", config=CLIENT_CONFIG)


def process(
    event: Mapping[str, Any],
    context: Any,
    *,
    client_factory: Callable[[], Any] = _client,
    opener: Callable[..., Any] = urllib.request.urlopen,
    sleep: Callable[[float], None] = time.sleep,
    timer_factory: Callable[..., Any] = threading.Timer,
) -> dict[str, Any] | None:
    """Handle one request and always answer it; returns the response document sent."""
    return answer(
        event,
        context,
        lambda: handle(event, context, client=client_factory(), sleep=sleep),
        failure_physical_id=lambda: failure_physical_id(event),
        timeout_reason=TIMEOUT_REASON,
        logger=logger,
        opener=opener,
        timer_factory=timer_factory,
    )


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    process(event, context)
