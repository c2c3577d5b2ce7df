"""AC's wire format: resource envelopes (string ids, string meta.total, ISO timestamps) and error bodies."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from typing import Any

import orjson
from aiohttp import web

from local.activecampaign_emulator.model import AcList, Contact, CustomField

JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON, headers=headers)


def raw_response(text: str, status: int, headers: dict[str, str] | None = None) -> web.Response:
    """A configured body: JSON content type when it parses as JSON, no body and no content type when empty."""
    if not text:
        return web.Response(status=status, headers=headers)
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return web.Response(text=text, status=status, content_type="text/plain", headers=headers)
    return web.Response(body=text.encode(), status=status, content_type=JSON, headers=headers)


def not_found(kind: str, ident: object) -> web.Response:
    return json_response({"message": f"No Result found for {kind} with id {ident}"}, status=404)


def errors(status: int, title: str, code: str, pointer: str | None = None) -> web.Response:
    error: dict[str, Any] = {"title": title, "detail": "", "code": code}
    if pointer:
        error["source"] = {"pointer": pointer}
    return json_response({"errors": [error]}, status=status)


@lru_cache(maxsize=4096)
def iso(ts: float) -> str:
    """Account-timezone ISO-8601, e.g. 2022-04-14T10:03:23-05:00."""
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def collection(key: str, items: list[Any], total: int, **extra: Any) -> dict[str, Any]:
    return {key: items, **extra, "meta": {"total": str(total)}}


def contact_json(c: Contact, base: str) -> dict[str, Any]:
    cid = str(c.id)
    return {
        "cdate": iso(c.cdate),
        "email": c.email,
        "phone": c.phone or "",
        "firstName": c.first_name or "",
        "lastName": c.last_name or "",
        "orgid": "0",
        "orgname": "",
        "segmentio_id": "",
        "bounced_hard": "0",
        "bounced_soft": "0",
        "bounced_date": None,
        "ip": "0",
        "ua": None,
        "hash": hashlib.md5(c.email.lower().encode(), usedforsecurity=False).hexdigest(),
        "email_local": "",
        "email_domain": "",
        "sentcnt": "0",
        "gravatar": "0",
        "deleted": "0",
        "anonymized": "0",
        "udate": iso(c.udate),
        "created_timestamp": iso(c.cdate),
        "updated_timestamp": iso(c.udate),
        "deleted_at": None,
        "email_empty": False,
        "links": {
            "contactLists": f"{base}/api/3/contacts/{cid}/contactLists",
            "fieldValues": f"{base}/api/3/contacts/{cid}/fieldValues",
            "contactTags": f"{base}/api/3/contacts/{cid}/contactTags",
        },
        "id": cid,
        "organization": None,
    }


def field_values_json(c: Contact) -> list[dict[str, Any]]:
    return [
        {"contact": str(c.id), "field": str(fid), "value": value, "id": str(c.id * 1000 + fid), "owner": str(c.id)}
        for fid, value in c.field_values().items()
    ]


def contact_list_json(c: Contact, acl: AcList, status: int, base: str, *, status_as_string: bool) -> dict[str, Any]:
    return {
        "contact": str(c.id),
        "list": str(acl.id),
        "form": None,
        "seriesid": "0",
        "sdate": iso(c.udate),
        "status": str(status) if status_as_string else status,
        "responder": "1",
        "sync": "0",
        "unsubreason": "",
        "campaign": None,
        "message": None,
        "first_name": c.first_name or "",
        "last_name": c.last_name or "",
        "sourceid": "0",
        "links": {"contact": f"{base}/api/3/contacts/{c.id}", "list": f"{base}/api/3/lists/{acl.id}"},
        "id": f"{c.id}{acl.id:04d}",  # synthetic, unique per (contact, list)
        "automation": None,
    }


def list_json(acl: AcList, base: str) -> dict[str, Any]:
    lid = str(acl.id)
    return {
        "stringid": acl.stringid,
        "userid": "1",
        "name": acl.name,
        "cdate": iso(acl.cdate),
        "p_use_tracking": "1",
        "p_use_analytics": "0",
        "p_use_captcha": "1",
        "p_use_facebook": "1",
        "p_use_twitter": "1",
        "p_embed_image": "1",
        "p_use_api": "1",
        "sender_url": acl.sender_url,
        "sender_reminder": acl.sender_reminder,
        "send_last_broadcast": "0",
        "subscription_notify": "",
        "unsubscription_notify": "",
        "links": {
            "contactGoalLists": f"{base}/api/3/lists/{lid}/contactGoalLists",
            "user": f"{base}/api/3/lists/{lid}/user",
        },
        "id": lid,
        "user": "1",
    }


def field_json(f: CustomField) -> dict[str, Any]:
    return {
        "title": f.title,
        "descript": "",
        "type": f.type,
        "isrequired": "1" if f.isrequired else "0",
        "perstag": f.perstag,
        "defval": f.defval,
        "show_in_list": "0",
        "rows": "0",
        "cols": "0",
        "visible": "1",
        "service": "",
        "ordernum": str(f.id),
        "cdate": iso(f.cdate),
        "udate": iso(f.cdate),
        "options": [],
        "relations": [],
        "links": {},
        "id": str(f.id),
    }
