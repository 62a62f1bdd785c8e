"""How the library's custom resource functions answer CloudFormation: one definition for all of them.
Standard library only. Each function's Lambda asset holds this module next to its ``handler.py``
(``constructs_lib/deploy_time_function.py`` copies it there), so a handler imports it as the top-level
module ``cfn_response``.

CloudFormation invokes such a function asynchronously and then waits for a JSON document PUT to the
request's pre-signed ``ResponseURL``. No response means a stack stuck until the custom resource's
service timeout, so :func:`answer` answers every request exactly once: with the handler's result, with
FAILED on any exception, and, through a watchdog timer, with FAILED a few seconds before Lambda would
stop the function (for example while an API call hangs). A response is at most 4 KB: a long reason is
cut, keeping the pointer to the log stream.

Everything is logged through the handler's own logger (its name is the function's in the logs).
Never logged: the event as a whole (its ``ResponseURL`` is a pre-signed URL).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SUCCESS = "SUCCESS"
FAILED = "FAILED"
REQUEST_TYPES = ("Create", "Update", "Delete")
#: CloudFormation rejects custom resource responses larger than 4 KB.
MAX_RESPONSE_BYTES = 4096
TRUNCATED = " [truncated]"
#: The watchdog answers FAILED this long before Lambda stops the function.
WATCHDOG_MS = 5_000
RESPONSE_ATTEMPTS = 3
RESPONSE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Result:
    """What to tell CloudFormation."""

    status: str
    reason: str
    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)


def request_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """What every request says besides its properties: ``request_type`` (``Create``, ``Update`` or
    ``Delete``; a ValueError otherwise), ``logical_id``, ``request_id`` and ``physical_id`` (``None``
    on Create)."""
    request_type = event.get("RequestType")
    if request_type not in REQUEST_TYPES:
        raise ValueError(f"unknown RequestType {request_type!r}")
    return {
        "request_type": request_type,
        "logical_id": event["LogicalResourceId"],
        "request_id": event["RequestId"],
        "physical_id": event.get("PhysicalResourceId"),
    }


def text_property(properties: Mapping[str, Any], key: str) -> str:
    """``properties[key]``, which must be a non-empty string; a ValueError names it otherwise."""
    value = properties.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"ResourceProperties.{key} must be a non-empty string; got {value!r}")
    return value


def response_body(event: Mapping[str, Any], result: Result, *, tail: str = "", limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The response document, at most ``limit`` bytes: a long reason is cut (keeping ``tail``,
    which points to the log stream) and marked as truncated."""

    def render(reason: str) -> bytes:
        document = {
            "Status": result.status,
            "Reason": reason + tail,
            "PhysicalResourceId": result.physical_id,
            "StackId": event.get("StackId", ""),
            "RequestId": event.get("RequestId", ""),
            "LogicalResourceId": event.get("LogicalResourceId", ""),
            "Data": dict(result.data),
        }
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    body = render(result.reason)
    if len(body) <= limit:
        return body
    kept, too_many = 0, len(result.reason)  # the longest prefix that fits lies in [kept, too_many)
    while too_many - kept > 1:
        middle = (kept + too_many) // 2
        if len(render(result.reason[:middle] + TRUNCATED)) <= limit:
            kept = middle
        else:
            too_many = middle
    return render(result.reason[:kept] + TRUNCATED)


class Responder:
    """Sends the one response a request gets; later attempts (the watchdog's or the handler's) do
    nothing. The lock makes a late caller wait until the first response is out, so the function
    never returns while a response is half sent."""

    def __init__(
        self,
        event: Mapping[str, Any],
        *,
        log_stream: str,
        opener: Callable[..., Any],
        logger: logging.Logger = logging.getLogger(__name__),
    ) -> None:
        self._event = event
        self._tail = f" (log stream: {log_stream})" if log_stream else ""
        self._opener = opener
        self._logger = logger
        self._lock = threading.Lock()
        self.sent: dict[str, Any] | None = None

    def send(self, result: Result) -> bool:
        with self._lock:
            if self.sent is not None:
                return False
            body = response_body(self._event, result, tail=self._tail)
            self.sent = json.loads(body)
            self._logger.info(
                "responding",
                extra={"status": result.status, "reason": result.reason[:1000], "physical_id": result.physical_id},
            )
            return self._put(body)

    def _put(self, body: bytes) -> bool:
        url = self._event.get("ResponseURL")
        if not url:
            self._logger.error("the event has no ResponseURL; CloudFormation cannot be answered")
            return False
        # The pre-signed URL is signed without a content type: send an empty one.
        request = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        for attempt in range(1, RESPONSE_ATTEMPTS + 1):
            try:
                with self._opener(request, timeout=RESPONSE_TIMEOUT_SECONDS) as answer:
                    self._logger.info("response sent", extra={"http_status": getattr(answer, "status", None)})
                    return True
            except Exception as error:  # noqa: BLE001 - any failure to send is retried, then logged
                self._logger.warning("response not sent", extra={"attempt": attempt, "error": type(error).__name__})
        self._logger.error("could not send the response to CloudFormation")
        return False


def start_watchdog(
    responder: Responder,
    context: Any,
    physical_id: Callable[[], str],
    *,
    reason: str,
    timer_factory: Callable[..., Any] = threading.Timer,
) -> Any:
    """Answer FAILED with ``reason`` shortly before Lambda stops the function, whatever the handler
    is doing; ``physical_id`` is asked when the timer fires (what the request changed by then)."""
    delay = max(0.0, (context.get_remaining_time_in_millis() - WATCHDOG_MS) / 1000)

    def expire() -> None:
        responder.send(Result(FAILED, reason, physical_id()))

    timer = timer_factory(delay, expire)
    timer.daemon = True
    timer.start()
    return timer


def answer(
    event: Mapping[str, Any],
    context: Any,
    handle: Callable[[], Result],
    *,
    failure_physical_id: Callable[[], str],
    timeout_reason: str,
    logger: logging.Logger,
    opener: Callable[..., Any] = urllib.request.urlopen,
    timer_factory: Callable[..., Any] = threading.Timer,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Handle one request with ``handle()`` and always answer it, once; returns the response
    document sent. An exception becomes FAILED with its type and text, and the physical id
    ``failure_physical_id()`` gives (which the watchdog uses too, with ``timeout_reason``).
    ``details`` are logged with the request (never the event itself)."""
    logger.info(
        "request",
        extra={
            "request_type": event.get("RequestType"),
            "logical_id": event.get("LogicalResourceId"),
            "physical_id": event.get("PhysicalResourceId"),
            "request_id": event.get("RequestId"),
            **(details or {}),
        },
    )
    responder = Responder(event, log_stream=getattr(context, "log_stream_name", ""), opener=opener, logger=logger)
    watchdog = start_watchdog(responder, context, failure_physical_id, reason=timeout_reason, timer_factory=timer_factory)
    try:
        result = handle()
    except Exception as error:  # noqa: BLE001 - every failure must become a FAILED response
        logger.exception("request failed")
        result = Result(FAILED, f"{type(error).__name__}: {error}", failure_physical_id())
    finally:
        watchdog.cancel()
    responder.send(result)
    return responder.sent
