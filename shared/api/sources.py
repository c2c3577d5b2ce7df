"""What feeds the console's forms: Connect (verify a key, save nothing), an account's lists and custom
fields, and the segments with their attributes from model.json.

Nothing here changes anything.  The key sent to Connect is used for one GET /users/me and dropped.
"""

from __future__ import annotations

from shared.api.access import may_use, not_shared
from shared.api.connections import KeyHandlingError
from shared.api.request import Call
from shared.api.result import ApiResult
from shared.api.routes import SEGMENTS_LIST
from shared.api.schemas import (
    AccountUser,
    AcFieldItem,
    AcFieldList,
    AcListItem,
    AcListList,
    ConnectionCheck,
    Segment,
    SegmentList,
)
from shared.api.verify import checked_hostname, verify_key
from shared.config import Secret
from shared.errors import ExportError, NotFound
from shared.models import Connection, ConnectionCheckRequest
from shared.services import Services
from shared.snapshot import load_model

ROOT_QUERY = SEGMENTS_LIST.text_query[0]


async def verify_connection(services: Services, call: Call) -> ApiResult:
    """The hostname normalised and checked as PUT /connections does, and the account user the key belongs to."""
    body = call.body(ConnectionCheckRequest)
    hostname = await checked_hostname(services, body.hostname)
    try:
        user = await verify_key(services, hostname, Secret(body.api_key.get_secret_value()))
    except ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 (re-raised, scrubbed: the key is in hand)
        raise KeyHandlingError(f"{type(exc).__name__} while verifying an API key") from None
    return ApiResult(200, ConnectionCheck(hostname=hostname, user=AccountUser(id=user.id, username=user.username)))


async def connection_for_use(services: Services, call: Call) -> Connection:
    """The connection in the URL, if the caller may use it (admins: 404 when missing; others: one 403)."""
    name = call.name()
    found = await services.connections.find(name)
    if call.principal.is_admin:
        if found is None:
            raise NotFound(f"connection {name!r} does not exist")
        return found.doc
    if found is None or not may_use(call.principal, found.doc):
        raise not_shared(name)
    return found.doc


async def list_account_lists(services: Services, call: Call) -> ApiResult:
    async with services.ac_guest_for(await connection_for_use(services, call)) as client:  # a person waits
        lists = sorted(await client.lists(), key=lambda item: item.name.casefold())
    return ApiResult(200, AcListList(items=[AcListItem(id=item.id, name=item.name) for item in lists]))


async def list_account_fields(services: Services, call: Call) -> ApiResult:
    async with services.ac_guest_for(await connection_for_use(services, call)) as client:  # a person waits
        fields = sorted(await client.fields(), key=lambda f: f.title.casefold())
    return ApiResult(200, AcFieldList(items=[AcFieldItem(id=f.id, title=f.title, type=f.type) for f in fields]))


async def list_segments(services: Services, call: Call) -> ApiResult:
    """The entities model.json lists under the root, with their attributes (empty, with a note, without one)."""
    root = call.query_text(ROOT_QUERY).strip("/") or services.settings.snapshot_root
    model = await load_model(services.snapshot_container, root)
    if model is None:
        note = f"there is no model.json under {root or 'the container root'!r} yet: type the segment names"
        return ApiResult(200, SegmentList(root=root, items=[], note=note))
    items = [
        Segment(name=entity.name, attributes=list(entity.attributes))
        for entity in sorted(model.entities.values(), key=lambda e: e.name.casefold())
    ]
    return ApiResult(200, SegmentList(root=root, items=items))


__all__ = [
    "ROOT_QUERY",
    "connection_for_use",
    "list_account_fields",
    "list_account_lists",
    "list_segments",
    "verify_connection",
]
