"""``Custom::OpenSearchSecurityRoles``: create OpenSearch security roles and map IAM roles to them on
a domain with fine-grained access control, through the security plugin's REST API, and answer
CloudFormation itself. Entry point: ``handler.lambda_handler``.

Every request to the domain is signed (Signature Version 4, service ``es``) with temporary
credentials of the domain's FGAC master role, which the function assumes first (``MasterRoleArn``):
the master user is mapped to ``all_access`` and ``security_manager`` and may call
``_plugins/_security/api``.

Request types:

- Create / Update: for every role in ``Roles``, ``PUT _plugins/_security/api/roles/<name>`` (its
  cluster permissions and one index permission: ``IndexPatterns`` x ``IndexActions``), then, once
  every role exists, ``PUT _plugins/_security/api/rolesmapping/<name>`` (``BackendRoles``: IAM role
  ARNs). PUT creates or replaces, so a repeated request changes nothing. On Update, roles that the
  old properties held and the new ones do not are removed (mapping first, then role), unless the
  endpoint changed: that is a replacement, and CloudFormation later sends Delete, with the old
  properties, for the old domain.
- Delete: the mapping and the role of every role in ``Roles`` are removed; one already gone is
  fine. If the endpoint no longer resolves (the domain was deleted), there is nothing left to
  remove: SUCCESS.

Ownership. Every role is written with the description
``Managed by CloudFormation stack <stack> (resource <logical id>) ...``. Before writing a role, the
function reads it: a role that does not exist, or that this resource (or another resource of the
same stack, for example the same construct under a new logical id) wrote, is written; a reserved,
static or hidden role, or one that anyone else wrote (by hand, another stack), is not: the request
fails and names it. Delete and Update remove only roles whose description names this very resource,
so a role taken over by a renamed construct survives the old resource's Delete.

Physical id ``<endpoint>/<logical id>``: changing the roles is an in-place Update; moving to another
domain is a replacement. A Create that fails before writing anything answers with the id
``SearchSecurityRoles::CREATE_FAILED``, whose rollback Delete does nothing; one that fails after
writing some roles answers with the real id, so its rollback Delete removes them.

HTTP: answers 429 and 5xx, and connection errors, are retried with exponential backoff (at most
``HTTP_ATTEMPTS`` tries, never past the time the function keeps to answer). Any other 4xx fails the
request with the method, the path, the status and the start of the answer's body.

The function always answers CloudFormation, exactly once (``cfn_response.answer``, which the
library's custom resource functions share): on success, on any error, and, through a watchdog timer,
a few seconds before Lambda would stop it.

Logged: request type, logical id, role names, method, path and status of each call. Never logged:
the event as a whole (its ``ResponseURL`` is a pre-signed URL), credentials, or signed headers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from cfn_response import SUCCESS, Result, answer, request_fields, text_property

logger = logging.getLogger("opensearch_security")

#: The physical id of a resource whose Create failed before writing anything.
CREATE_FAILED_MARKER = "SearchSecurityRoles::CREATE_FAILED"
#: Amazon OpenSearch Service's Signature Version 4 signing name for managed domains.
SIGNING_SERVICE = "es"
API = "_plugins/_security/api"
#: How much of an error answer's body goes into the reason.
MAX_ERROR_BODY_CHARS = 1000
#: No retry waits into the last seconds: they are kept for answering.
RESERVE_MS = 10_000
HTTP_ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
HTTP_TIMEOUT_SECONDS = 15
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
#: STS's minimum: the credentials only need to outlive one invocation (15 minutes at most).
SESSION_SECONDS = 900
#: Short timeouts and few retries, so that one hanging call cannot eat the time left to answer.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 3, "mode": "standard"})
#: What the watchdog answers when Lambda is about to stop the function.
TIMEOUT_REASON = (
    "The function ran out of time (STS or the domain did not answer); check the STS VPC endpoint and "
    "the security groups, or raise the construct's timeout"
)
OWNER_PREFIX = "Managed by CloudFormation stack "


# --- pure functions: requests, bodies, ownership --------------------------------------------


@dataclass(frozen=True)
class RoleSpec:
    """One OpenSearch security role and the IAM roles mapped to it."""

    name: str
    backend_roles: tuple[str, ...]
    index_patterns: tuple[str, ...]
    index_actions: tuple[str, ...]
    cluster_actions: tuple[str, ...]

    def role_body(self, description: str) -> dict[str, Any]:
        return {
            "description": description,
            "cluster_permissions": list(self.cluster_actions),
            "index_permissions": [
                {"index_patterns": list(self.index_patterns), "allowed_actions": list(self.index_actions)}
            ],
        }

    def mapping_body(self) -> dict[str, Any]:
        """Ownership is kept on the role (its description), not on the mapping."""
        return {"backend_roles": list(self.backend_roles), "hosts": [], "users": []}


@dataclass(frozen=True)
class Target:
    """A domain and the roles this resource keeps on it."""

    endpoint: str
    master_role_arn: str
    roles: tuple[RoleSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles)


@dataclass(frozen=True)
class Request:
    request_type: str
    logical_id: str
    request_id: str
    stack_name: str
    physical_id: str | None
    target: Target
    old: Target | None


@dataclass
class Progress:
    """What the request has changed so far: a failed Create that wrote something must be undone by
    its rollback Delete."""

    written: int = 0
    physical_id: str | None = None


def _texts(role: Mapping[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = role.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"{where}.{key} must be a list of non-empty strings; got {value!r}")
    if required and not value:
        raise ValueError(f"{where}.{key} must not be empty")
    return tuple(value)


def parse_target(properties: Mapping[str, Any], where: str = "ResourceProperties") -> Target:
    """The domain and roles of one set of properties, checked; a ValueError names what is wrong."""
    endpoint = text_property(properties, "Endpoint")
    if "/" in endpoint or ":" in endpoint:
        raise ValueError(f"{where}.Endpoint must be a host name (no scheme, port or path); got {endpoint!r}")
    raw_roles = properties.get("Roles")
    if not isinstance(raw_roles, list) or not raw_roles:
        raise ValueError(f"{where}.Roles must be a non-empty list; got {raw_roles!r}")
    roles = []
    for position, raw in enumerate(raw_roles):
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}.Roles[{position}] must be an object; got {raw!r}")
        role_where = f"{where}.Roles[{position}]"
        roles.append(
            RoleSpec(
                name=text_property(raw, "Name"),
                backend_roles=_texts(raw, "BackendRoles", role_where, required=True),
                index_patterns=_texts(raw, "IndexPatterns", role_where, required=True),
                index_actions=_texts(raw, "IndexActions", role_where, required=True),
                cluster_actions=_texts(raw, "ClusterActions", role_where, required=False),
            )
        )
    names = [role.name for role in roles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{where}.Roles names {duplicates} more than once")
    return Target(endpoint=endpoint, master_role_arn=text_property(properties, "MasterRoleArn"), roles=tuple(roles))


def stack_name(stack_id: str) -> str:
    """``arn:...:stack/<name>/<uuid>`` -> ``<name>``."""
    parts = stack_id.split("/")
    return parts[1] if len(parts) >= 3 else stack_id


def parse_request(event: Mapping[str, Any]) -> Request:
    fields = request_fields(event)
    old_properties = event.get("OldResourceProperties")
    return Request(
        **fields,
        stack_name=stack_name(event.get("StackId", "")),
        target=parse_target(event.get("ResourceProperties") or {}),
        old=parse_target(old_properties, "OldResourceProperties") if fields["request_type"] == "Update" and old_properties else None,
    )


def physical_resource_id(endpoint: str, logical_id: str) -> str:
    """Where the roles live, not what they say: see the module docstring."""
    return f"{endpoint}/{logical_id}"


def owner_description(stack: str, logical_id: str) -> str:
    return (
        f"{OWNER_PREFIX}{stack} (resource {logical_id}); changes made elsewhere are overwritten "
        "on the next deployment"
    )


def may_write(existing: Mapping[str, Any] | None, stack: str) -> str | None:
    """``None`` when the role may be written (absent, or written by this stack), else why not."""
    if existing is None:
        return None
    for flag in ("reserved", "static", "hidden"):
        if existing.get(flag) is True:
            return f"it is a {flag} role"
    description = existing.get("description") or ""
    if description.startswith(f"{OWNER_PREFIX}{stack} (resource "):
        return None
    return f"it exists and is not managed by stack {stack} (description: {description[:200]!r})"


# --- effects: STS and the security REST API -----------------------------------------------------


class HttpError(Exception):
    """A final (non-retried) error answer from the domain."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} /{path} answered HTTP {status}: {body[:MAX_ERROR_BODY_CHARS]}")
        self.status = status


