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


@dataclass(frozen=True)
class ContactFields:
    """What we send for one contact.  Empty strings and None are left out."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    fields: tuple[tuple[int, str], ...] = ()
    tags: tuple[str, ...] = ()


def contact_payload(
    contact: ContactFields,
    *,
    subscribe_list: int | None = None,
    unsubscribe_list: int | None = None,
    exclude_automations: bool = False,
) -> bytes:
    body: dict[str, Any] = {"email": contact.email}
    if contact.first_name:
        body["first_name"] = contact.first_name
    if contact.last_name:
        body["last_name"] = contact.last_name
    if contact.phone:
        body["phone"] = contact.phone
    if contact.fields:
        body["fields"] = [{"id": fid, "value": value} for fid, value in contact.fields if value != ""]
    if contact.tags:
        body["tags"] = list(contact.tags)
    if subscribe_list is not None:
        body["subscribe"] = [{"listid": subscribe_list}]
    if unsubscribe_list is not None:
        body["unsubscribe"] = [{"listid": unsubscribe_list}]
    body["exclude_automations"] = exclude_automations
    return orjson.dumps(body)


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


__all__ = ["ContactFields", "batch_ranges", "bulk_body", "contact_payload", "fits_alone"]
