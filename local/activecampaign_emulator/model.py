"""The account's records, kept compact: a million contacts must fit well under a few hundred MB.

Contacts are __slots__ objects whose strings are the very objects parsed from the request (repeated names and
field values are pooled); timestamps are one float shared by every contact written by the same request;
custom fields are a flat tuple (id, value, id, value, ...) only when present; tags are a tuple of tag ids.
A list holds its memberships as one byte per contact id (0 none, 1 subscribed, 2 unsubscribed) plus a count
per status, so a million members cost a megabyte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

SUBSCRIBED: Final = 1
UNSUBSCRIBED: Final = 2
FIELD_TYPES: Final = frozenset(
    {"text", "textarea", "date", "datetime", "dropdown", "multiselect", "radio", "checkbox", "hidden"}
)


class Contact:
    __slots__ = ("cdate", "email", "fields", "first_name", "id", "last_name", "phone", "tags", "udate", "writes")

    def __init__(self, contact_id: int, email: str, now: float) -> None:
        self.id = contact_id
        self.email = email
        self.first_name: str | None = None
        self.last_name: str | None = None
        self.phone: str | None = None
        self.cdate = now
        self.udate = now
        self.writes = 0
        self.fields: tuple[int | str, ...] | None = None
        self.tags: tuple[int, ...] | None = None

    def set_field(self, field_id: int, value: str) -> None:
        current = self.fields
        if current is None:
            self.fields = (field_id, value)
            return
        for i in range(0, len(current), 2):
            if current[i] == field_id:
                self.fields = (*current[:i], field_id, value, *current[i + 2 :])
                return
        self.fields = (*current, field_id, value)

    def field_values(self) -> dict[int, str]:
        flat = self.fields or ()
        return {int(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}

    def add_tags(self, tag_ids: tuple[int, ...]) -> None:
        if not self.tags:
            self.tags = tag_ids
        else:
            self.tags = self.tags + tuple(t for t in tag_ids if t not in self.tags)


class AcList:
    """A list and its memberships."""

    __slots__ = ("cdate", "counts", "id", "name", "sender_reminder", "sender_url", "statuses", "stringid")

    def __init__(self, list_id: int, name: str, stringid: str, now: float) -> None:
        self.id = list_id
        self.name = name
        self.stringid = stringid
        self.sender_url = ""
        self.sender_reminder = ""
        self.cdate = now
        self.statuses = bytearray()  # index = contact id; 0 = not a member
        self.counts = [0, 0, 0, 0]  # index = status; counts[0] unused

    def __len__(self) -> int:
        return self.counts[SUBSCRIBED] + self.counts[UNSUBSCRIBED]

    def status_of(self, contact_id: int) -> int | None:
        statuses = self.statuses
        status = statuses[contact_id] if contact_id < len(statuses) else 0
        return status or None

    def set_status(self, contact_id: int, status: int) -> None:
        statuses = self.statuses
        if contact_id >= len(statuses):
            statuses.extend(bytes(max(contact_id + 1 - len(statuses), len(statuses) // 2, 1024)))
        previous = statuses[contact_id]
        if previous != status:
            self.counts[previous] -= 1
            self.counts[status] += 1
            statuses[contact_id] = status

    def count(self, status: int | None = None, start: int = 0) -> int:
        """Members (with `status`, or any) whose contact id is >= start."""
        if start <= 0:
            return len(self) if status is None else self.counts[status] if 0 < status < len(self.counts) else 0
        statuses = self.statuses
        if status is None:
            return statuses.count(SUBSCRIBED, start) + statuses.count(UNSUBSCRIBED, start)
        return statuses.count(status, start) if 0 < status < 256 else 0

    def members(self, status: int | None = None, start: int = 0) -> Iterator[tuple[int, int]]:
        """(contact id, status) for every member (or those with `status`) from contact id `start`, in id order."""
        statuses = self.statuses
        if status is not None:
            if not 0 < status < 256:
                return
            find = statuses.find
            at = find(status, start)
            while at != -1:
                yield at, status
                at = find(status, at + 1)
            return
        for contact_id in range(max(0, start), len(statuses)):
            value = statuses[contact_id]
            if value:
                yield contact_id, value


@dataclass
class CustomField:
    id: int
    title: str
    type: str
    perstag: str
    cdate: float
    isrequired: bool = False
    defval: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Tag:
    id: int
    name: str
