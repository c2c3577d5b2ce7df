"""/_emulator/*: read-only inspection, seeding, config and reset (no Api-Token; JSON in and out).

Errors are {"error": "..."} with 400 (bad input) or 404 (unknown list/contact/batch).
"""

from __future__ import annotations

import itertools
from typing import Any, Final

import orjson
from aiohttp import web

from local.activecampaign_emulator import views
from local.activecampaign_emulator.config_io import ConfigError, config_docs, config_to_dict
from local.activecampaign_emulator.gate import EMULATOR
from local.activecampaign_emulator.paging import int_param
from local.activecampaign_emulator.render import json_response

routes = web.RouteTableDef()
STREAM_CHUNK: Final = 10_000


def _error(message: str, status: int = 400) -> web.Response:
    return json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    body = orjson.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _float(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    return float(raw) if raw not in (None, "") else None


@web.middleware
async def inspect_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/_emulator/"):
        return await handler(request)  # type: ignore[no-any-return]
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except (ConfigError, ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        return _error(f"{type(exc).__name__}: {exc}")


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    return json_response({"ok": True, "now": emu.since_start(), "contacts": emu.state.contact_count})


@routes.get("/_emulator/config")
async def get_config(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    out: dict[str, Any] = {"config": config_to_dict(emu.config)}
    if request.query.get("docs"):
        out["docs"] = config_docs()
    return json_response(out)


@routes.post("/_emulator/config")
async def patch_config(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    return json_response({"config": emu.patch_config(await _body(request))})


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    emu.reset(config=bool((await _body(request)).get("config", False)))
    return json_response({"ok": True, "config": config_to_dict(emu.config)})


@routes.get("/_emulator/lists")
async def lists(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    return json_response({"lists": [views.list_summary(acl) for acl in emu.state.lists.values()]})


@routes.post("/_emulator/lists")
async def seed_list(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await _body(request)
    list_id = body.get("id")
    acl = emu.state.add_list(str(body["name"]), body.get("stringid"), int(list_id) if list_id is not None else None)
    return json_response(views.list_summary(acl), status=201)


@routes.get("/_emulator/lists/{id}/members")
async def members(request: web.Request) -> web.StreamResponse:
    """Full rows are streamed in chunks, so a million members do not have to fit in memory twice."""
    emu = request.app[EMULATOR]
    acl = emu.state.lists.get(int(request.match_info["id"]))
    if acl is None:
        return _error("no such list", 404)
    query = request.query
    status, offset, limit = int_param(query, "status"), int_param(query, "offset", 0) or 0, int_param(query, "limit")
    if query.get("compact", "") in ("1", "true") or (limit is not None and limit <= STREAM_CHUNK):
        compact = query.get("compact", "") in ("1", "true")
        return json_response(views.members_view(emu, acl, status=status, offset=offset, limit=limit, compact=compact))
    head = views.list_summary(acl)
    head["total"] = acl.count(status)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(orjson.dumps(head)[:-1] + b',"members":[')
    rows = views.member_rows(emu, acl, status=status, offset=offset, limit=limit)
    first = True
    while chunk := list(itertools.islice(rows, STREAM_CHUNK)):
        body = orjson.dumps(chunk)[1:-1]
        await response.write(body if first else b"," + body)
        first = False
    await response.write(b"]}")
    await response.write_eof()
    return response


@routes.get("/_emulator/contacts")
async def contact(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    found = emu.state.contact(request.query.get("email", ""))
    if found is None:
        return _error("no such contact", 404)
    return json_response(views.contact_view(emu, found))


@routes.post("/_emulator/contacts")
async def seed_contacts(request: web.Request) -> web.Response:
    """{"contacts": [{"email", "first_name", "last_name", "phone", "fields": {"1": "v"}, "tags": [..],
    "lists": {"1": 2}}]} -> {"ids": [...]}; seeded contacts start with 0 writes."""
    emu = request.app[EMULATOR]
    ids = []
    for item in (await _body(request))["contacts"]:
        seeded = emu.state.seed_contact(
            str(item["email"]),
            first_name=item.get("first_name"),
            last_name=item.get("last_name"),
            phone=item.get("phone"),
            fields={int(k): str(v) for k, v in (item.get("fields") or {}).items()},
            tags=item.get("tags") or (),
            lists={int(k): int(v) for k, v in (item.get("lists") or {}).items()},
        )
        ids.append(seeded.id)
    return json_response({"ids": ids}, status=201)


@routes.post("/_emulator/fields")
async def seed_field(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await _body(request)
    field = emu.state.add_field(str(body["title"]), str(body.get("type", "text")), body.get("perstag"))
    return json_response({"id": field.id, "title": field.title, "type": field.type, "perstag": field.perstag}, 201)


@routes.get("/_emulator/exclusions")
async def get_exclusions(request: web.Request) -> web.Response:
    return json_response({"emails": sorted(request.app[EMULATOR].state.exclusions)})


@routes.post("/_emulator/exclusions")
async def add_exclusions(request: web.Request) -> web.Response:
    state = request.app[EMULATOR].state
    state.seed_exclusions((await _body(request))["emails"])
    return json_response({"emails": sorted(state.exclusions)})


@routes.get("/_emulator/bounced")
async def get_bounced(request: web.Request) -> web.Response:
    return json_response({"emails": sorted(request.app[EMULATOR].state.bounced)})


@routes.post("/_emulator/bounced")
async def add_bounced(request: web.Request) -> web.Response:
    state = request.app[EMULATOR].state
    state.seed_bounced((await _body(request))["emails"])
    return json_response({"emails": sorted(state.bounced)})


@routes.get("/_emulator/writes")
async def writes(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    minimum = int_param(request.query, "min", 1) or 1
    return json_response(views.writes_view(emu, minimum=minimum, email=request.query.get("email")))


@routes.get("/_emulator/requests")
async def requests(request: web.Request) -> web.Response:
    return json_response(views.requests_view(request.app[EMULATOR]))


@routes.get("/_emulator/arrivals")
async def arrivals(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    return json_response({"now": emu.since_start(), "arrivals": emu.metrics.arrivals(_float(request, "since"))})


@routes.get("/_emulator/retry-after-violations")
async def violations(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    grace = _float(request, "grace_s") or 0.0
    return json_response({"grace_s": grace, "violations": emu.metrics.retry_after_violations(grace)})


@routes.get("/_emulator/budgets")
async def budgets(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    snapshot = emu.budgets.snapshot(emu.origin, _float(request, "since"), _float(request, "until"))
    snapshot["now"] = emu.since_start()
    return json_response(snapshot)


@routes.get("/_emulator/batches")
async def batches(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    details = request.query.get("details", "1") not in ("0", "false")
    return json_response(views.batches_view(emu, status=request.query.get("status"), details=details))


@routes.get("/_emulator/batches/{id}")
async def batch(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    found = emu.state.batches.get(request.match_info["id"])
    if found is None:
        return _error("no such batch", 404)
    return json_response(found.to_json(emu.clock(), emu.origin))


@routes.get("/_emulator/faults")
async def faults(request: web.Request) -> web.Response:
    return json_response(views.faults_view(request.app[EMULATOR]))
