"""Bulk-import payloads: one contact as JSON bytes, and how to cut contacts into requests.

AC takes at most 250 contacts and at most 399,999 bytes per bulk_import request.
Contacts are serialised once; requests are cut by count and by exact byte size.
Empty optional values are omitted (an empty string would wipe the value in AC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

BODY_PREFIX: Final = b'{"contacts":['
BODY_SUFFIX: Final = b"]}"
BODY_OVERHEAD: Final = len(BODY_PREFIX) + len(BODY_SUFFIX)
_HEAD: Final = b'{"email":'
_BETWEEN: Final = b'},{"email":'


@dataclass(frozen=True)
class ContactFields:
    """What we send for one contact.  Empty strings and None are left out."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    fields: tuple[tuple[int, str], ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactColumns:
    """Many contacts as columns: one entry per contact in each (None where a contact has no value)."""

    emails: Sequence[str]
    first_names: Sequence[str | None] | None = None
    last_names: Sequence[str | None] | None = None
    phones: Sequence[str | None] | None = None
    fields: Sequence[tuple[int, Sequence[str | None]]] = ()  # (AC field id, the column of its values)
    tags: tuple[str, ...] = ()  # every contact gets these


def contact_payloads(
    contacts: ContactColumns,
    *,
    subscribe_list: int | None = None,
    unsubscribe_list: int | None = None,
    exclude_automations: bool = False,
) -> list[bytes]:
    """Each contact's JSON, built a column at a time (a shard's worth at once costs a third of building them one by
    one).  Keys keep one order; a custom-field list is present when any of its values is not None."""
    bodies: list[dict[str, Any]] = [{"email": email} for email in contacts.emails]
    standard = (
        ("first_name", contacts.first_names),
        ("last_name", contacts.last_names),
        ("phone", contacts.phones),
    )
    for key, column in standard:
        if column is not None:
            for body, value in zip(bodies, column, strict=True):
                if value:
                    body[key] = value
    if contacts.fields:
        for row, body in enumerate(bodies):
            present = [(fid, column[row]) for fid, column in contacts.fields if column[row] is not None]
            if present:
                body["fields"] = [{"id": fid, "value": value} for fid, value in present if value != ""]
    shared: dict[str, Any] = {}
    if contacts.tags:
        shared["tags"] = list(contacts.tags)
    if subscribe_list is not None:
        shared["subscribe"] = [{"listid": subscribe_list}]
    if unsubscribe_list is not None:
        shared["unsubscribe"] = [{"listid": unsubscribe_list}]
    shared["exclude_automations"] = exclude_automations
    for body in bodies:
        body.update(shared)
    return _each_dumped(bodies)


def _each_dumped(bodies: list[dict[str, Any]]) -> list[bytes]:
    """orjson.dumps of each body, from one dumps of them all (a call per body costs ~20x more, in allocation).

    Every body starts with its email, and inside JSON a quote in a string is always escaped, so `},{"email":`
    occurs only between two bodies; the count is checked all the same."""
    if not bodies:
        return []
    core = orjson.dumps(bodies)[1 + len(_HEAD) : -2]  # [{"email": ... } ] without the first head and last brace
    pieces = core.split(_BETWEEN)
    if len(pieces) != len(bodies):  # pragma: no cover (cannot happen, see above)
        return [orjson.dumps(body) for body in bodies]
    return [_HEAD + piece + b"}" for piece in pieces]


def contact_payload(
    contact: ContactFields,
    *,
    subscribe_list: int | None = None,
    unsubscribe_list: int | None = None,
    exclude_automations: bool = False,
) -> bytes:
    """One contact's JSON (the same bytes as its row in contact_payloads)."""
    columns = ContactColumns(
        [contact.email],
        [contact.first_name],
        [contact.last_name],
        [contact.phone],
        [(fid, [value]) for fid, value in contact.fields],
        contact.tags,
    )
    return contact_payloads(
        columns,
        subscribe_list=subscribe_list,
        unsubscribe_list=unsubscribe_list,
        exclude_automations=exclude_automations,
    )[0]


def bulk_body(payloads: Sequence[bytes]) -> bytes:
    return BODY_PREFIX + b",".join(payloads) + BODY_SUFFIX


def batch_ranges(sizes: Sequence[int], *, max_count: int, max_bytes: int) -> list[tuple[int, int]]:
    """Cut contacts (given their payload sizes) into [start, end) ranges that fit one request each.

    Deterministic: the same sizes always give the same ranges (a resumed shard relies on it).
    A contact too big for any request gets a range of its own; the caller rejects it.
    """
    ranges: list[tuple[int, int]] = []
    start = 0
    used = BODY_OVERHEAD
    for i, size in enumerate(sizes):
        extra = size + (1 if i > start else 0)  # the comma before every contact but the first
        if i > start and (i - start >= max_count or used + extra > max_bytes):
            ranges.append((start, i))
            start, used, extra = i, BODY_OVERHEAD, size
        used += extra
    if start < len(sizes):
        ranges.append((start, len(sizes)))
    return ranges


def fits_alone(size: int, max_bytes: int) -> bool:
    return BODY_OVERHEAD + size <= max_bytes


__all__ = [
    "ContactColumns",
    "ContactFields",
    "batch_ranges",
    "bulk_body",
    "contact_payload",
    "contact_payloads",
    "fits_alone",
]
