"""Custom::OpenSearchSecurityRoles handler: STS through botocore's Stubber, the domain's security REST
API as an in-memory fake behind a fake urlopen (which also takes the CloudFormation response), time
through a fake context, sleep and timer (no network, no waiting). How any of the library's functions
answers (body, retries, watchdog) is tested once, in test_cfn_response.py."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import socket
import urllib.error
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.stub import Stubber

from tests.custom_resource_fakes import LOG_STREAM, RESPONSE_URL, Clock, Context, Timer, Timers, load_handler

handler = load_handler("opensearch_security")

REGION = "eu-west-1"
ENDPOINT = "vpc-search-abc123.eu-west-1.es.amazonaws.com"
OTHER_ENDPOINT = "vpc-search-def456.eu-west-1.es.amazonaws.com"
MASTER_ARN = "arn:aws:iam::111122223333:role/search-master"
WRITER_ARN = "arn:aws:iam::111122223333:role/telemetry-firehose"
READER_ARN = "arn:aws:iam::111122223333:role/analysts"
STACK_ID = "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-search/1e2d"
REQUEST_ID = "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d"
LOGICAL_ID = "SecurityRoles"
OWN_ID = f"{ENDPOINT}/{LOGICAL_ID}"
ACCESS_KEY, SECRET_KEY, SESSION_TOKEN = "ASIAEXAMPLEEXAMPLE01", "secret-key-value-not-to-log", "session-token-not-to-log"
OURS = handler.owner_description("analytics-dev-search", LOGICAL_ID)
SIBLING = handler.owner_description("analytics-dev-search", "OldSecurityRoles")
API = "_plugins/_security/api"

WRITER = {
    "Name": "telemetry_firehose_writer",
    "BackendRoles": [WRITER_ARN],
    "IndexPatterns": ["telemetry", "telemetry-*"],
    "IndexActions": ["crud", "create_index", "manage"],
    "ClusterActions": ["cluster_composite_ops", "cluster_monitor"],
}
READER = {
    "Name": "telemetry_reader",
    "BackendRoles": [READER_ARN],
    "IndexPatterns": ["telemetry-*"],
    "IndexActions": ["read"],
    "ClusterActions": ["cluster_composite_ops_ro"],
}


def props(*roles: dict, endpoint: str = ENDPOINT, **overrides) -> dict:
    built = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:roles",
        "ServiceTimeout": "600",
        "Endpoint": endpoint,
        "MasterRoleArn": MASTER_ARN,
        "Roles": list(roles) if roles else [WRITER, READER],
    }
    built.update(overrides)
    return built


def event(request_type: str = "Create", properties: dict | None = None, *, physical_id: str | None = None, old: dict | None = None) -> dict:
    built = {
        "RequestType": request_type,
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": REQUEST_ID,
        "LogicalResourceId": LOGICAL_ID,
        "ResourceType": "Custom::OpenSearchSecurityRoles",
        "ResourceProperties": properties if properties is not None else props(),
    }
    if physical_id is not None:
        built["PhysicalResourceId"] = physical_id
    if old is not None:
        built["OldResourceProperties"] = old
    return built


def role_body(role: dict, description: str = OURS) -> dict:
    return {
        "description": description,
        "cluster_permissions": role["ClusterActions"],
        "index_permissions": [{"index_patterns": role["IndexPatterns"], "allowed_actions": role["IndexActions"]}],
    }


def mapping_body(role: dict) -> dict:
    return {"backend_roles": role["BackendRoles"], "hosts": [], "users": []}


# --- fakes ------------------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, document: Any = None) -> None:
        self.status = status
        self._body = json.dumps(document).encode() if document is not None else b""

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def http_error(url: str, status: int, body: str) -> urllib.error.HTTPError:
    return urllib.error.HTTPError(url, status, "error", Message(), io.BytesIO(body.encode()))


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    host: str
    timeout: float

    @property
    def short(self) -> str:
        return f"{self.method} {self.path.removeprefix('/' + API + '/')}"


@dataclass
class Domain:
    """The security REST API of OpenSearch domains, in memory, behind a fake urlopen; the pre-signed
    response URL lands here too. ``faults`` are answered once each, in order, before the fake looks
    at its store: ``(method, path suffix, status or exception, body)``."""

    roles: dict[str, dict] = field(default_factory=dict)
    mappings: dict[str, dict] = field(default_factory=dict)
    faults: list[tuple] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    response_failures: int = 0

    def __call__(self, request, timeout: float) -> Answer:
        if request.full_url == RESPONSE_URL:
            if self.response_failures:
                self.response_failures -= 1
                raise OSError("connection reset")
            self.responses.append(json.loads(request.data))
            return Answer(200)
        url = urllib.parse.urlsplit(request.full_url)
        method = request.get_method()
        call = Call(method, url.path, {k.lower(): v for k, v in request.header_items()},
                    json.loads(request.data) if request.data else None, url.hostname or "", timeout)
        self.calls.append(call)
        for position, (fault_method, suffix, outcome, body) in enumerate(self.faults):
            if fault_method == method and url.path.endswith(suffix):
                del self.faults[position]
                if isinstance(outcome, Exception):
                    raise outcome
                raise http_error(request.full_url, outcome, body)
        kind, name = url.path.split("/")[-2:]
        store = self.roles if kind == "roles" else self.mappings
        if method == "GET":
            if name not in store:
                raise http_error(request.full_url, 404, json.dumps({"status": "NOT_FOUND", "message": f"Resource '{name}' not found."}))
            return Answer(200, {name: store[name]})
        if method == "PUT":
            if store.get(name, {}).get("reserved"):
                raise http_error(request.full_url, 403, json.dumps({"status": "FORBIDDEN", "message": f"Resource '{name}' is reserved."}))
            created = name not in store
            store[name] = call.body
            return Answer(201 if created else 200, {"status": "CREATED" if created else "OK", "message": f"'{name}' updated."})
        if name not in store:
            raise http_error(request.full_url, 404, json.dumps({"status": "NOT_FOUND", "message": f"Resource '{name}' not found."}))
        del store[name]
        return Answer(200, {"status": "OK", "message": f"'{name}' deleted."})

    def domain_calls(self) -> list[str]:
        return [call.short for call in self.calls]


@pytest.fixture
def sts():
    client = boto3.client("sts", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def assumed(stubber: Stubber, role_arn: str = MASTER_ARN) -> None:
    stubber.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": ACCESS_KEY,
                "SecretAccessKey": SECRET_KEY,
                "SessionToken": SESSION_TOKEN,
                "Expiration": dt.datetime(2026, 11, 23, 12, 15, tzinfo=dt.UTC),
            }
        },
        {"RoleArn": role_arn, "RoleSessionName": f"SearchSecurityRoles-{REQUEST_ID}", "DurationSeconds": 900},
    )


@dataclass
class Run:
    sent: dict | None
    domain: Domain
    clock: Clock
    timers: Timers


def run(
    request: dict, client, domain: Domain | None = None, *, context: Context | None = None, sts_factory=None,
    timers: Timers | None = None, on_sleep: Callable[[float], Any] | None = None,
) -> Run:
    domain = domain if domain is not None else Domain()
    context = context or Context()
    clock = Clock(context)
    timers = timers if timers is not None else Timers()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if on_sleep is not None:
            on_sleep(seconds)

    sent = handler.process(
        request, context, sts_factory=sts_factory or (lambda: client), region=REGION, opener=domain,
        sleep=sleep, timer_factory=timers,
    )
    assert len(domain.responses) == 1 and domain.responses[0] == sent  # CloudFormation is always answered, once
    return Run(sent, domain, clock, timers)


def owned(*roles: dict, description: str = OURS) -> Domain:
    """A domain that already holds ``roles`` and their mappings, written with ``description``."""
    return Domain(
        roles={r["Name"]: role_body(r, description) for r in roles},
        mappings={r["Name"]: mapping_body(r) for r in roles},
    )


# --- Create -----------------------------------------------------------------------------------


def test_create_checks_then_puts_every_role_then_every_mapping(sts) -> None:
    client, stubber = sts
    assumed(stubber)

    result = run(event(), client)

    assert result.domain.domain_calls() == [
        "GET roles/telemetry_firehose_writer",
        "GET roles/telemetry_reader",
        "PUT roles/telemetry_firehose_writer",
        "PUT roles/telemetry_reader",
        "PUT rolesmapping/telemetry_firehose_writer",
        "PUT rolesmapping/telemetry_reader",
    ]
    assert result.domain.roles == {"telemetry_firehose_writer": role_body(WRITER), "telemetry_reader": role_body(READER)}
    assert result.domain.mappings == {"telemetry_firehose_writer": mapping_body(WRITER), "telemetry_reader": mapping_body(READER)}
    assert result.sent["Status"] == "SUCCESS"
    assert result.sent["PhysicalResourceId"] == OWN_ID
    assert result.sent["Reason"].startswith("Wrote 2 role(s) and their mappings: telemetry_firehose_writer, telemetry_reader")
    assert result.sent["Data"] == {"Roles": "telemetry_firehose_writer,telemetry_reader"}
    assert (result.sent["StackId"], result.sent["RequestId"], result.sent["LogicalResourceId"]) == (STACK_ID, REQUEST_ID, LOGICAL_ID)


def test_every_request_goes_to_the_endpoint_over_https_signed_with_the_master_roles_session(sts) -> None:
    client, stubber = sts
    assumed(stubber)

    result = run(event(), client)

    for call in result.domain.calls:
        assert call.host == ENDPOINT and call.timeout == handler.HTTP_TIMEOUT_SECONDS
        authorization = call.headers["authorization"]
        assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
        assert f"/{REGION}/es/aws4_request" in authorization  # OpenSearch Service's signing name
        assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token" in authorization
        assert call.headers["x-amz-security-token"] == SESSION_TOKEN
        assert len(call.headers["x-amz-date"]) == 16  # 20261123T120000Z
        assert call.headers["content-type"] == "application/json"


def test_the_signature_covers_method_path_and_body(monkeypatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))
    credentials = handler.Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
    url = f"https://{ENDPOINT}/{API}/roles/x"

    def signature(method: str, target: str, body: bytes | None) -> str:
        return handler.signed_headers(method, target, body, credentials, REGION)["Authorization"]

    one = signature("PUT", url, b'{"a":1}')
    assert one == signature("PUT", url, b'{"a":1}')  # deterministic at a fixed time
    assert one != signature("PUT", url, b'{"a":2}')
    assert one != signature("POST", url, b'{"a":1}')
    assert one != signature("PUT", url.replace("/x", "/y"), b'{"a":1}')
    assert handler.signed_headers("GET", url, None, credentials, REGION)["X-Amz-Date"] == "20261123T120000Z"


def test_a_role_written_by_another_resource_of_the_stack_is_taken_over(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = owned(WRITER, description=SIBLING)

    result = run(event(properties=props(WRITER)), client, domain)

    assert result.sent["Status"] == "SUCCESS"
    assert domain.roles["telemetry_firehose_writer"]["description"] == OURS


@pytest.mark.parametrize(
    ("existing", "why"),
    [
        ({"description": "Created by hand for the Firehose test"}, "it exists and is not managed by stack analytics-dev-search"),
        ({"description": handler.owner_description("another-stack", LOGICAL_ID)}, "it exists and is not managed by stack analytics-dev-search"),
        ({}, "it exists and is not managed by stack analytics-dev-search (description: '')"),
        ({"reserved": True, "description": OURS}, "it is a reserved role"),
        ({"static": True}, "it is a static role"),
        ({"hidden": True}, "it is a hidden role"),
    ],
)
def test_a_role_anyone_else_wrote_is_not_touched_and_the_create_leaves_nothing(sts, existing: dict, why: str) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(roles={"telemetry_reader": existing})

    result = run(event(), client, domain)

    assert domain.domain_calls() == ["GET roles/telemetry_firehose_writer", "GET roles/telemetry_reader"]
    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(f"NotManagedHere: role 'telemetry_reader' is not written: {why}")
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER  # nothing was written


# --- HTTP errors and retries ------------------------------------------------------------------


def test_a_4xx_fails_the_request_with_the_answers_body(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    body = json.dumps({"status": "BAD_REQUEST", "message": "Invalid configuration", "details": "x" * 5000})
    domain = Domain(faults=[("PUT", "/rolesmapping/telemetry_reader", 400, body)])

    result = run(event(), client, domain)

    assert result.sent["Status"] == "FAILED"
    reason = result.sent["Reason"]
    assert reason.startswith(f"HttpError: PUT /{API}/rolesmapping/telemetry_reader answered HTTP 400: {body[:200]}")
    assert body[: handler.MAX_ERROR_BODY_CHARS] in reason and body[: handler.MAX_ERROR_BODY_CHARS + 1] not in reason
    assert reason.endswith(f" (log stream: {LOG_STREAM})")
    assert result.clock.sleeps == []  # a 4xx is not retried
    # Roles were written before the failure: the rollback's Delete must find them under the real id.
    assert result.sent["PhysicalResourceId"] == OWN_ID


def test_a_refused_check_before_anything_is_written_leaves_the_marker(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    body = '{"status":"FORBIDDEN","message":"no permissions for [restapi:admin/roles]"}'
    domain = Domain(faults=[("GET", "/roles/telemetry_firehose_writer", 403, body)])

    result = run(event(), client, domain)

    assert result.sent["Reason"].startswith(f"HttpError: GET /{API}/roles/telemetry_firehose_writer answered HTTP 403: {body}")
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER


def test_a_404_answer_to_a_put_is_an_error_not_a_success(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("PUT", "/roles/telemetry_reader", 404, '{"status":"NOT_FOUND"}')])

    result = run(event(), client, domain)

    assert result.sent["Status"] == "FAILED" and "answered HTTP 404" in result.sent["Reason"]


def test_429_and_5xx_are_retried_with_backoff_then_succeed(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("PUT", "/roles/telemetry_reader", 503, "busy"), ("PUT", "/roles/telemetry_reader", 429, "slow down")])

    result = run(event(), client, domain)

    assert result.sent["Status"] == "SUCCESS"
    assert result.clock.sleeps == [1.0, 2.0]
    assert domain.domain_calls().count("PUT roles/telemetry_reader") == 3
    assert domain.roles["telemetry_reader"] == role_body(READER)


def test_connection_errors_are_retried_too(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("GET", "/roles/telemetry_firehose_writer", urllib.error.URLError(ConnectionRefusedError(111, "refused")), "")])

    result = run(event(), client, domain)

    assert (result.sent["Status"], result.clock.sleeps) == ("SUCCESS", [1.0])


def test_a_5xx_that_does_not_go_away_fails_after_the_last_attempt(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("GET", "/roles/telemetry_firehose_writer", 500, "internal error")] * handler.HTTP_ATTEMPTS)

    result = run(event(), client, domain)

    assert result.clock.sleeps == [1.0, 2.0, 4.0]
    assert len(domain.calls) == handler.HTTP_ATTEMPTS == 4
    assert result.sent["Reason"].startswith(f"HttpError: GET /{API}/roles/telemetry_firehose_writer answered HTTP 500: internal error")


def test_retries_never_wait_into_the_time_kept_for_answering(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("GET", "/roles/telemetry_firehose_writer", 502, "bad gateway")] * 4)

    result = run(event(), client, domain, context=Context(remaining_ms=handler.RESERVE_MS + 1_500))

    assert result.clock.sleeps == [1.0, 0.5]  # the second wait ends exactly at the reserve
    assert len(domain.calls) == 3
    assert result.sent["Status"] == "FAILED"


# --- Update -----------------------------------------------------------------------------------


def test_update_puts_the_new_roles_and_removes_a_dropped_one(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = owned(WRITER, READER)
    changed = {**WRITER, "BackendRoles": [WRITER_ARN, READER_ARN]}

    result = run(event("Update", props(changed), physical_id=OWN_ID, old=props(WRITER, READER)), client, domain)

    assert domain.domain_calls() == [
        "GET roles/telemetry_firehose_writer",
        "PUT roles/telemetry_firehose_writer",
        "PUT rolesmapping/telemetry_firehose_writer",
        "GET roles/telemetry_reader",
        "DELETE rolesmapping/telemetry_reader",
        "DELETE roles/telemetry_reader",
    ]
    assert set(domain.roles) == set(domain.mappings) == {"telemetry_firehose_writer"}
    assert domain.mappings["telemetry_firehose_writer"]["backend_roles"] == [WRITER_ARN, READER_ARN]
    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert "; removed telemetry_reader" in result.sent["Reason"]


def test_update_leaves_a_dropped_role_that_another_resource_now_manages(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = owned(WRITER)
    domain.roles["telemetry_reader"] = role_body(READER, SIBLING)

    result = run(event("Update", props(WRITER), physical_id=OWN_ID, old=props(WRITER, READER)), client, domain)

    assert "telemetry_reader" in domain.roles
    assert "left alone, managed elsewhere: telemetry_reader" in result.sent["Reason"]


def test_update_to_another_domain_is_a_replacement_that_removes_nothing(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain()

    result = run(event("Update", props(WRITER, endpoint=OTHER_ENDPOINT), physical_id=OWN_ID, old=props(WRITER, READER)), client, domain)

    assert {call.host for call in domain.calls} == {OTHER_ENDPOINT}
    assert not [c for c in domain.domain_calls() if c.startswith("DELETE")]  # CloudFormation's Delete cleans the old domain
    assert result.sent["PhysicalResourceId"] == f"{OTHER_ENDPOINT}/{LOGICAL_ID}"


def test_a_failed_update_keeps_the_current_physical_id(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("PUT", "/roles/telemetry_firehose_writer", 400, "bad")])

    result = run(event("Update", props(WRITER), physical_id=OWN_ID, old=props(WRITER)), client, domain)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)


# --- Delete -----------------------------------------------------------------------------------


def test_delete_removes_every_mapping_and_role_it_wrote(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = owned(WRITER, READER)

    result = run(event("Delete", physical_id=OWN_ID), client, domain)

    assert domain.domain_calls() == [
        "GET roles/telemetry_firehose_writer",
        "DELETE rolesmapping/telemetry_firehose_writer",
        "DELETE roles/telemetry_firehose_writer",
        "GET roles/telemetry_reader",
        "DELETE rolesmapping/telemetry_reader",
        "DELETE roles/telemetry_reader",
    ]
    assert domain.roles == domain.mappings == {}
    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", OWN_ID)
    assert result.sent["Data"] == {"Removed": "2"}


def test_delete_of_roles_already_gone_succeeds(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(mappings={"telemetry_reader": mapping_body(READER)})  # a mapping left without its role

    result = run(event("Delete", physical_id=OWN_ID), client, domain)

    assert result.sent["Status"] == "SUCCESS"
    assert domain.mappings == {}


def test_delete_leaves_roles_another_resource_or_a_person_manages(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = owned(WRITER)
    domain.roles["telemetry_reader"] = role_body(READER, SIBLING)  # taken over by a renamed construct

    result = run(event("Delete", physical_id=OWN_ID), client, domain)

    assert set(domain.roles) == {"telemetry_reader"}
    assert result.sent["Reason"].startswith(
        "Removed 1 role(s) and their mappings: telemetry_firehose_writer; left alone, managed elsewhere: telemetry_reader"
    )


def test_delete_after_a_failed_create_does_nothing_even_with_bad_properties(sts) -> None:
    client, _ = sts  # the stubber fails the test on any STS call

    result = run(event("Delete", {"Endpoint": ""}, physical_id=handler.CREATE_FAILED_MARKER), client)

    assert result.domain.calls == []
    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("SUCCESS", handler.CREATE_FAILED_MARKER)


def test_delete_succeeds_when_the_domain_no_longer_resolves(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    gone = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    domain = Domain(faults=[("GET", "/roles/telemetry_firehose_writer", gone, "")])

    result = run(event("Delete", physical_id=OWN_ID), client, domain)

    assert result.sent["Status"] == "SUCCESS"
    assert result.sent["Reason"].startswith(f"Nothing left to remove: {ENDPOINT} does not resolve")


def test_a_create_fails_when_the_domain_does_not_resolve(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    gone = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    result = run(event(), client, Domain(faults=[("GET", "/roles/telemetry_firehose_writer", gone, "")]))

    assert result.sent["Reason"].startswith(f"EndpointUnresolvable: {ENDPOINT} does not resolve")


def test_a_delete_that_cannot_remove_fails_keeping_the_id(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = owned(WRITER, READER)
    domain.faults = [("DELETE", "/roles/telemetry_firehose_writer", 403, "forbidden")]

    result = run(event("Delete", physical_id=OWN_ID), client, domain)

    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)


# --- STS, properties, always answering ---------------------------------------------------------


def test_a_master_role_that_cannot_be_assumed_fails_the_request_saying_so(sts) -> None:
    client, stubber = sts
    stubber.add_client_error("assume_role", "AccessDenied", "User is not authorized to perform: sts:AssumeRole")

    result = run(event(), client)

    assert result.domain.calls == []
    assert result.sent["Status"] == "FAILED"
    assert "AccessDenied" in result.sent["Reason"] and "sts:AssumeRole" in result.sent["Reason"]
    assert result.sent["PhysicalResourceId"] == handler.CREATE_FAILED_MARKER


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (event(properties=props(endpoint="")), "ValueError: ResourceProperties.Endpoint must be a non-empty string"),
        (event(properties=props(endpoint=f"https://{ENDPOINT}")), "ValueError: ResourceProperties.Endpoint must be a host name"),
        (event(properties=props(Roles=[])), "ValueError: ResourceProperties.Roles must be a non-empty list"),
        (event(properties=props(WRITER, WRITER)), "ValueError: ResourceProperties.Roles names ['telemetry_firehose_writer'] more than once"),
        (event(properties=props({**WRITER, "BackendRoles": []})), "ValueError: ResourceProperties.Roles[0].BackendRoles must not be empty"),
        (event(properties=props({**WRITER, "IndexActions": "crud"})), "ValueError: ResourceProperties.Roles[0].IndexActions must be a list"),
        (event(properties=props(MasterRoleArn=None)), "ValueError: ResourceProperties.MasterRoleArn must be a non-empty string"),
        ({**event(), "RequestType": "Replace"}, "ValueError: unknown RequestType 'Replace'"),
    ],
)
def test_bad_properties_fail_the_request_saying_why(sts, request_: dict, reason: str) -> None:
    client, _ = sts

    result = run(request_, client)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith(reason)


def test_any_exception_still_gets_a_failed_response() -> None:
    def broken():
        raise RuntimeError("no credentials in this sandbox")

    result = run(event(), None, sts_factory=broken)

    assert result.sent["Status"] == "FAILED"
    assert result.sent["Reason"].startswith("RuntimeError: no credentials in this sandbox")
    for request_type in ("Update", "Delete"):
        failed = run(event(request_type, physical_id=OWN_ID), None, sts_factory=broken)
        assert (failed.sent["Status"], failed.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)


def test_the_watchdog_answers_before_lambda_stops_the_function_and_only_once(sts) -> None:
    client, stubber = sts
    assumed(stubber)
    domain = Domain(faults=[("PUT", "/rolesmapping/telemetry_firehose_writer", 503, "busy")])
    timers = Timers()

    # The watchdog fires while the handler waits to retry, after it wrote both roles.
    result = run(event(), client, domain, context=Context(remaining_ms=60_000), timers=timers, on_sleep=lambda _: timers.watchdog().fire())

    watchdog = timers.watchdog()
    assert (watchdog.delay, watchdog.daemon, watchdog.started) == (55.0, True, True)
    assert (result.sent["Status"], result.sent["PhysicalResourceId"]) == ("FAILED", OWN_ID)  # the rollback removes them
    assert result.sent["Reason"] == f"{handler.TIMEOUT_REASON} (log stream: {LOG_STREAM})"
    assert "check the STS VPC endpoint and the security groups" in handler.TIMEOUT_REASON
    assert domain.mappings  # the request went on; its own answer was not sent (run checks: one response)


def test_the_watchdog_is_cancelled_once_the_request_is_answered(sts) -> None:
    client, stubber = sts
    assumed(stubber)

    result = run(event(), client, context=Context(remaining_ms=120_000))

    timer = result.timers.watchdog()
    assert (timer.delay, timer.cancelled) == (115.0, True)


def test_sending_the_response_is_retried(sts) -> None:
    client, _ = sts
    domain = Domain(response_failures=2)

    result = run(event("Delete", physical_id=handler.CREATE_FAILED_MARKER), client, domain)

    assert result.sent["Status"] == "SUCCESS"


def test_a_response_that_cannot_be_sent_is_logged_not_raised(sts, caplog) -> None:
    client, _ = sts
    domain = Domain(response_failures=99)

    with caplog.at_level(logging.INFO, logger="opensearch_security"):
        sent = handler.process(
            event("Delete", physical_id=handler.CREATE_FAILED_MARKER), Context(), sts_factory=lambda: client,
            region=REGION, opener=domain, sleep=lambda s: None, timer_factory=lambda d, f, args=(): Timer(d, f, args),
        )

    assert sent["Status"] == "SUCCESS" and domain.responses == []
    assert "could not send the response to CloudFormation" in caplog.messages


def test_logs_hold_neither_the_presigned_url_nor_credentials_nor_signatures(sts, caplog) -> None:
    client, stubber = sts
    assumed(stubber)

    with caplog.at_level(logging.DEBUG, logger="opensearch_security"):
        result = run(event(), client)

    logged = json.dumps([{**vars(record), "args": str(record.args)} for record in caplog.records], default=str)
    assert "mapping written" in caplog.messages
    signature = result.domain.calls[0].headers["authorization"].rsplit("Signature=", 1)[1]
    for forbidden in (RESPONSE_URL, "X-Amz-Signature", ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, signature):
        assert forbidden not in logged


# --- pure functions ---------------------------------------------------------------------------


def test_the_bodies_are_what_the_security_plugin_takes() -> None:
    spec = handler.parse_target(props(WRITER)).roles[0]
    assert spec.role_body("d") == {
        "description": "d",
        "cluster_permissions": ["cluster_composite_ops", "cluster_monitor"],
        "index_permissions": [{"index_patterns": ["telemetry", "telemetry-*"], "allowed_actions": ["crud", "create_index", "manage"]}],
    }
    assert spec.mapping_body() == {"backend_roles": [WRITER_ARN], "hosts": [], "users": []}


def test_ownership_is_read_from_the_description() -> None:
    assert handler.stack_name(STACK_ID) == "analytics-dev-search"
    assert OURS.startswith("Managed by CloudFormation stack analytics-dev-search (resource SecurityRoles)")
    assert handler.may_write(None, "analytics-dev-search") is None
    assert handler.may_write({"description": SIBLING}, "analytics-dev-search") is None
    assert handler.may_write({"description": OURS}, "analytics-dev") is not None  # a stack whose name is a prefix


def test_role_names_are_escaped_in_the_path() -> None:
    assert handler._path("roles", "a b/c") == f"{API}/roles/a%20b%2Fc"


def test_the_sts_client_has_short_timeouts_and_few_retries(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    config = handler._sts().meta.config

    assert (config.connect_timeout, config.read_timeout) == (5, 10)
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}