class EndpointUnresolvable(Exception):
    """The domain's host name does not resolve: the domain is gone (or the VPC has no DNS)."""


class NotManagedHere(Exception):
    """A role this resource must not write."""


def assume_master_role(sts: Any, role_arn: str, request_id: str) -> Credentials:
    answer = sts.assume_role(
        RoleArn=role_arn, RoleSessionName=f"SearchSecurityRoles-{request_id}"[:64], DurationSeconds=SESSION_SECONDS
    )
    credentials = answer["Credentials"]
    return Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])


def signed_headers(method: str, url: str, body: bytes | None, credentials: Credentials, region: str) -> dict[str, str]:
    """The headers of a request signed with Signature Version 4 for OpenSearch Service."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, SIGNING_SERVICE, region).add_auth(request)
    return dict(request.headers.items())


class SecurityApi:
    """Signed calls to one domain's security REST API, retrying transient failures."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        region: str,
        *,
        opener: Callable[..., Any],
        sleep: Callable[[float], None],
        context: Any,
    ) -> None:
        self._endpoint = endpoint
        self._credentials = credentials
        self._region = region
        self._opener = opener
        self._sleep = sleep
        self._context = context

    def call(self, method: str, path: str, document: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """``(status, parsed body)`` of a 2xx answer, or of a 404 to GET or DELETE (not found, already
        gone); raises HttpError on any other answer."""
        url = f"https://{self._endpoint}/{path}"
        body = json.dumps(document).encode("utf-8") if document is not None else None
        wait = FIRST_BACKOFF_SECONDS
        for attempt in range(1, HTTP_ATTEMPTS + 1):
            # Signed per attempt: a signature is only valid for a few minutes.
            headers = signed_headers(method, url, body, self._credentials, self._region)
            request = urllib.request.Request(url, data=body, method=method, headers=headers)
            try:
                with self._opener(request, timeout=HTTP_TIMEOUT_SECONDS) as answer:
                    status, text = answer.status, answer.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read().decode("utf-8", "replace")
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, socket.gaierror):
                    raise EndpointUnresolvable(f"{self._endpoint} does not resolve: {reason}") from error
                status, text = 0, f"{type(reason).__name__}: {reason}"
            logger.info("called", extra={"method": method, "path": path, "http_status": status, "attempt": attempt})
            if 200 <= status < 300 or (status == 404 and method in ("GET", "DELETE")):
                return status, _parse(text)
            transient = status == 0 or status in TRANSIENT_STATUSES
            left = (self._context.get_remaining_time_in_millis() - RESERVE_MS) / 1000
            if not transient or attempt == HTTP_ATTEMPTS or left <= 0:
                raise HttpError(method, path, status, text)
            self._sleep(min(wait, left))
            wait *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def get_role(self, name: str) -> dict[str, Any] | None:
        status, body = self.call("GET", _path("roles", name))
        if status == 404:
            return None
        return (body or {}).get(name) or {}

    def put_role(self, role: RoleSpec, description: str) -> None:
        self.call("PUT", _path("roles", role.name), role.role_body(description))

    def put_mapping(self, role: RoleSpec) -> None:
        self.call("PUT", _path("rolesmapping", role.name), role.mapping_body())

    def remove(self, name: str) -> None:
        """The mapping, then the role; either already gone is fine."""
        self.call("DELETE", _path("rolesmapping", name))
        self.call("DELETE", _path("roles", name))


