"""Contacts: GET /contacts (email, listid, status, id_greater, orders[id]), GET /contacts/{id},
GET /contacts/{id}/contactLists, POST /contacts (create only), POST /contact/sync (upsert by email),
POST /contactLists (status 1 subscribes, and can re-subscribe someone who unsubscribed; 2 unsubscribes)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from local.activecampaign_emulator.emails import is_valid_email
from local.activecampaign_emulator.emulator import Emulator
from local.activecampaign_emulator.gate import EMULATOR
from local.activecampaign_emulator.model import Contact
from local.activecampaign_emulator.paging import descending, int_param, page
from local.activecampaign_emulator.render import (
    contact_json,
    contact_list_json,
    errors,
    field_values_json,
    json_response,
    not_found,
)
from local.activecampaign_emulator.routes_account import base_url, read_object
from local.activecampaign_emulator.state import AccountState

routes = web.RouteTableDef()
EMAIL_POINTER = "/data/attributes/email"


def _matching(state: AccountState, listid: int | None, status: int, id_greater: int, desc: bool) -> Iterator[Contact]:
    """Contacts in id order (DESC with orders[id]=DESC) after id_greater, in list `listid` (if given) with
    membership `status` (-1 = any)."""
    contacts = state.contacts
    wanted = None if status == -1 else status
    if listid is not None:
        acl = state.lists.get(listid)
        if acl is None:
            return
        if not desc:
            for cid, _ in acl.members(wanted, start=id_greater + 1):
                contact = contacts[cid] if cid < len(contacts) else None
                if contact is not None:
                    yield contact
            return
        for cid in range(min(len(acl.statuses), len(contacts)) - 1, id_greater, -1):
            value = acl.statuses[cid]
            if value and (wanted is None or value == wanted) and (contact := contacts[cid]) is not None:
                yield contact
        return
    lists = list(state.lists.values()) if wanted is not None else []
    ids = range(len(contacts) - 1, id_greater, -1) if desc else range(max(1, id_greater + 1), len(contacts))
    for cid in ids:
        contact = contacts[cid]
        if contact is None or (lists and not any(acl.status_of(cid) == wanted for acl in lists)):
            continue
        yield contact


def _filters_match(state: AccountState, contact: Contact, listid: int | None, status: int) -> bool:
    wanted = None if status == -1 else status
    if listid is not None:
        acl = state.lists.get(listid)
        found = acl.status_of(contact.id) if acl is not None else None
        return found is not None and (wanted is None or found == wanted)
    return wanted is None or any(acl.status_of(contact.id) == wanted for acl in state.lists.values())


def _total(state: AccountState, listid: int | None, status: int, id_greater: int) -> int:
    wanted = None if status == -1 else status
    if listid is not None:
        acl = state.lists.get(listid)
        return 0 if acl is None else acl.count(wanted, start=id_greater + 1)
    if wanted is None:  # contacts are never deleted, so ids are dense from 1
        return max(0, len(state.contacts) - max(1, id_greater + 1))
    return sum(1 for _ in _matching(state, None, status, id_greater, False))


@routes.get("/api/3/contacts")
async def get_contacts(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    state, query = emu.state, request.query
    paged = page(query, emu.config)
    if isinstance(paged, web.Response):
        return paged
    limit, offset = paged
    listid = int_param(query, "listid")
    status = int_param(query, "status", -1)
    assert status is not None
    id_greater = int_param(query, "id_greater", 0) or 0
    desc = bool(descending(query, "id"))
    email = query.get("email")
    if email is not None:
        contact = state.contact(email)
        found = [contact] if contact is not None and _filters_match(state, contact, listid, status) else []
        total, page_items = len(found), found[offset : offset + limit]
    else:
        page_items = list(itertools.islice(_matching(state, listid, status, id_greater, desc), offset, offset + limit))
        total = _total(state, listid, status, id_greater)
    base = base_url(request)
    page_input = {
        "segmentid": None,
        "formid": 0,
        "listid": listid or 0,
        "tagid": 0,
        "limit": limit,
        "offset": offset,
        "search": None,
        "sort": None,
        "seriesid": 0,
        "waitid": 0,
        "status": status,
        "forceQuery": 0,
        "cacheid": "",
    }
    return json_response(
        {
            "scoreValues": [],
            "contacts": [contact_json(c, base) for c in page_items],
            "meta": {"total": str(total), "page_input": page_input},
        }
    )


def _contact_from_path(emu: Emulator, request: web.Request) -> Contact | None:
    raw = request.match_info["id"]
    return emu.state.contact_by_id(int(raw)) if raw.isdigit() else None


@routes.get("/api/3/contacts/{id}")
async def get_contact(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    contact = _contact_from_path(emu, request)
    if contact is None:
        return not_found("Subscriber", request.match_info["id"])
    base = base_url(request)
    body = {
        "contactAutomations": [],
        "contactData": [],
        "contactGoals": [],
        "contactLists": _memberships_json(emu, contact, base),
        "deals": [],
        "fieldValues": field_values_json(contact),
        "geoAddresses": [],
        "geoIps": [],
        "contact": contact_json(contact, base),
    }
    return json_response(body)


@routes.get("/api/3/contacts/{id}/contactLists")
async def get_contact_lists(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    contact = _contact_from_path(emu, request)
    if contact is None:
        return not_found("Subscriber", request.match_info["id"])
    return json_response({"contactLists": _memberships_json(emu, contact, base_url(request))})


def _memberships_json(emu: Emulator, contact: Contact, base: str) -> list[dict[str, Any]]:
    """The contact's list memberships as AC shows them on a contact (status as a string)."""
    return [
        contact_list_json(contact, acl, st, base, status_as_string=True)
        for acl, st in emu.state.memberships(contact.id)
    ]


