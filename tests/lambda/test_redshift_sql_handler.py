"""Custom::RedshiftSql handler: Data API calls through botocore's Stubber, the CloudFormation
response through a fake urlopen, time through a fake context, sleep and timer (no network, no
waiting). How any of the library's functions answers (body, retries, watchdog) is tested once, in
test_cfn_response.py; here, that this handler answers what it should."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.custom_resource_fakes import LOG_STREAM, RESPONSE_URL, Clock, Context, Opener, Timers, load_handler, load_shared

handler = load_handler("redshift_sql")
cfn_response = load_shared("cfn_response")

CLUSTER = "analytics-dev"
DATABASE = "analytics"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-AbCdEf"
CREATE_SQL = "CREATE EXTERNAL SCHEMA IF NOT EXISTS curated FROM DATA CATALOG DATABASE 'team_dev_curated'"
GRANT_SQL = "GRANT USAGE ON SCHEMA curated TO GROUP analysts"
DROP_SQL = "DROP SCHEMA IF EXISTS curated"
STATEMENT_ID = "d9b6c0c9-0747-4bf4-b142-e8883122f766"
OWN_ID = f"{CLUSTER}/{DATABASE}/CuratedSchema"


def event(request_type: str = "Create", *, physical_id: str | None = None, old: dict | None = None, **properties) -> dict:
    props = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:sql",
        "ServiceTimeout": "600",
        "ClusterIdentifier": CLUSTER,
        "Database": DATABASE,
        "SecretArn": SECRET_ARN,
        "CreateStatements": [CREATE_SQL],
        "DeleteStatements": [DROP_SQL],
    }
    props.update(properties)
    built = {
        "RequestType": request_type,
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-warehouse/1",
        "RequestId": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        "LogicalResourceId": "CuratedSchema",
        "ResourceType": "Custom::RedshiftSql",
        "ResourceProperties": props,
    }
    if physical_id is not None:
        built["PhysicalResourceId"] = physical_id
    if old is not None:
        built["OldResourceProperties"] = old
    return built


@pytest.fixture
def data_api():
    client = boto3.client(
        "redshift-data", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@dataclass
class Run:
    sent: dict | None
    opener: Opener
    clock: Clock
    timers: Timers


def run(
    request: dict, client, *, context: Context | None = None, opener: Opener | None = None, client_factory=None,
    timers: Timers | None = None,
) -> Run:
    context = context or Context()
    clock = Clock(context)
    opener = opener or Opener()
    timers = timers if timers is not None else Timers()
    sent = handler.process(
        request,
        context,
        client_factory=client_factory or (lambda: client),
        opener=opener,
        sleep=clock.sleep,
        timer_factory=timers,
    )
    return Run(sent, opener, clock, timers)


def common(sql: list[str], request_type: str = "Create") -> dict:
    return {
        "ClusterIdentifier": CLUSTER,
        "Database": DATABASE,
        "SecretArn": SECRET_ARN,
        "StatementName": f"CuratedSchema-{request_type}",
        "ClientToken": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        **({"Sql": sql[0]} if len(sql) == 1 else {"Sqls": sql}),
    }


def submitted(stubber: Stubber, sql: list[str], request_type: str = "Create") -> None:
    operation = "execute_statement" if len(sql) == 1 else "batch_execute_statement"
    stubber.add_response(operation, {"Id": STATEMENT_ID}, common(sql, request_type))


def described(stubber: Stubber, status: str, **extra) -> None:
    stubber.add_response("describe_statement", {"Id": STATEMENT_ID, "Status": status, **extra}, {"Id": STATEMENT_ID})


# --- Create and Update ------------------------------------------------------------------------


def test_create_runs_one_statement_on_its_own_and_reports_success(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    described(stubber, "SUBMITTED")
    described(stubber, "STARTED")
    described(stubber, "FINISHED")

    result = run(event(), client)

    assert result.sent["Status"] == "SUCCESS"
    assert result.sent["PhysicalResourceId"] == OWN_ID
    assert result.sent["Data"] == {"StatementId": STATEMENT_ID}
    assert result.clock.sleeps == [1.0, 2.0]  # polls back off


def test_several_statements_run_in_order_as_one_batch(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL, GRANT_SQL])
    described(stubber, "FINISHED")

    result = run(event(CreateStatements=[CREATE_SQL, GRANT_SQL]), client)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)


def test_the_response_is_put_to_the_presigned_url_with_an_empty_content_type(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    described(stubber, "FINISHED")

    result = run(event(), client)

    ((request, timeout),) = result.opener.calls
    assert (request.get_method(), request.full_url, timeout) == ("PUT", RESPONSE_URL, cfn_response.RESPONSE_TIMEOUT_SECONDS)
    assert request.get_header("Content-type") == ""
    assert request.get_header("Content-length") == str(len(request.data))
    body = json.loads(request.data)
    assert body == {
        "Status": "SUCCESS",
        "Reason": f"Data API statement {STATEMENT_ID} finished (log stream: {LOG_STREAM})",
        "PhysicalResourceId": OWN_ID,
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-warehouse/1",
        "RequestId": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        "LogicalResourceId": "CuratedSchema",
        "Data": {"StatementId": STATEMENT_ID},
    }
    assert body == result.sent


def test_a_failed_statement_reports_the_data_api_error_naming_the_statement(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL, GRANT_SQL])
    error = 'ERROR: group "analysts" does not exist'
    described(
        stubber,
        "FAILED",
        Error=error,
        SubStatements=[
            {"Id": f"{STATEMENT_ID}:1", "Status": "FINISHED"},
            {"Id": f"{STATEMENT_ID}:2", "Status": "FAILED", "Error": error},
        ],
    )

    result = run(event(CreateStatements=[CREATE_SQL, GRANT_SQL]), client)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(f"Data API statement {STATEMENT_ID} failed: statement 2 of 2 failed: {error}")
    # A failed Create leaves nothing behind: its rollback Delete must do nothing.
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER


def test_an_aborted_statement_fails_the_request(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    described(stubber, "ABORTED", Error="Query cancelled on user's request")

    result = run(event(), client)

    assert result.sent["Status"] == "FAILED"
    assert "was aborted before it finished: Query cancelled on user's request" in result.sent["Reason"]


def test_a_statement_still_running_is_cancelled_and_reported_before_time_runs_out(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    for _ in range(5):
        described(stubber, "STARTED")
    stubber.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
    context = Context(remaining_ms=handler.RESERVE_MS + 14_000)

    result = run(event(), client, context=context)

    assert result.clock.sleeps == [1.0, 2.0, 4.0, 7.0]  # the last sleep ends exactly at the reserve
    assert context.remaining_ms == handler.RESERVE_MS
    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(f"Timed out: Data API statement {STATEMENT_ID} was still STARTED")
    assert "it was cancelled. Raise the construct's timeout" in result.sent["Reason"]
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER


def test_a_timeout_says_so_when_the_statement_could_not_be_cancelled(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    described(stubber, "PICKED")
    stubber.add_client_error("cancel_statement", "ValidationException", "Could not cancel a query that is already done.")

    result = run(event(), client, context=Context(remaining_ms=handler.RESERVE_MS))

    assert result.clock.sleeps == []
    assert "cancelling it failed, so it may still complete" in result.sent["Reason"]


def test_update_keeps_the_physical_id_when_only_the_statements_change(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [GRANT_SQL], "Update")
    described(stubber, "FINISHED")

    result = run(event("Update", physical_id=OWN_ID, CreateStatements=[GRANT_SQL], old=event()["ResourceProperties"]), client)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)


def test_update_to_another_database_is_a_replacement(data_api) -> None:
    client, stubber = data_api
    stubber.add_response("execute_statement", {"Id": STATEMENT_ID}, {**common([CREATE_SQL], "Update"), "Database": "sandbox"})
    described(stubber, "FINISHED")

    result = run(event("Update", physical_id=OWN_ID, Database="sandbox"), client)

    assert result.sent["PhysicalResourceId"] == f"{CLUSTER}/sandbox/CuratedSchema"


def test_a_failed_update_keeps_the_current_physical_id(data_api) -> None:
    client, stubber = data_api
    stubber.add_response("execute_statement", {"Id": STATEMENT_ID}, {**common([CREATE_SQL], "Update"), "Database": "sandbox"})
    described(stubber, "FAILED", Error='ERROR: database "sandbox" does not exist')

    result = run(event("Update", physical_id=OWN_ID, Database="sandbox"), client)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)


# --- Delete -----------------------------------------------------------------------------------


def test_delete_runs_the_delete_statements(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [DROP_SQL], "Delete")
    described(stubber, "FINISHED")

    result = run(event("Delete", physical_id=OWN_ID), client)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)


def test_delete_without_delete_statements_calls_nothing(data_api) -> None:
    client, _ = data_api  # the stubber fails the test on any call

    result = run(event("Delete", physical_id=OWN_ID, DeleteStatements=[]), client)

    assert (result.sent["Status"], result.sent["Reason"]) == ("SUCCESS", f"No delete statements to run (log stream: {LOG_STREAM})")


def test_delete_after_a_failed_create_does_nothing_even_with_bad_properties(data_api) -> None:
    client, _ = data_api

    result = run(event("Delete", physical_id=handler.CREATE_FAILED_MARKER, ClusterIdentifier=""), client)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", handler.CREATE_FAILED_MARKER)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "Redshift endpoint doesn't exist in this region."),
        ("ValidationException", "Cluster analytics-dev not found. ClusterNotFound"),
        ("ResourceNotFoundException", "Cluster analytics-dev not found"),
    ],
)
def test_delete_succeeds_when_the_cluster_is_gone(data_api, code: str, message: str) -> None:
    client, stubber = data_api
    stubber.add_client_error("execute_statement", code, message, expected_params=common([DROP_SQL], "Delete"))

    result = run(event("Delete", physical_id=OWN_ID), client)

    assert result.sent["Status"] == "SUCCESS"
    assert result.sent["Reason"].startswith(f"Cluster {CLUSTER} no longer exists; nothing left to delete")


def test_delete_fails_on_any_other_error_so_nothing_is_left_behind_silently(data_api) -> None:
    client, stubber = data_api
    stubber.add_client_error("execute_statement", "ValidationException", "username and password in secret cannot be empty")

    result = run(event("Delete", physical_id=OWN_ID), client)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)
    assert "ValidationException" in result.sent["Reason"]
    assert "username and password in secret cannot be empty" in result.sent["Reason"]


def test_a_delete_statement_that_fails_fails_the_delete(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [DROP_SQL], "Delete")
    described(stubber, "FAILED", Error="ERROR: cannot drop schema curated because other objects depend on it")

    result = run(event("Delete", physical_id=OWN_ID), client)

    assert result.sent["Status"] == "FAILED"
    assert "other objects depend on it" in result.sent["Reason"]


# --- always answer ----------------------------------------------------------------------------


def test_any_exception_still_gets_a_failed_response() -> None:
    def broken_client():
        raise RuntimeError("no credentials in this sandbox")

    result = run(event(), None, client_factory=broken_client)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith("RuntimeError: no credentials in this sandbox")
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (event(ClusterIdentifier=""), "ValueError: ResourceProperties.ClusterIdentifier must be a non-empty string"),
        (event(CreateStatements=[]), "ValueError: ResourceProperties.CreateStatements must hold at least one statement"),
        (event(CreateStatements="SELECT 1"), "ValueError: ResourceProperties.CreateStatements must be a list"),
        (event(CreateStatements=["SELECT 1"] * 41), "ValueError: ResourceProperties.CreateStatements holds 41 statements"),
        (event("Update", physical_id=OWN_ID, DeleteStatements=[" "]), "ValueError: ResourceProperties.DeleteStatements must be a list"),
        ({**event(), "RequestType": "Replace"}, "ValueError: unknown RequestType 'Replace'"),
    ],
)
def test_bad_properties_fail_the_request_saying_why(data_api, request_: dict, reason: str) -> None:
    client, _ = data_api

    result = run(request_, client)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(reason)


def test_update_and_delete_failures_keep_the_current_physical_id() -> None:
    def broken_client():
        raise RuntimeError("boom")

    for request_type in ("Update", "Delete"):
        result = run(event(request_type, physical_id=OWN_ID), None, client_factory=broken_client)
        assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)


def test_the_watchdog_answers_before_lambda_stops_the_function_and_only_once(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    described(stubber, "FINISHED")
    timers = Timers()

    def hanging_client():
        watchdog = timers.watchdog()
        assert (watchdog.delay, watchdog.daemon, watchdog.started) == (55.0, True, True)
        watchdog.fire()  # as if the call hung until 5 s before the end; the statement then finishes
        return client

    result = run(event(), None, context=Context(remaining_ms=60_000), client_factory=hanging_client, timers=timers)

    (body,) = result.opener.bodies()
    assert body == result.sent
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", handler.CREATE_FAILED_MARKER)
    assert body["Reason"] == f"{handler.TIMEOUT_REASON} (log stream: {LOG_STREAM})"
    assert "check the VPC endpoints for redshift-data" in handler.TIMEOUT_REASON


def test_the_watchdog_is_cancelled_once_the_request_is_answered(data_api) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL])
    described(stubber, "FINISHED")

    result = run(event(), client, context=Context(remaining_ms=120_000))

    timer = result.timers.watchdog()
    assert (timer.delay, timer.cancelled) == (115.0, True)
    assert len(result.opener.calls) == 1


def test_sending_the_response_is_retried(data_api) -> None:
    client, _ = data_api

    result = run(event("Delete", physical_id=OWN_ID, DeleteStatements=[]), client, opener=Opener(failures=2))

    assert len(result.opener.calls) == cfn_response.RESPONSE_ATTEMPTS == 3
    assert result.sent["Status"] == "SUCCESS"


def test_a_response_that_cannot_be_sent_is_logged_not_raised(data_api, caplog) -> None:
    client, _ = data_api

    with caplog.at_level(logging.INFO, logger="redshift_sql"):
        result = run(event("Delete", physical_id=OWN_ID, DeleteStatements=[]), client, opener=Opener(failures=99))

    assert len(result.opener.calls) == cfn_response.RESPONSE_ATTEMPTS
    assert "could not send the response to CloudFormation" in caplog.messages


def test_logs_hold_neither_the_presigned_url_nor_the_sql_nor_the_secret(data_api, caplog) -> None:
    client, stubber = data_api
    submitted(stubber, [CREATE_SQL, GRANT_SQL])
    described(stubber, "FINISHED")

    with caplog.at_level(logging.DEBUG, logger="redshift_sql"):
        run(event(CreateStatements=[CREATE_SQL, GRANT_SQL]), client)

    logged = json.dumps([{**vars(record), "args": str(record.args)} for record in caplog.records], default=str)
    assert "statement submitted" in caplog.messages
    for forbidden in (RESPONSE_URL, "X-Amz-Signature", CREATE_SQL, GRANT_SQL, SECRET_ARN):
        assert forbidden not in logged


# --- pure functions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ({"Id": "s", "Status": "SUBMITTED"}, None),
        ({"Id": "s", "Status": "PICKED"}, None),
        ({"Id": "s", "Status": "STARTED"}, None),
        ({"Id": "s", "Status": "FINISHED"}, ("SUCCESS", "Data API statement s finished")),
        ({"Id": "s", "Status": "FAILED", "Error": "boom"}, ("FAILED", "Data API statement s failed: boom")),
        ({"Id": "s", "Status": "FAILED"}, ("FAILED", "Data API statement s failed: no error text")),
        ({"Id": "s", "Status": "ALL"}, ("FAILED", "Data API statement s has an unexpected status 'ALL'")),
    ],
)
def test_statuses_are_interpreted(description: dict, expected) -> None:
    assert handler.interpret(description) == expected


def test_an_aborted_sub_statement_is_named() -> None:
    description = {"Status": "ABORTED", "SubStatements": [{"Status": "ABORTED"}, {"Status": "SUBMITTED"}], "Error": "cancelled"}

    assert handler.failure_text(description) == "statement 1 of 2 aborted: cancelled"


@pytest.mark.parametrize(
    ("code", "message", "gone"),
    [
        ("ValidationException", "Redshift endpoint doesn't exist in this region.", True),
        ("ResourceNotFoundException", "whatever", True),
        ("ValidationException", "Cluster not found", True),
        ("ValidationException", "username and password in secret cannot be empty", False),
        ("AccessDeniedException", "Redshift endpoint doesn't exist in this region.", False),
        ("InternalServerException", "", False),
    ],
)
def test_cluster_is_gone_only_for_the_data_apis_not_found_errors(code: str, message: str, gone: bool) -> None:
    error = ClientError({"Error": {"Code": code, "Message": message}}, "ExecuteStatement")

    assert handler.cluster_is_gone(error) is gone


def test_the_physical_id_names_the_target_not_the_statements() -> None:
    target = handler.Target(CLUSTER, DATABASE, SECRET_ARN)
    other_secret = handler.Target(CLUSTER, DATABASE, "arn:aws:secretsmanager:eu-west-1:111122223333:secret:other")

    assert handler.physical_resource_id(target, "CuratedSchema") == OWN_ID
    assert handler.physical_resource_id(other_secret, "CuratedSchema") == OWN_ID


def test_the_client_has_short_timeouts_and_few_retries(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    config = handler._client().meta.config

    assert (config.connect_timeout, config.read_timeout) == (5, 10)
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}
