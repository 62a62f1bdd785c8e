"""Real botocore clients with a Stubber each, for the preflight and smoke tests (no network).

The Stubber validates every expected request's parameters and every canned response against
botocore's service model, so a response shape that AWS would never send fails the test.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.stub import Stubber

REGION = "eu-west-1"
ACCOUNT = "111122223333"


class StubbedClients:
    """``clients("s3")`` returns the same stubbed client every time; ``stub("s3")`` its Stubber.

    Every instance is registered in :attr:`made`; tests/tools/conftest.py checks after each test
    that each one was asked for every response its test queued (no check skipped a call)."""

    made: list[StubbedClients] = []

    def __init__(self, region: str = REGION) -> None:
        StubbedClients.made.append(self)
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing", region_name=region
        )
        self._clients: dict[str, Any] = {}
        self._stubbers: dict[str, Stubber] = {}
        self.created: list[str] = []
        self.kwargs: dict[str, dict[str, Any]] = {}

    def __call__(self, service: str, **kwargs: Any) -> Any:
        self.created.append(service)
        self.kwargs[service] = kwargs
        return self._client(service)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            client = self.session.client(service)
            stubber = Stubber(client)
            stubber.activate()
            self._clients[service] = client
            self._stubbers[service] = stubber
        return self._clients[service]

    def stub(self, service: str) -> Stubber:
        self._client(service)
        return self._stubbers[service]

    def ok(self, service: str, operation: str, response: dict, params: dict | None = None) -> None:
        self.stub(service).add_response(operation, response, params)

    def error(self, service: str, operation: str, code: str, message: str = "", params: dict | None = None,
              http_status: int = 400) -> None:
        self.stub(service).add_client_error(operation, code, message, http_status, expected_params=params)

    def assert_done(self) -> None:
        for stubber in self._stubbers.values():
            stubber.assert_no_pending_responses()


def client_error(code: str, operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)
