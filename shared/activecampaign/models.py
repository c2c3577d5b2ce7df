"""What the client returns: small typed views of AC's JSON (ids as strings, as AC sends them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

TERMINAL_BATCH_STATUSES: Final = frozenset({"completed", "failed", "interrupted"})
FAILURE_REASON_KEYS: Final = ("reason", "failureReason", "message", "error")  # a reason in a `failure` object


@dataclass(frozen=True)
class AcUser:
    id: str
    username: str


@dataclass(frozen=True)
class AcList:
    id: str
    name: str


@dataclass(frozen=True)
class AcField:
    id: str
    title: str
    type: str
    perstag: str = ""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AcField:
        return cls(
            id=str(raw.get("id", "")),
            title=str(raw.get("title", "")),
            type=str(raw.get("type", "text")),
            perstag=str(raw.get("perstag", "")),
        )


def fields_named(fields: Sequence[AcField], wanted: str) -> list[AcField]:
    """The custom fields a mapping names: the one with that id, else every field with that title.

    Titles match trimmed and case-insensitively; the caller decides what more than one match means.
    """
    key = wanted.strip()
    by_id = [f for f in fields if f.id == key]
    return by_id or [f for f in fields if f.title.strip().casefold() == key.casefold()]


@dataclass(frozen=True)
class ImportInfo:
    """GET /import/info: `status` is None while AC still answers `false` (the first second or so), or while it
    does not know the batch (`unknown`: the answer, e.g. "404").

    `failure` is AC's documented list of emails; `reasons` holds a reason per (lowercased) email when AC gives
    one, i.e. when a `failure` item is an object with an email and a reason (UNCONFIRMED: not documented).
    `lost` says why polling gave up on a batch AC never knew (wait_for_batch).
    """

    status: str | None
    success: tuple[str, ...] = ()
    failure: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    unknown: str | None = None
    lost: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_BATCH_STATUSES

    @classmethod
    def from_json(cls, body: Any) -> ImportInfo:
        if not isinstance(body, Mapping):
            return cls(status=None)
        raw = body.get("status")
        status = str(raw).lower() if isinstance(raw, str) and raw else None
        emails: list[str] = []
        reasons: dict[str, str] = {}
        for item in body.get("failure") or ():
            if isinstance(item, Mapping):
                email = str(item.get("email") or "")
                text = next((str(item[k]) for k in FAILURE_REASON_KEYS if item.get(k)), "")
                if email and text:
                    reasons[email.strip().lower()] = text
            else:
                email = str(item)
            if email:
                emails.append(email)
        return cls(
            status=status,
            success=tuple(str(x) for x in body.get("success") or ()),
            failure=tuple(emails),
            reasons=reasons,
        )


__all__ = [
    "FAILURE_REASON_KEYS",
    "TERMINAL_BATCH_STATUSES",
    "AcField",
    "AcList",
    "AcUser",
    "ImportInfo",
    "fields_named",
]
