"""``Custom::IamAllowedPrincipalsRevocation``: take the group ``IAM_ALLOWED_PRINCIPALS`` off one Glue
database (and its tables) that Lake Formation governs; give it back on Delete only when asked to.
Entry point: ``handler.lambda_handler``. Standard library and the Lambda runtime's boto3 only. One
function serves several databases: each has its own custom resource, and each request names one.

CloudFormation invokes the function asynchronously and then waits for a JSON document PUT to the
request's pre-signed ``ResponseURL``. The function always answers, exactly once (``cfn_response.answer``,
which the library's custom resource functions share): on success, on any error, and, through a
watchdog timer, a few seconds before Lambda would stop it.

Properties: ``CatalogId`` (the account id), ``DatabaseName`` and ``RestoreOnDelete`` (``"true"`` or
``"false"``; absent, as on resources created before it existed, means ``"false"``).

Request types:

- Create / Update: for the database, its table wildcard and every table of it (``glue:GetTables``,
  paginated), the function lists what ``IAM_ALLOWED_PRINCIPALS`` holds there (``ListPermissions``)
  and revokes it (``ALL`` when the listing shows nothing, in case the listing is incomplete).
  "Nothing to revoke" is success: Lake Formation answers ``InvalidInputException`` "No permissions
  revoked..." for it, and only that error with that text is taken as such. Anything else fails the
  request, naming the resource.
- Delete, ``RestoreOnDelete`` not ``"true"`` (the default): success without any call. The database
  stays governed (fail closed). CloudFormation also sends Delete when it *replaces* a resource (a
  renamed logical id, or an Update that returned another physical id): after the new resource has
  revoked, a restoring Delete would re-open the old database, or the very same one, to every IAM
  principal.
- Delete, ``RestoreOnDelete: "true"``: grants ``ALL`` back to ``IAM_ALLOWED_PRINCIPALS`` on the
  database and on each of its tables, so that ending Lake Formation governance returns the database
  to IAM-only access. A database that no longer exists (``EntityNotFoundException``) has nothing to
  restore: success. Any other error fails the Delete (the stack deletion stops rather than leave the
  database inaccessible without saying so).

Physical id ``<catalog id>:<database>``: stable per database, whatever ``RestoreOnDelete`` says, so an
Update that only flips the flag stays an in-place update (it revokes again, which is idempotent, and
the next Delete sees the new value). An Update to another database returns a new id, which
CloudFormation treats as a replacement: it later sends Delete for the old id, with the old
properties.

A failed Create answers with the id ``IamAllowedPrincipalsRevocation::CREATE_FAILED`` when it changed
nothing (its rollback Delete then does nothing); when it had already revoked something, it answers
with the database's id, so that the rollback Delete restores what it took away if ``RestoreOnDelete``
is ``"true"`` (otherwise the database stays partly revoked until the next deployment revokes the rest).

Lake Formation answers ``ConcurrentModificationException`` when grants on the same resource run at
the same time (CloudFormation creates PrincipalPermissions in parallel): such calls are retried a
few times with a growing wait.

Logged: request type, logical id, database, ``RestoreOnDelete``, each resource revoked or restored,
errors. Never logged: the event as a whole (its ``ResponseURL`` is a pre-signed URL).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cfn_response import SUCCESS, Result, answer, request_fields, text_property

logger = logging.getLogger("lake_formation_revoke")

IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"
PRINCIPAL = {"DataLakePrincipalIdentifier": IAM_ALLOWED_PRINCIPALS}
#: The physical id of a resource whose Create failed before changing anything.
CREATE_FAILED_MARKER = "IamAllowedPrincipalsRevocation::CREATE_FAILED"
#: The values of ``RestoreOnDelete``; absent means False.
RESTORE_ON_DELETE = {"true": True, "false": False}
#: What Lake Formation answers when the principal holds none of the permissions being revoked.
NOTHING_TO_REVOKE_CODE = "InvalidInputException"
NOTHING_TO_REVOKE_TEXT = "no permissions revoked"
#: What Glue answers for a database that does not exist.
DATABASE_GONE_CODE = "EntityNotFoundException"
CONCURRENT_MODIFICATION_CODE = "ConcurrentModificationException"
CONCURRENT_ATTEMPTS = 4
FIRST_RETRY_SECONDS = 1.0
#: Short timeouts and few retries, so that one hanging call cannot eat the time left to answer.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 3, "mode": "standard"})
#: What the watchdog answers when Lambda is about to stop the function.
TIMEOUT_REASON = (
    "The function ran out of time (an AWS API call did not return, or the database has too many "
    "tables for the timeout); raise the construct's timeout"
)


# --- pure functions: requests and resources ------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The database whose IAM_ALLOWED_PRINCIPALS grants are revoked."""

    catalog_id: str
    database: str


