"""What the client returns: small typed views of AC's JSON (ids as strings, as AC sends them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

TERMINAL_BATCH_STATUSES: Final = frozenset({"completed", "failed", "interrupted"})


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
    """GET /import/info: `status` is None while AC still answers `false` (the first second or so)."""

    status: str | None
    success: tuple[str, ...] = ()
    failure: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_BATCH_STATUSES

    @classmethod
    def from_json(cls, body: Any) -> ImportInfo:
        if not isinstance(body, Mapping):
            return cls(status=None)
        raw = body.get("status")
        status = str(raw).lower() if isinstance(raw, str) and raw else None
        return cls(
            status=status,
            success=tuple(str(x) for x in body.get("success") or ()),
            failure=tuple(str(x) for x in body.get("failure") or ()),
        )


__all__ = ["TERMINAL_BATCH_STATUSES", "AcField", "AcList", "AcUser", "ImportInfo", "fields_named"]
