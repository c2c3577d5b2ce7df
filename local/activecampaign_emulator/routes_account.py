"""GET /users/me, lists (GET/POST /lists, GET/DELETE /lists/{id}) and custom fields (GET/POST /fields)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from local.activecampaign_emulator.gate import EMULATOR, USER_ID
from local.activecampaign_emulator.model import FIELD_TYPES
from local.activecampaign_emulator.paging import descending, page
from local.activecampaign_emulator.render import collection, errors, field_json, json_response, list_json, not_found

routes = web.RouteTableDef()


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def read_object(request: web.Request, key: str) -> dict[str, Any] | None:
    """The object under `key` in a JSON body like {"contact": {...}}, or None."""
    try:
        body = orjson.loads(await request.read() or b"null")
    except orjson.JSONDecodeError:
        return None
    inner = body.get(key) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else None


@routes.get("/api/3/users/me")
async def users_me(request: web.Request) -> web.Response:
    uid = str(request[USER_ID])
    base = base_url(request)
    user = {
        "username": "admin" if uid == "1" else f"user{uid}",
        "firstName": "Emulated",
        "lastName": f"User {uid}",
        "email": f"user{uid}@example.com",
        "phone": "",
        "signature": None,
        "links": {"lists": f"{base}/api/3/users/{uid}/lists", "userGroup": f"{base}/api/3/users/{uid}/userGroup"},
        "id": uid,
    }
    return json_response({"user": user})


@routes.get("/api/3/lists")
async def get_lists(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    paged = page(request.query, emu.config)
    if isinstance(paged, web.Response):
        return paged
    limit, offset = paged
    lists = list(emu.state.lists.values())
    name = request.query.get("filters[name]")
    if name:
        lists = [acl for acl in lists if name.lower() in acl.name.lower()]
    order = descending(request.query, "name")
    if order is not None:
        lists.sort(key=lambda acl: acl.name.lower(), reverse=order)
    base = base_url(request)
    return json_response(
        collection("lists", [list_json(acl, base) for acl in lists[offset : offset + limit]], len(lists))
    )


@routes.post("/api/3/lists")
async def post_list(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await read_object(request, "list")
    if body is None:
        return json_response({}, status=400)
    for required in ("name", "stringid", "sender_url", "sender_reminder"):
        if not str(body.get(required) or "").strip():
            return errors(
                422, f"The list {required} was not provided.", "field_missing", f"/data/attributes/{required}"
            )
    acl = emu.state.add_list(str(body["name"]), stringid=str(body["stringid"]))
    acl.sender_url, acl.sender_reminder = str(body["sender_url"]), str(body["sender_reminder"])
    return json_response({"list": list_json(acl, base_url(request))}, status=201)


def _list_id(request: web.Request) -> int | None:
    raw = request.match_info["id"]
    return int(raw) if raw.isdigit() else None


@routes.get("/api/3/lists/{id}")
async def get_list(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    list_id = _list_id(request)
    acl = emu.state.lists.get(list_id) if list_id is not None else None
    if acl is None:
        return not_found("_List", request.match_info["id"])
    return json_response({"list": list_json(acl, base_url(request))})


@routes.delete("/api/3/lists/{id}")
async def delete_list(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    list_id = _list_id(request)
    if list_id is None or not emu.state.delete_list(list_id):
        return not_found("_List", request.match_info["id"])
    return json_response({})


@routes.get("/api/3/fields")
async def get_fields(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    paged = page(request.query, emu.config, default_limit=100)
    if isinstance(paged, web.Response):
        return paged
    limit, offset = paged
    fields = list(emu.state.fields.values())
    perstag = request.query.get("filters[perstag]")
    if perstag:
        fields = [f for f in fields if f.perstag.lower() == perstag.lower()]
    items = [field_json(f) for f in fields[offset : offset + limit]]
    rels = [{"field": str(f.id), "relid": "0", "dorder": "0", "id": str(f.id)} for f in fields[offset : offset + limit]]
    return json_response(collection("fields", items, len(fields), fieldOptions=[], fieldRels=rels))


@routes.post("/api/3/fields")
async def post_field(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await read_object(request, "field")
    if body is None:
        return json_response({}, status=400)
    title = str(body.get("title") or "").strip()
    if not title:
        return errors(422, "The field title was not provided.", "field_missing", "/data/attributes/title")
    field_type = str(body.get("type") or "")
    if field_type not in FIELD_TYPES:
        return errors(
            422,
            f"The field type must be one of {', '.join(sorted(FIELD_TYPES))}.",
            "field_invalid",
            "/data/attributes/type",
        )
    perstag = str(body.get("perstag") or "") or None
    if perstag and any(f.perstag.lower() == perstag.lower() for f in emu.state.fields.values()):
        return errors(422, "Duplicate entry for personalization tag.", "duplicate")
    field = emu.state.add_field(
        title,
        field_type,
        perstag,
        isrequired=body.get("isrequired"),
        defval=body.get("defval"),
        options=body.get("options"),
    )
    return json_response({"field": field_json(field)}, status=201)