def _apply_fields(emu: Emulator, contact: Contact, body: dict[str, Any], now: float) -> None:
    for attr, key in (("first_name", "firstName"), ("last_name", "lastName"), ("phone", "phone")):
        if body.get(key) is not None:
            setattr(contact, attr, str(body[key]))
    for item in body.get("fieldValues") or []:
        try:
            field_id = int(item["field"])
        except (TypeError, KeyError, ValueError):
            continue
        if field_id in emu.state.fields:
            contact.set_field(field_id, str(item.get("value", "")))
    contact.udate = now
    contact.writes += 1


def _email_error(body: dict[str, Any]) -> web.Response | None:
    email = body.get("email")
    if email is None or email == "":
        return errors(422, "The contact email was not provided.", "field_missing", EMAIL_POINTER)
    if not is_valid_email(email):
        return errors(422, "Contact Email Address is not valid.", "email_invalid", EMAIL_POINTER)
    return None


async def _write(request: web.Request, *, upsert: bool) -> web.Response:
    emu = request.app[EMULATOR]
    body = await read_object(request, "contact")
    if body is None:
        return json_response({}, status=400)
    problem = _email_error(body)
    if problem is not None:
        return problem
    email = str(body["email"])
    state, wall = emu.state, emu.wall()
    contact = state.contact(email)
    status = 201
    if contact is not None:
        if not upsert:
            return errors(422, "Email address already exists in the system", "duplicate", EMAIL_POINTER)
        state.note_email(contact, email)
        status = emu.config.sync_update_status
    else:
        if state.at_contact_limit():
            return errors(422, "You have reached the contact limit of your plan.", "contact_limit", EMAIL_POINTER)
        contact = state.new_contact(email, email.lower(), wall)
    _apply_fields(emu, contact, body, wall)
    base = base_url(request)
    out = contact_json(contact, base)
    out["fieldValues"] = [fv["id"] for fv in field_values_json(contact)]
    return json_response({"fieldValues": field_values_json(contact), "contact": out}, status=status)


@routes.post("/api/3/contacts")
async def post_contact(request: web.Request) -> web.Response:
    return await _write(request, upsert=False)


@routes.post("/api/3/contact/sync")
async def post_sync(request: web.Request) -> web.Response:
    return await _write(request, upsert=True)


@routes.post("/api/3/contactLists")
async def post_contact_list(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await read_object(request, "contactList")
    if body is None:
        return json_response({}, status=400)
    values: dict[str, int] = {}
    for name in ("list", "contact", "status"):
        try:
            values[name] = int(body[name])
        except KeyError:
            return errors(422, f"The {name} was not provided.", "field_missing", f"/data/attributes/{name}")
        except (TypeError, ValueError):
            return errors(422, f"The {name} is invalid.", "field_invalid", f"/data/attributes/{name}")
    if values["status"] not in (1, 2):
        return errors(422, "The status is invalid.", "field_invalid", "/data/attributes/status")
    missing = emu.config.contact_lists_missing_status
    acl = emu.state.lists.get(values["list"])
    if acl is None:
        return errors(missing, "The related list does not exist.", "related_missing", "/data/attributes/list")
    contact = emu.state.contact_by_id(values["contact"])
    if contact is None:
        return errors(missing, "The related contact does not exist.", "related_missing", "/data/attributes/contact")
    acl.set_status(contact.id, values["status"])
    writes = emu.state.contact_list_writes
    writes[contact.id] = writes.get(contact.id, 0) + 1
    base = base_url(request)
    return json_response(
        {
            "contacts": [contact_json(contact, base)],
            "contactList": contact_list_json(contact, acl, values["status"], base, status_as_string=False),
        }
    )
