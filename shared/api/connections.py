"""Connections: create/replace (verify first, then key, then document), read, list, delete.

The API key travels from the request body to the secret store and nowhere else: the
document holds only the secret's name, and no answer ever contains either.

Saving a key never leaves an orphaned or a half-rotated secret:
1. the key is verified with ActiveCampaign (nothing is written if it fails);
2. it is written under a fresh secret name (`new_secret_name`), never over the secret the
   current document names, so the key in force does not change;
3. the document naming the fresh secret is written conditionally (ETag);
4. if that fails (412, a concurrent PUT that won, storage down, cancelled), the fresh secret is
   deleted and the old document and secret stay as they were;
5. only once the new document is saved is the secret the old document named deleted.
Readers (workers, the export checks) use exactly the secret the document they read names
(Services.ac_for; one re-read if a rotation deleted it in between).  What is left behind only
when the process dies between two of these steps, or when a delete itself fails: an unused
secret that no document names (logged with its name when a delete fails).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from shared.api.access import may_use, not_shared
from shared.api.conditions import Conditions, delete, save
from shared.api.request import Call
from shared.api.result import ApiResult, etag_header
from shared.api.routes import CONNECTION_GET
from shared.api.schemas import ConnectionList, ConnectionSummaryList, UnreadableDocument
from shared.api.verify import checked_hostname, verify_key
from shared.config import Secret
from shared.errors import Conflict, ErrorDetail, ExportError, NotFound
from shared.models import Connection, ConnectionRequest, ConnectionSummary, ConnectionView, ConsentRecord, new_id
from shared.models.connection import CONNECTION_ID_PREFIX
from shared.secrets import new_secret_name, secret_name_for_connection
from shared.services import Services

logger = logging.getLogger(__name__)


class KeyHandlingError(RuntimeError):
    """An unexpected failure with an API key in hand; carries no detail that could quote it."""


async def put_connection(services: Services, call: Call) -> ApiResult:
    name = call.name()
    secret_name = new_secret_name(name)
    body = call.body(ConnectionRequest)
    conditions = Conditions.from_headers(call.request.headers)
    current = await services.connections.find(name)
    conditions.check("connection", name, current)
    hostname = await checked_hostname(services, body.hostname)
    now = datetime.now(UTC)
    who = call.who
    connection = Connection(
        id=current.doc.id if current else new_id(CONNECTION_ID_PREFIX),
        name=name,
        display_name=body.display_name,
        hostname=hostname,
        usable_by=body.usable_by,
        secret_name=secret_name,
        consent=ConsentRecord(by=who, at=now),
        export_user=who,
        created_at=current.doc.created_at if current else now,
        updated_at=now,
        verified_at=now,
    )
    await verify_and_store_key(services, hostname, secret_name, Secret(body.api_key.get_secret_value()))
    try:
        etag, created = await save(services.connections, name, connection, current)
    except BaseException:  # 412, a concurrent PUT that won, storage down, cancelled: the new secret must go
        await asyncio.shield(discard_secret(services, secret_name, "its connection was not saved"))
        raise
    if current is not None and current.doc.secret_name != secret_name:
        await discard_secret(services, current.doc.secret_name, "its connection now names a new secret")
    logger.info("connection %s %s (usable by %s)", name, "created" if created else "replaced", body.usable_by.value)
    headers = {"ETag": etag_header(etag), "Location": CONNECTION_GET.url(name=name)}
    return ApiResult(201 if created else 200, ConnectionView.of(connection), headers)


async def discard_secret(services: Services, secret_name: str, why: str) -> None:
    """Delete a secret no document names (any more).  A failure is logged with the name, never raised."""
    try:
        await services.secrets.delete(secret_name)
    except Exception as exc:  # noqa: BLE001 (the caller's outcome stands; the leftover is reported)
        logger.warning(
            "could not delete secret %s (%s: %s); no connection uses it: delete it by hand",
            secret_name,
            why,
            type(exc).__name__,
        )
    else:
        logger.info("secret %s deleted: %s", secret_name, why)


async def verify_and_store_key(services: Services, hostname: str, secret_name: str, api_key: Secret) -> None:
    """Verify the key with ActiveCampaign, then store it.  While the key is in hand, an unexpected
    failure is re-raised without its message or cause (either could quote the key)."""
    try:
        await verify_key(services, hostname, api_key)
        await services.secrets.set(secret_name, api_key)
    except ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 (re-raised, scrubbed)
        raise KeyHandlingError(f"{type(exc).__name__} while verifying or storing an API key") from None


async def get_connection(services: Services, call: Call) -> ApiResult:
    name = call.name()
    principal = call.principal
    found = await services.connections.find(name)
    if not principal.is_admin:
        if found is None or not may_use(principal, found.doc):
            raise not_shared(name)
        return ApiResult(200, ConnectionSummary(name=name, display_name=found.doc.display_name))
    if found is None:
        raise NotFound(f"connection {name!r} does not exist")
    return ApiResult(200, ConnectionView.of(found.doc), {"ETag": etag_header(found.etag)})


async def list_connections(services: Services, call: Call) -> ApiResult:
    docs, broken = await services.connections.list()
    connections = sorted((d.doc for d in docs), key=lambda c: c.name)
    if call.principal.is_admin:
        unreadable = [UnreadableDocument(name=b.name, reason=b.reason) for b in broken]
        return ApiResult(200, ConnectionList(items=[ConnectionView.of(c) for c in connections], unreadable=unreadable))
    shared = [
        ConnectionSummary(name=c.name, display_name=c.display_name) for c in connections if may_use(call.principal, c)
    ]
    return ApiResult(200, ConnectionSummaryList(items=shared))


async def delete_connection(services: Services, call: Call) -> ApiResult:
    """Refused (409, naming them) while exports use the connection; then the document, then the key."""
    name = call.name()
    exports, _ = await services.exports.list()
    users = sorted(e.doc.name for e in exports if e.doc.connection == name)
    if users:
        raise Conflict(
            f"connection {name!r} is used by {len(users)} export(s): {', '.join(users)}. Delete them or move them "
            "to another connection first",
            details=[ErrorDetail("exports", ", ".join(users))],
        )
    conditions = Conditions.from_headers(call.request.headers)
    removed = await delete(services.connections, name, conditions, may_override=True)  # admins only (routes)
    await services.secrets.delete(removed.doc.secret_name if removed else secret_name_for_connection(name))
    logger.info("connection %s deleted", name)
    return ApiResult(204)


__all__ = [
    "KeyHandlingError",
    "delete_connection",
    "discard_secret",
    "get_connection",
    "list_connections",
    "put_connection",
]