@dataclass(frozen=True)
class Request:
    request_type: str
    logical_id: str
    request_id: str
    physical_id: str | None
    target: Target
    restore_on_delete: bool


@dataclass
class Progress:
    """How many resources this request has changed so far (read when it fails)."""

    target: Target | None = None
    changed: int = 0


def _flag(properties: Mapping[str, Any], key: str) -> bool:
    """``"true"`` or ``"false"`` (CloudFormation passes custom resource properties as strings);
    absent is False: a resource created before the property existed must not restore."""
    value = properties.get(key)
    if value is None:
        return False
    if not isinstance(value, str) or value not in RESTORE_ON_DELETE:
        raise ValueError(f"ResourceProperties.{key} must be 'true' or 'false'; got {value!r}")
    return RESTORE_ON_DELETE[value]


def parse_request(event: Mapping[str, Any]) -> Request:
    """The request and its properties, checked; a ValueError names what is wrong."""
    fields = request_fields(event)
    properties = event.get("ResourceProperties") or {}
    return Request(
        **fields,
        target=Target(catalog_id=text_property(properties, "CatalogId"), database=text_property(properties, "DatabaseName")),
        restore_on_delete=_flag(properties, "RestoreOnDelete"),
    )


def physical_resource_id(target: Target) -> str:
    return f"{target.catalog_id}:{target.database}"


def failure_physical_id(event: Mapping[str, Any], progress: Progress) -> str:
    """A failed Create that changed something keeps the database's id (its rollback Delete restores
    what it revoked, if RestoreOnDelete is true); one that changed nothing gets the marker; Update and
    Delete keep their id."""
    if event.get("RequestType") == "Create":
        if progress.changed and progress.target is not None:
            return physical_resource_id(progress.target)
        return CREATE_FAILED_MARKER
    return event.get("PhysicalResourceId") or CREATE_FAILED_MARKER


def database_resource(target: Target) -> dict[str, Any]:
    return {"Database": {"CatalogId": target.catalog_id, "Name": target.database}}


def table_wildcard_resource(target: Target) -> dict[str, Any]:
    return {"Table": {"CatalogId": target.catalog_id, "DatabaseName": target.database, "TableWildcard": {}}}


def table_resource(target: Target, table: str) -> dict[str, Any]:
    return {"Table": {"CatalogId": target.catalog_id, "DatabaseName": target.database, "Name": table}}


def describe(resource: Mapping[str, Any]) -> str:
    if "Database" in resource:
        return f"database {resource['Database']['Name']}"
    table = resource["Table"]
    if "TableWildcard" in table:
        return f"all tables of {table['DatabaseName']}"
    return f"table {table['DatabaseName']}.{table['Name']}"


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def nothing_to_revoke(error: ClientError) -> bool:
    """Lake Formation's answer when the principal holds none of the permissions revoked:
    ``InvalidInputException`` "No permissions revoked. Grantee has no permissions and no grantable
    permissions on resource." Any other invalid input is a real error."""
    message = (error.response.get("Error", {}).get("Message") or "").lower()
    return error_code(error) == NOTHING_TO_REVOKE_CODE and NOTHING_TO_REVOKE_TEXT in message


