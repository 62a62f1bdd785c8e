"""cfn_response: how every custom resource function of the library answers CloudFormation (the
response document and its 4 KB limit, the PUT to the pre-signed URL and its retries, exactly one
answer, the watchdog), tested once here; each handler's tests check what it answers."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.custom_resource_fakes import LOG_STREAM, RESPONSE_URL, Context, Opener, Timers, load_shared

cfn_response = load_shared("cfn_response")
Result = cfn_response.Result
LOGGER = logging.getLogger("test_function")


def event(**extra) -> dict:
    return {
        "RequestType": "Create",
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-warehouse/1",
        "RequestId": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        "LogicalResourceId": "Thing",
        "ResourceType": "Custom::Thing",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:thing"},
        **extra,
    }


def answer(handle, *, context: Context | None = None, opener: Opener | None = None, timers: Timers | None = None, **kwargs):
    opener = opener if opener is not None else Opener()
    timers = timers if timers is not None else Timers()
    sent = cfn_response.answer(
        kwargs.pop("request", event()), context or Context(), handle,
        failure_physical_id=kwargs.pop("failure_physical_id", lambda: "Thing::CREATE_FAILED"),
        timeout_reason="ran out of time", logger=LOGGER, opener=opener, timer_factory=timers, **kwargs,
    )
    return sent, opener, timers


# --- the response document --------------------------------------------------------------------


def test_the_response_is_put_once_to_the_presigned_url_with_an_empty_content_type() -> None:
    sent, opener, _ = answer(lambda: Result("SUCCESS", "done", "thing-1", {"Id": "7"}))

    ((request, timeout),) = opener.calls
    assert (request.get_method(), request.full_url, timeout) == ("PUT", RESPONSE_URL, cfn_response.RESPONSE_TIMEOUT_SECONDS)
    assert request.get_header("Content-type") == ""
    assert request.get_header("Content-length") == str(len(request.data))
    assert json.loads(request.data) == sent == {
        "Status": "SUCCESS",
        "Reason": f"done (log stream: {LOG_STREAM})",
        "PhysicalResourceId": "thing-1",
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/analytics-dev-warehouse/1",
        "RequestId": "6a4e3d8c-8c6f-4c8e-9e1c-2d3f4a5b6c7d",
        "LogicalResourceId": "Thing",
        "Data": {"Id": "7"},
    }


def test_a_long_reason_is_cut_to_fit_cloudformations_4_kb_keeping_the_log_stream() -> None:
    result = Result("FAILED", "é" + "x" * 10_000, "Thing::CREATE_FAILED", {"StatementId": "s-1"})
    tail = f" (log stream: {LOG_STREAM})"

    body = cfn_response.response_body(event(), result, tail=tail)

    assert cfn_response.MAX_RESPONSE_BYTES - 10 < len(body) <= cfn_response.MAX_RESPONSE_BYTES  # cut no more than needed
    document = json.loads(body)
    assert document["Reason"].startswith("éxxx")
    assert document["Reason"].endswith(cfn_response.TRUNCATED + tail)
    assert (document["Status"], document["Data"]) == ("FAILED", {"StatementId": "s-1"})


def test_a_short_reason_is_sent_as_is() -> None:
    body = cfn_response.response_body(event(), Result("SUCCESS", "done", "thing-1"))

    assert json.loads(body)["Reason"] == "done"


# --- always answer, once ----------------------------------------------------------------------


def test_an_exception_becomes_failed_with_its_type_and_text_and_the_failure_id() -> None:
    def broken():
        raise RuntimeError("no credentials in this sandbox")

    sent, opener, timers = answer(broken, failure_physical_id=lambda: "thing-1")

    assert (sent["Status"], sent["PhysicalResourceId"]) == ("FAILED", "thing-1")
    assert sent["Reason"] == f"RuntimeError: no credentials in this sandbox (log stream: {LOG_STREAM})"
    assert len(opener.calls) == 1 and timers.watchdog().cancelled


def test_sending_is_retried_and_a_response_that_cannot_be_sent_is_logged_not_raised(caplog) -> None:
    sent, opener, _ = answer(lambda: Result("SUCCESS", "done", "thing-1"), opener=Opener(failures=2))
    assert len(opener.calls) == cfn_response.RESPONSE_ATTEMPTS == 3 and sent["Status"] == "SUCCESS"

    with caplog.at_level(logging.INFO, logger="test_function"):
        sent, opener, _ = answer(lambda: Result("SUCCESS", "done", "thing-1"), opener=Opener(failures=99))

    assert len(opener.calls) == cfn_response.RESPONSE_ATTEMPTS
    assert sent["Status"] == "SUCCESS"  # what was meant to be sent
    assert "could not send the response to CloudFormation" in caplog.messages
    assert {r.name for r in caplog.records} == {"test_function"}  # the handler's logger, not a shared one


def test_an_event_without_a_response_url_is_logged_and_not_sent(caplog) -> None:
    request = {k: v for k, v in event().items() if k != "ResponseURL"}

    with caplog.at_level(logging.INFO, logger="test_function"):
        sent, opener, _ = answer(lambda: Result("SUCCESS", "done", "thing-1"), request=request)

    assert opener.calls == [] and sent["Status"] == "SUCCESS"
    assert "the event has no ResponseURL; CloudFormation cannot be answered" in caplog.messages


def test_the_watchdog_answers_failed_shortly_before_the_end_and_the_late_result_is_not_sent() -> None:
    timers = Timers()
    changed = []

    def hangs():
        watchdog = timers.watchdog()
        assert (watchdog.delay, watchdog.daemon, watchdog.started) == (55.0, True, True)
        changed.append(1)
        watchdog.fire()  # as if an API call hung until 5 s before the end
        return Result("SUCCESS", "late", "thing-1")

    sent, opener, _ = answer(
        hangs, context=Context(remaining_ms=60_000), timers=timers,
        failure_physical_id=lambda: "thing-1" if changed else "Thing::CREATE_FAILED",
    )

    (body,) = opener.bodies()
    assert body == sent
    # asked when it fires: by then the request had changed something
    assert (body["Status"], body["PhysicalResourceId"], body["Reason"]) == ("FAILED", "thing-1", f"ran out of time (log stream: {LOG_STREAM})")
    assert timers.watchdog().cancelled


def test_the_watchdog_fires_at_once_when_less_than_its_margin_is_left() -> None:
    _, _, timers = answer(lambda: Result("SUCCESS", "done", "thing-1"), context=Context(remaining_ms=3_000))

    assert timers.watchdog().delay == 0.0


def test_the_request_is_logged_with_its_details_but_never_the_presigned_url(caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="test_function"):
        answer(lambda: Result("SUCCESS", "done", "thing-1"), details={"database": "curated"})

    (request,) = [r for r in caplog.records if r.getMessage() == "request"]
    assert (request.request_type, request.logical_id, request.physical_id, request.database) == ("Create", "Thing", None, "curated")
    logged = json.dumps([{**vars(r), "args": str(r.args)} for r in caplog.records], default=str)
    assert RESPONSE_URL not in logged and "X-Amz-Signature" not in logged


# --- request helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_the_three_request_types_are_known_with_the_ids_every_request_carries(request_type: str) -> None:
    fields = cfn_response.request_fields(event(RequestType=request_type, PhysicalResourceId="thing-1"))
    assert fields == {"request_type": request_type, "logical_id": "Thing", "request_id": event()["RequestId"], "physical_id": "thing-1"}
    assert cfn_response.request_fields(event())["physical_id"] is None  # a Create has none yet


@pytest.mark.parametrize("request_type", ["Replace", None, "create"])
def test_any_other_request_type_is_refused(request_type) -> None:
    with pytest.raises(ValueError, match=rf"^unknown RequestType {request_type!r}$"):
        cfn_response.request_fields(event(RequestType=request_type))


@pytest.mark.parametrize("value", [None, "", "  ", 3, ["x"]])
def test_a_text_property_must_be_a_non_empty_string(value) -> None:
    with pytest.raises(ValueError, match=rf"^ResourceProperties\.Name must be a non-empty string; got {re.escape(repr(value))}$"):
        cfn_response.text_property({"Name": value}, "Name")
    assert cfn_response.text_property({"Name": "curated"}, "Name") == "curated"