def _path(kind: str, name: str) -> str:
    return f"{API}/{kind}/{urllib.parse.quote(name, safe='')}"


def _parse(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def write_all(api: SecurityApi, roles: Sequence[RoleSpec], stack: str, description: str, progress: Progress) -> None:
    """Check every role may be written, then put every role, then every mapping."""
    for role in roles:
        refusal = may_write(api.get_role(role.name), stack)
        if refusal is not None:
            raise NotManagedHere(f"role {role.name!r} is not written: {refusal}; choose another name")
    for role in roles:
        api.put_role(role, description)
        progress.written += 1
        logger.info("role written", extra={"role": role.name})
    for role in roles:
        api.put_mapping(role)
        progress.written += 1
        logger.info("mapping written", extra={"role": role.name, "backend_roles": len(role.backend_roles)})


def remove_all(api: SecurityApi, names: Sequence[str], description: str) -> tuple[list[str], list[str]]:
    """Remove the roles named that this resource wrote: ``(removed, left alone)``."""
    removed, left = [], []
    for name in names:
        existing = api.get_role(name)
        if existing is None:
            removed.append(name)  # the role is gone; its mapping may not be
            api.call("DELETE", _path("rolesmapping", name))
            continue
        if existing.get("description") != description:
            logger.warning("role not removed: managed elsewhere", extra={"role": name})
            left.append(name)
            continue
        api.remove(name)
        removed.append(name)
        logger.info("role removed", extra={"role": name})
    return removed, left


ApiFactory = Callable[[Target, str], SecurityApi]


def handle(event: Mapping[str, Any], *, api_factory: ApiFactory, progress: Progress) -> Result:
    """The answer to one request (exceptions are the caller's to turn into FAILED)."""
    if event.get("RequestType") == "Delete" and event.get("PhysicalResourceId") == CREATE_FAILED_MARKER:
        return Result(SUCCESS, "Nothing to remove: the Create of this resource failed before writing anything", CREATE_FAILED_MARKER)
    request = parse_request(event)
    target = request.target
    description = owner_description(request.stack_name, request.logical_id)
    own_id = physical_resource_id(target.endpoint, request.logical_id)
    api = api_factory(target, request.request_id)

    if request.request_type == "Delete":
        physical_id = request.physical_id or own_id
        try:
            removed, left = remove_all(api, target.names, description)
        except EndpointUnresolvable as error:
            logger.warning("domain gone", extra={"endpoint": target.endpoint})
            return Result(SUCCESS, f"Nothing left to remove: {error}", physical_id)
        reason = f"Removed {len(removed)} role(s) and their mappings: {', '.join(removed) or 'none'}"
        if left:
            reason += f"; left alone, managed elsewhere: {', '.join(left)}"
        return Result(SUCCESS, reason, physical_id, {"Removed": str(len(removed))})

    progress.physical_id = own_id
    write_all(api, target.roles, request.stack_name, description, progress)
    reason = f"Wrote {len(target.roles)} role(s) and their mappings: {', '.join(target.names)}"
    data = {"Roles": ",".join(target.names)}
    old = request.old
    if request.request_type == "Update" and old is not None and physical_resource_id(old.endpoint, request.logical_id) == own_id:
        dropped = [name for name in old.names if name not in target.names]
        if dropped:
            removed, left = remove_all(api, dropped, description)
            reason += f"; removed {', '.join(removed) or 'none'}"
            if left:
                reason += f"; left alone, managed elsewhere: {', '.join(left)}"
    return Result(SUCCESS, reason, own_id, data)


def failure_physical_id(event: Mapping[str, Any], progress: Progress) -> str:
    """The id to answer a failure with: for a Create, the real id once something was written (so
    the rollback removes it), the marker otherwise; for Update and Delete, the current id."""
    if event.get("RequestType") == "Create":
        if progress.written and progress.physical_id is not None:
            return progress.physical_id
        return CREATE_FAILED_MARKER
    return event.get("PhysicalResourceId") or CREATE_FAILED_MARKER


def api_factory_for(
    *, sts: Any, region: str, opener: Callable[..., Any], sleep: Callable[[float], None], context: Any
) -> ApiFactory:
    def make(target: Target, request_id: str) -> SecurityApi:
        credentials = assume_master_role(sts, target.master_role_arn, request_id)
        return SecurityApi(target.endpoint, credentials, region, opener=opener, sleep=sleep, context=context)

    return make


def _sts() -> Any:
    return boto3.client("sts", config=CLIENT_CONFIG)


def process(
    event: Mapping[str, Any],
    context: Any,
    *,
    sts_factory: Callable[[], Any] = _sts,
    region: str | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
    sleep: Callable[[float], None] = time.sleep,
    timer_factory: Callable[..., Any] = threading.Timer,
) -> dict[str, Any] | None:
    """Handle one request and always answer it; returns the response document sent."""
    properties = event.get("ResourceProperties") or {}
    roles = properties.get("Roles") if isinstance(properties.get("Roles"), list) else []
    progress = Progress()

    def respond() -> Result:
        factory = api_factory_for(
            sts=sts_factory(), region=region or os.environ["AWS_REGION"], opener=opener, sleep=sleep, context=context
        )
        return handle(event, api_factory=factory, progress=progress)

    return answer(
        event,
        context,
        respond,
        failure_physical_id=lambda: failure_physical_id(event, progress),
        timeout_reason=TIMEOUT_REASON,
        logger=logger,
        opener=opener,
        timer_factory=timer_factory,
        details={"roles": [role.get("Name") for role in roles if isinstance(role, Mapping)]},
    )


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    process(event, context)