def database_is_gone(error: ClientError) -> bool:
    return error_code(error) == DATABASE_GONE_CODE


def held_permissions(entries: list[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """What IAM_ALLOWED_PRINCIPALS holds among ``ListPermissions`` entries: (permissions, grantable)."""
    permissions: set[str] = set()
    grantable: set[str] = set()
    for entry in entries:
        if (entry.get("Principal") or {}).get("DataLakePrincipalIdentifier") != IAM_ALLOWED_PRINCIPALS:
            continue
        permissions.update(entry.get("Permissions") or [])
        grantable.update(entry.get("PermissionsWithGrantOption") or [])
    return sorted(permissions), sorted(grantable)


# --- effects: Lake Formation and Glue ------------------------------------------------------


@dataclass
class Clients:
    lakeformation: Any
    glue: Any


class Api:
    """The calls the handler makes, retrying Lake Formation's ConcurrentModificationException."""

    def __init__(self, clients: Clients, sleep: Callable[[float], None]) -> None:
        self._clients = clients
        self._sleep = sleep

    def _call(self, client: Any, operation: str, **arguments: Any) -> dict[str, Any]:
        wait = FIRST_RETRY_SECONDS
        for attempt in range(1, CONCURRENT_ATTEMPTS + 1):
            try:
                return getattr(client, operation)(**arguments)
            except ClientError as error:
                if error_code(error) != CONCURRENT_MODIFICATION_CODE or attempt == CONCURRENT_ATTEMPTS:
                    raise
                logger.warning("concurrent modification, retrying", extra={"operation": operation, "attempt": attempt})
                self._sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def table_names(self, target: Target) -> list[str]:
        names: list[str] = []
        arguments: dict[str, Any] = {"CatalogId": target.catalog_id, "DatabaseName": target.database}
        while True:
            page = self._call(self._clients.glue, "get_tables", **arguments)
            names.extend(table["Name"] for table in page.get("TableList", []))
            if not page.get("NextToken"):
                return names
            arguments["NextToken"] = page["NextToken"]

    def list_held(self, target: Target, resource: dict[str, Any]) -> tuple[list[str], list[str]]:
        entries: list[Mapping[str, Any]] = []
        arguments: dict[str, Any] = {"CatalogId": target.catalog_id, "Principal": PRINCIPAL, "Resource": resource}
        while True:
            page = self._call(self._clients.lakeformation, "list_permissions", **arguments)
            entries.extend(page.get("PrincipalResourcePermissions", []))
            if not page.get("NextToken"):
                return held_permissions(entries)
            arguments["NextToken"] = page["NextToken"]

    def revoke(self, target: Target, resource: dict[str, Any]) -> bool:
        """Revoke what IAM_ALLOWED_PRINCIPALS holds on ``resource``; False when it held nothing."""
        permissions, grantable = self.list_held(target, resource)
        arguments: dict[str, Any] = {
            "CatalogId": target.catalog_id,
            "Principal": PRINCIPAL,
            "Resource": resource,
            "Permissions": permissions or ["ALL"],
        }
        if grantable:
            arguments["PermissionsWithGrantOption"] = grantable
        try:
            self._call(self._clients.lakeformation, "revoke_permissions", **arguments)
        except ClientError as error:
            if nothing_to_revoke(error):
                return False
            raise
        return True

    def restore(self, target: Target, resource: dict[str, Any]) -> None:
        self._call(
            self._clients.lakeformation,
            "grant_permissions",
            CatalogId=target.catalog_id,
            Principal=PRINCIPAL,
            Resource=resource,
            Permissions=["ALL"],
        )


class ResourceError(Exception):
    """An API error on one resource, naming it."""


def revoke_all(api: Api, target: Target, progress: Progress) -> Result:
    tables = api.table_names(target)
    resources = [database_resource(target), table_wildcard_resource(target), *(table_resource(target, t) for t in tables)]
    revoked = 0
    for resource in resources:
        try:
            changed = api.revoke(target, resource)
        except ClientError as error:
            raise ResourceError(f"revoking IAM_ALLOWED_PRINCIPALS on {describe(resource)} failed: {error}") from error
        logger.info("revoked" if changed else "nothing to revoke", extra={"resource": describe(resource)})
        if changed:
            revoked += 1
            progress.changed += 1
    return Result(
        SUCCESS,
        f"IAM_ALLOWED_PRINCIPALS revoked on {revoked} of {len(resources)} resources of database {target.database} "
        f"(the database, its table wildcard and {len(tables)} tables); the others held nothing",
        physical_resource_id(target),
        {"Revoked": str(revoked), "Tables": str(len(tables))},
    )


def restore_all(api: Api, target: Target, physical_id: str) -> Result:
    try:
        tables = api.table_names(target)
    except ClientError as error:
        if not database_is_gone(error):
            raise
        logger.warning("database gone", extra={"database": target.database})
        return Result(SUCCESS, f"Database {target.database} no longer exists; nothing to restore", physical_id)
    resources = [database_resource(target), *(table_resource(target, t) for t in tables)]
    for resource in resources:
        try:
            api.restore(target, resource)
        except ClientError as error:
            raise ResourceError(f"granting ALL back to IAM_ALLOWED_PRINCIPALS on {describe(resource)} failed: {error}") from error
        logger.info("restored", extra={"resource": describe(resource)})
    return Result(
        SUCCESS,
        f"ALL granted back to IAM_ALLOWED_PRINCIPALS on database {target.database} and its {len(tables)} tables",
        physical_id,
        {"Restored": str(len(resources))},
    )


def keep_governed(target: Target, physical_id: str) -> Result:
    logger.info("delete without restore", extra={"database": target.database})
    return Result(
        SUCCESS,
        f"RestoreOnDelete is not true: IAM_ALLOWED_PRINCIPALS stays revoked on database {target.database}; "
        "nothing granted back",
        physical_id,
        {"Restored": "0"},
    )


def handle(event: Mapping[str, Any], *, api: Api, progress: Progress) -> Result:
    """The answer to one request (exceptions are the caller's to turn into FAILED)."""
    if event.get("RequestType") == "Delete" and event.get("PhysicalResourceId") == CREATE_FAILED_MARKER:
        return Result(SUCCESS, "Nothing to restore: the Create of this resource failed before changing anything", CREATE_FAILED_MARKER)
    request = parse_request(event)
    progress.target = request.target
    if request.request_type == "Delete":
        physical_id = request.physical_id or physical_resource_id(request.target)
        if not request.restore_on_delete:
            return keep_governed(request.target, physical_id)
        return restore_all(api, request.target, physical_id)
    return revoke_all(api, request.target, progress)


def _clients() -> Clients:
    return Clients(
        lakeformation=boto3.client("lakeformation", config=CLIENT_CONFIG),
        glue=boto3.client("glue", config=CLIENT_CONFIG),
    )


def process(
    event: Mapping[str, Any],
    context: Any,
    *,
    client_factory: Callable[[], Clients] = _clients,
    opener: Callable[..., Any] = urllib.request.urlopen,
    sleep: Callable[[float], None] = time.sleep,
    timer_factory: Callable[..., Any] = threading.Timer,
) -> dict[str, Any] | None:
    """Handle one request and always answer it; returns the response document sent."""
    properties = event.get("ResourceProperties") or {}
    progress = Progress()
    return answer(
        event,
        context,
        lambda: handle(event, api=Api(client_factory(), sleep), progress=progress),
        failure_physical_id=lambda: failure_physical_id(event, progress),
        timeout_reason=TIMEOUT_REASON,
        logger=logger,
        opener=opener,
        timer_factory=timer_factory,
        details={"database": properties.get("DatabaseName"), "restore_on_delete": properties.get("RestoreOnDelete")},
    )


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    process(event, context)
