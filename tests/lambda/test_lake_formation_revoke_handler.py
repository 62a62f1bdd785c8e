"""Custom::IamAllowedPrincipalsRevocation handler: Lake Formation and Glue calls through botocore's
Stubber, the CloudFormation response through a fake urlopen, time through a fake context, sleep and
timer (no network, no waiting). The handler ships as package data of constructs_lib, next to the
shared modules its asset holds (how it answers is tested once, in test_cfn_response.py). A call the
Stubber was not told to expect raises, so a test that queues no response proves the handler made no
call."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.custom_resource_fakes import LOG_STREAM, RESPONSE_URL, Context, Opener, Timers, load_handler, load_shared

handler = load_handler("lake_formation_revoke")
cfn_response = load_shared("cfn_response")

CATALOG = "111122223333"
DATABASE = "team_dev_curated"
OWN_ID = f"{CATALOG}:{DATABASE}"
PRINCIPAL = {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}
NOTHING_REVOKED = "No permissions revoked. Grantee has no permissions and no grantable permissions on resource."
#: Pass as a property value to leave the property out of the event.
ABSENT = object()


def event(
    request_type: str = "Create", *, physical_id: str | None = None, logical_id: str = "CuratedRevocation", **properties
) -> dict:
    props = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:revoke",
        "ServiceTimeout": "600",
        "CatalogId": CATALOG,
        "DatabaseName": DATABASE,
        "RestoreOnDelete": "false",  # what the construct sends by default
    }
    props.update(properties)
    props = {k: v for k, v in props.items() if v is not ABSENT}
    built = {
        "RequestType": request_type,
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-governance/1",
        "RequestId": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::IamAllowedPrincipalsRevocation",
        "ResourceProperties": props,
    }
    if physical_id is not None:
        built["PhysicalResourceId"] = physical_id
    return built


@dataclass
class Stubs:
    clients: Any
    lakeformation: Stubber
    glue: Stubber


@pytest.fixture
def stubs():
    credentials = {"region_name": "eu-west-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    lf = boto3.client("lakeformation", **credentials)
    glue = boto3.client("glue", **credentials)
    with Stubber(lf) as lf_stub, Stubber(glue) as glue_stub:
        yield Stubs(handler.Clients(lakeformation=lf, glue=glue), lf_stub, glue_stub)
        lf_stub.assert_no_pending_responses()
        glue_stub.assert_no_pending_responses()


@dataclass
class Run:
    sent: dict | None
    opener: Opener
    sleeps: list[float]
    timers: Timers


def run(
    request: dict, clients=None, *, context: Context | None = None, opener: Opener | None = None, client_factory=None,
    timers: Timers | None = None, on_sleep: Callable[[float], Any] | None = None,
) -> Run:
    opener = opener or Opener()
    sleeps: list[float] = []
    timers = timers if timers is not None else Timers()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep(seconds)

    sent = handler.process(
        request,
        context or Context(),
        client_factory=client_factory or (lambda: clients),
        opener=opener,
        sleep=sleep,
        timer_factory=timers,
    )
    return Run(sent, opener, sleeps, timers)


# --- what the stubs expect ----------------------------------------------------------------------


def database(name: str = DATABASE) -> dict:
    return {"Database": {"CatalogId": CATALOG, "Name": name}}


def all_tables(name: str = DATABASE) -> dict:
    return {"Table": {"CatalogId": CATALOG, "DatabaseName": name, "TableWildcard": {}}}


def table(table_name: str, name: str = DATABASE) -> dict:
    return {"Table": {"CatalogId": CATALOG, "DatabaseName": name, "Name": table_name}}


def tables_listed(stubs: Stubs, *pages: list[str], name: str = DATABASE) -> None:
    for number, names in enumerate(pages):
        expected = {"CatalogId": CATALOG, "DatabaseName": name}
        if number:
            expected["NextToken"] = f"page-{number}"
        response = {"TableList": [{"Name": n} for n in names]}
        if number < len(pages) - 1:
            response["NextToken"] = f"page-{number + 1}"
        stubs.glue.add_response("get_tables", response, expected)


def held(stubs: Stubs, resource: dict, permissions: list[str], grantable: list[str] | None = None, **extra) -> None:
    entries = (
        [{"Principal": PRINCIPAL, "Resource": resource, "Permissions": permissions, "PermissionsWithGrantOption": grantable or []}]
        if permissions
        else []
    )
    stubs.lakeformation.add_response(
        "list_permissions",
        {"PrincipalResourcePermissions": entries, **extra},
        {"CatalogId": CATALOG, "Principal": PRINCIPAL, "Resource": resource},
    )


def revoked(stubs: Stubs, resource: dict, permissions: list[str], grantable: list[str] | None = None) -> None:
    expected = {"CatalogId": CATALOG, "Principal": PRINCIPAL, "Resource": resource, "Permissions": permissions}
    if grantable:
        expected["PermissionsWithGrantOption"] = grantable
    stubs.lakeformation.add_response("revoke_permissions", {}, expected)


def revoke_refused(stubs: Stubs, resource: dict, code: str, message: str, permissions: list[str] | None = None) -> None:
    stubs.lakeformation.add_client_error(
        "revoke_permissions",
        code,
        message,
        expected_params={"CatalogId": CATALOG, "Principal": PRINCIPAL, "Resource": resource, "Permissions": permissions or ["ALL"]},
    )


def restored(stubs: Stubs, resource: dict) -> None:
    stubs.lakeformation.add_response(
        "grant_permissions", {}, {"CatalogId": CATALOG, "Principal": PRINCIPAL, "Resource": resource, "Permissions": ["ALL"]}
    )


# --- Create and Update --------------------------------------------------------------------------


def test_create_revokes_what_the_group_holds_on_the_database_its_wildcard_and_every_table(stubs) -> None:
    tables_listed(stubs, ["events"], ["devices"])  # two pages
    held(stubs, database(), ["ALL"])
    revoked(stubs, database(), ["ALL"])
    held(stubs, all_tables(), [])
    revoke_refused(stubs, all_tables(), "InvalidInputException", NOTHING_REVOKED)
    held(stubs, table("events"), ["ALL"])
    revoked(stubs, table("events"), ["ALL"])
    held(stubs, table("devices"), ["DESCRIBE", "SELECT"], ["SELECT"])
    revoked(stubs, table("devices"), ["DESCRIBE", "SELECT"], ["SELECT"])

    result = run(event(), stubs.clients)

    assert result.sent["Status"] == "SUCCESS"
    assert result.sent["PhysicalResourceId"] == OWN_ID
    assert result.sent["Data"] == {"Revoked": "3", "Tables": "2"}
    assert result.sent["Reason"].startswith(
        f"IAM_ALLOWED_PRINCIPALS revoked on 3 of 4 resources of database {DATABASE} "
        "(the database, its table wildcard and 2 tables); the others held nothing"
    )


def test_permissions_listed_over_several_pages_are_all_revoked(stubs) -> None:
    tables_listed(stubs, [])
    held(stubs, database(), ["ALL"], NextToken="next")
    stubs.lakeformation.add_response(
        "list_permissions",
        {"PrincipalResourcePermissions": [
            {"Principal": PRINCIPAL, "Resource": database(), "Permissions": ["DESCRIBE"]},
            # another principal's entry is never touched
            {"Principal": {"DataLakePrincipalIdentifier": "arn:aws:iam::111122223333:role/analyst"}, "Resource": database(), "Permissions": ["DROP"]},
        ]},
        {"CatalogId": CATALOG, "Principal": PRINCIPAL, "Resource": database(), "NextToken": "next"},
    )
    revoked(stubs, database(), ["ALL", "DESCRIBE"])
    held(stubs, all_tables(), ["ALL"])
    revoked(stubs, all_tables(), ["ALL"])

    result = run(event(), stubs.clients)

    assert (result.sent["Status"], result.sent["Data"]) == ("SUCCESS", {"Revoked": "2", "Tables": "0"})


def test_nothing_to_revoke_anywhere_is_success(stubs) -> None:
    tables_listed(stubs, ["events"])
    for resource in (database(), all_tables(), table("events")):
        held(stubs, resource, [])
        revoke_refused(stubs, resource, "InvalidInputException", NOTHING_REVOKED)

    result = run(event(), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert result.sent["Data"] == {"Revoked": "0", "Tables": "1"}


def test_only_the_exact_nothing_to_revoke_error_counts_as_nothing_to_revoke(stubs) -> None:
    tables_listed(stubs, [])
    held(stubs, database(), [])
    revoke_refused(stubs, database(), "InvalidInputException", "Invalid principal: IAM_ALLOWED_PRINCIPALS")

    result = run(event(), stubs.clients)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(
        f"ResourceError: revoking IAM_ALLOWED_PRINCIPALS on database {DATABASE} failed: "
        "An error occurred (InvalidInputException) when calling the RevokePermissions operation: Invalid principal"
    )
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER  # nothing was changed


def test_an_api_error_fails_the_request_saying_which_resource_and_why(stubs) -> None:
    tables_listed(stubs, ["events"])
    held(stubs, database(), ["ALL"])
    revoked(stubs, database(), ["ALL"])
    held(stubs, all_tables(), ["ALL"])
    revoke_refused(stubs, all_tables(), "AccessDeniedException", "Insufficient Lake Formation permission(s) on team_dev_curated")

    result = run(event(), stubs.clients)

    assert result.sent["Status"] == "FAILED"
    assert "revoking IAM_ALLOWED_PRINCIPALS on all tables of team_dev_curated failed" in result.sent["Reason"]
    assert "AccessDeniedException" in result.sent["Reason"] and "Insufficient Lake Formation permission" in result.sent["Reason"]
    assert result.sent["Reason"].endswith(f"(log stream: {LOG_STREAM})")
    # The database was already revoked: the rollback's Delete must restore it, so keep the real id.
    assert result.sent["PhysicalResourceId"] == OWN_ID


def test_a_missing_database_fails_the_create_without_changing_anything(stubs) -> None:
    stubs.glue.add_client_error("get_tables", "EntityNotFoundException", f"Database {DATABASE} not found.")

    result = run(event(), stubs.clients)

    assert result.sent["Status"] == "FAILED"
    assert "EntityNotFoundException" in result.sent["Reason"]
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER


def test_update_of_the_same_database_revokes_again_and_keeps_the_id(stubs) -> None:
    tables_listed(stubs, ["late_table"])
    held(stubs, database(), [])
    revoke_refused(stubs, database(), "InvalidInputException", NOTHING_REVOKED)
    held(stubs, all_tables(), [])
    revoke_refused(stubs, all_tables(), "InvalidInputException", NOTHING_REVOKED)
    held(stubs, table("late_table"), ["ALL"])
    revoked(stubs, table("late_table"), ["ALL"])

    result = run(event("Update", physical_id=OWN_ID), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)


def test_update_to_another_database_revokes_there_and_returns_its_id(stubs) -> None:
    tables_listed(stubs, [], name="sandbox")
    held(stubs, database("sandbox"), ["ALL"])
    revoked(stubs, database("sandbox"), ["ALL"])
    held(stubs, all_tables("sandbox"), [])
    revoke_refused(stubs, all_tables("sandbox"), "InvalidInputException", NOTHING_REVOKED)

    result = run(event("Update", physical_id=OWN_ID, DatabaseName="sandbox"), stubs.clients)

    # A new id: CloudFormation replaces, then sends Delete for OWN_ID with the old properties.
    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", f"{CATALOG}:sandbox")


def test_a_failed_update_keeps_the_current_id(stubs) -> None:
    stubs.glue.add_client_error("get_tables", "AccessDeniedException", "not authorized")

    result = run(event("Update", physical_id=OWN_ID, DatabaseName="sandbox"), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)


def test_concurrent_modification_is_retried_with_a_growing_wait(stubs) -> None:
    tables_listed(stubs, [])
    held(stubs, database(), ["ALL"])
    for _ in range(2):
        revoke_refused(stubs, database(), "ConcurrentModificationException", "Permission update failed", ["ALL"])
    revoked(stubs, database(), ["ALL"])
    held(stubs, all_tables(), [])
    revoke_refused(stubs, all_tables(), "InvalidInputException", NOTHING_REVOKED)

    result = run(event(), stubs.clients)

    assert result.sent["Status"] == "SUCCESS"
    assert result.sleeps == [1.0, 2.0]


def test_concurrent_modification_that_persists_fails_the_request(stubs) -> None:
    tables_listed(stubs, [])
    held(stubs, database(), ["ALL"])
    for _ in range(handler.CONCURRENT_ATTEMPTS):
        revoke_refused(stubs, database(), "ConcurrentModificationException", "Permission update failed", ["ALL"])

    result = run(event(), stubs.clients)

    assert result.sent["Status"] == "FAILED"
    assert "ConcurrentModificationException" in result.sent["Reason"]
    assert result.sleeps == [1.0, 2.0, 4.0]


# --- Delete -----------------------------------------------------------------------------------


def test_delete_leaves_the_database_governed_by_default_without_any_call(stubs, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="lake_formation_revoke"):
        result = run(event("Delete", physical_id=OWN_ID), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert result.sent["Data"] == {"Restored": "0"}
    assert result.sent["Reason"].startswith(
        f"RestoreOnDelete is not true: IAM_ALLOWED_PRINCIPALS stays revoked on database {DATABASE}; nothing granted back"
    )
    assert "delete without restore" in caplog.messages


def test_delete_of_a_resource_created_before_restore_on_delete_existed_restores_nothing(stubs) -> None:
    result = run(event("Delete", physical_id=OWN_ID, RestoreOnDelete=ABSENT), stubs.clients)

    assert (result.sent["Status"], result.sent["Data"]) == ("SUCCESS", {"Restored": "0"})


def test_a_replacement_revokes_the_database_and_the_old_resources_delete_does_not_reopen_it(stubs) -> None:
    """A renamed logical id for the same database: CloudFormation creates the new resource, then
    deletes the old one. With a restoring Delete the database would end up open to every IAM principal."""
    tables_listed(stubs, ["events"])
    held(stubs, database(), ["ALL"])
    revoked(stubs, database(), ["ALL"])
    held(stubs, all_tables(), [])
    revoke_refused(stubs, all_tables(), "InvalidInputException", NOTHING_REVOKED)
    held(stubs, table("events"), ["ALL"])
    revoked(stubs, table("events"), ["ALL"])

    created = run(event("Create", logical_id="RevocationDatabaseteamdevcurated"), stubs.clients)
    deleted = run(event("Delete", physical_id=OWN_ID, logical_id="CuratedRevocation"), stubs.clients)

    assert (created.sent["Status"], created.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert (deleted.sent["Status"], deleted.sent["Data"]) == ("SUCCESS", {"Restored": "0"})
    # no grant_permissions was queued: a restore would have failed the Delete with an unstubbed call


def test_an_update_that_flips_restore_on_delete_keeps_the_id_and_the_next_delete_restores(stubs) -> None:
    tables_listed(stubs, [])
    for resource in (database(), all_tables()):
        held(stubs, resource, [])
        revoke_refused(stubs, resource, "InvalidInputException", NOTHING_REVOKED)
    flip = event("Update", physical_id=OWN_ID, RestoreOnDelete="true")
    flip["OldResourceProperties"] = {**flip["ResourceProperties"], "RestoreOnDelete": "false"}

    updated = run(flip, stubs.clients)

    # The same id: an in-place update, so CloudFormation sends no Delete for it now.
    assert (updated.sent["Status"], updated.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)

    tables_listed(stubs, [])
    restored(stubs, database())
    deleted = run(event("Delete", physical_id=OWN_ID, RestoreOnDelete="true"), stubs.clients)

    assert (deleted.sent["Status"], deleted.sent["Data"]) == ("SUCCESS", {"Restored": "1"})


def test_delete_with_restore_grants_all_back_on_the_database_and_each_table(stubs) -> None:
    tables_listed(stubs, ["events", "devices"])
    restored(stubs, database())
    restored(stubs, table("events"))
    restored(stubs, table("devices"))

    result = run(event("Delete", physical_id=OWN_ID, RestoreOnDelete="true"), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert result.sent["Data"] == {"Restored": "3"}
    assert result.sent["Reason"].startswith(f"ALL granted back to IAM_ALLOWED_PRINCIPALS on database {DATABASE} and its 2 tables")


def test_delete_with_restore_of_a_database_that_is_gone_restores_nothing(stubs) -> None:
    stubs.glue.add_client_error("get_tables", "EntityNotFoundException", f"Database {DATABASE} not found.")

    result = run(event("Delete", physical_id=OWN_ID, RestoreOnDelete="true"), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert result.sent["Reason"].startswith(f"Database {DATABASE} no longer exists; nothing to restore")


def test_delete_with_restore_fails_on_any_other_error_naming_the_resource(stubs) -> None:
    tables_listed(stubs, ["events"])
    restored(stubs, database())
    stubs.lakeformation.add_client_error("grant_permissions", "AccessDeniedException", "Insufficient Lake Formation permission(s)")

    result = run(event("Delete", physical_id=OWN_ID, RestoreOnDelete="true"), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)
    assert "granting ALL back to IAM_ALLOWED_PRINCIPALS on table team_dev_curated.events failed" in result.sent["Reason"]


def test_delete_after_a_create_that_changed_nothing_does_nothing_even_with_bad_properties(stubs) -> None:
    result = run(event("Delete", physical_id=handler.CREATE_FAILED_MARKER, DatabaseName=""), stubs.clients)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", handler.CREATE_FAILED_MARKER)


# --- always answer ----------------------------------------------------------------------------


def test_the_response_is_put_to_the_presigned_url_with_an_empty_content_type(stubs) -> None:
    result = run(event("Delete", physical_id=handler.CREATE_FAILED_MARKER), stubs.clients)

    ((request, timeout),) = result.opener.calls
    assert (request.get_method(), request.full_url, timeout) == ("PUT", RESPONSE_URL, cfn_response.RESPONSE_TIMEOUT_SECONDS)
    assert request.get_header("Content-type") == ""
    assert request.get_header("Content-length") == str(len(request.data))
    assert json.loads(request.data) == result.sent == {
        "Status": "SUCCESS",
        "Reason": f"Nothing to restore: the Create of this resource failed before changing anything (log stream: {LOG_STREAM})",
        "PhysicalResourceId": handler.CREATE_FAILED_MARKER,
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-governance/1",
        "RequestId": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        "LogicalResourceId": "CuratedRevocation",
        "Data": {},
    }


def test_any_exception_still_gets_a_failed_response() -> None:
    def broken_clients():
        raise RuntimeError("no credentials in this sandbox")

    for request_type, physical_id, expected_id in (
        ("Create", None, handler.CREATE_FAILED_MARKER),
        ("Update", OWN_ID, OWN_ID),
        ("Delete", OWN_ID, OWN_ID),
    ):
        result = run(event(request_type, physical_id=physical_id), client_factory=broken_clients)
        assert result.sent["Status"] == "FAILED"
        assert result.sent["Reason"].startswith("RuntimeError: no credentials in this sandbox")
        assert result.sent["PhysicalResourceId"] == expected_id
        assert len(result.opener.calls) == 1


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (event(DatabaseName=""), "ValueError: ResourceProperties.DatabaseName must be a non-empty string"),
        (event(CatalogId=None), "ValueError: ResourceProperties.CatalogId must be a non-empty string"),
        (event(RestoreOnDelete="yes"), "ValueError: ResourceProperties.RestoreOnDelete must be 'true' or 'false'; got 'yes'"),
        (event("Delete", physical_id=OWN_ID, RestoreOnDelete="True"), "ValueError: ResourceProperties.RestoreOnDelete must be 'true' or 'false'"),
        (event(RestoreOnDelete=["true"]), "ValueError: ResourceProperties.RestoreOnDelete must be 'true' or 'false'"),
        ({**event(), "RequestType": "Replace"}, "ValueError: unknown RequestType 'Replace'"),
    ],
)
def test_bad_properties_fail_the_request_saying_why(stubs, request_: dict, reason: str) -> None:
    result = run(request_, stubs.clients)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(reason)


def test_the_watchdog_answers_before_lambda_stops_the_function_and_only_once(stubs) -> None:
    tables_listed(stubs, [])
    for resource in (database(), all_tables()):
        held(stubs, resource, [])
        revoke_refused(stubs, resource, "InvalidInputException", NOTHING_REVOKED)
    timers = Timers()

    def hanging_clients():
        watchdog = timers.watchdog()
        assert (watchdog.delay, watchdog.daemon, watchdog.started) == (55.0, True, True)
        watchdog.fire()  # as if a call hung until 5 s before the end; the request then completes
        return stubs.clients

    result = run(event(), context=Context(remaining_ms=60_000), client_factory=hanging_clients, timers=timers)

    (body,) = result.opener.bodies()
    assert body == result.sent
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", handler.CREATE_FAILED_MARKER)
    assert body["Reason"] == f"{handler.TIMEOUT_REASON} (log stream: {LOG_STREAM})"
    assert "too many tables for the timeout" in handler.TIMEOUT_REASON


def test_the_watchdog_names_the_database_once_a_create_has_changed_something(stubs) -> None:
    tables_listed(stubs, [])
    held(stubs, database(), ["ALL"])
    revoked(stubs, database(), ["ALL"])
    held(stubs, all_tables(), [])
    revoke_refused(stubs, all_tables(), "ConcurrentModificationException", "Permission update failed")
    revoke_refused(stubs, all_tables(), "InvalidInputException", NOTHING_REVOKED)
    timers = Timers()

    # The watchdog fires while the handler waits to retry, after it revoked on the database.
    result = run(event(), stubs.clients, context=Context(remaining_ms=120_000), timers=timers, on_sleep=lambda _: timers.watchdog().fire())

    (body,) = result.opener.bodies()
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", OWN_ID)  # so the rollback's Delete can restore
    assert (timers.watchdog().delay, timers.watchdog().cancelled) == (115.0, True)
    assert result.sleeps == [1.0]


def test_sending_the_response_is_retried(stubs) -> None:
    result = run(event("Delete", physical_id=handler.CREATE_FAILED_MARKER), stubs.clients, opener=Opener(failures=2))

    assert len(result.opener.calls) == cfn_response.RESPONSE_ATTEMPTS == 3
    assert result.sent["Status"] == "SUCCESS"


def test_a_response_that_cannot_be_sent_is_logged_not_raised(stubs, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="lake_formation_revoke"):
        result = run(event("Delete", physical_id=handler.CREATE_FAILED_MARKER), stubs.clients, opener=Opener(failures=99))

    assert len(result.opener.calls) == cfn_response.RESPONSE_ATTEMPTS
    assert "could not send the response to CloudFormation" in caplog.messages


def test_logs_never_hold_the_presigned_url(stubs, caplog) -> None:
    tables_listed(stubs, [])
    held(stubs, database(), ["ALL"])
    revoked(stubs, database(), ["ALL"])
    held(stubs, all_tables(), [])
    revoke_refused(stubs, all_tables(), "InvalidInputException", NOTHING_REVOKED)

    with caplog.at_level(logging.DEBUG, logger="lake_formation_revoke"):
        run(event(), stubs.clients)

    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name == "lake_formation_revoke")
    assert "X-Amz-Signature" not in logged and RESPONSE_URL not in logged
    assert "revoked" in caplog.messages and "nothing to revoke" in caplog.messages
