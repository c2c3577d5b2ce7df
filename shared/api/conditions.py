"""Optimistic concurrency on the API: If-Match / If-None-Match against the documents' ETags.

- `If-None-Match: *` creates only: 412 if the document exists.
- `If-Match: <etag>` (or a list, or `*`) replaces or deletes only that version: 412 otherwise.
- Without either, a PUT creates or replaces; the write itself is still conditional on the
  version read a moment before, so a concurrent change gives 412 instead of being lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from shared.errors import Conflict, CorruptDocument, NotFound, PreconditionFailed
from shared.storage import DocumentStore, Versioned

M = TypeVar("M", bound=BaseModel)


def _etags(raw: str) -> frozenset[str]:
    return frozenset(_bare(t) for t in raw.split(",") if t.strip())


def _bare(tag: str) -> str:
    """Compare ETags without quotes or a weak prefix (`W/"x"`, `"x"` and `x` are the same tag)."""
    tag = tag.strip()
    tag = tag.removeprefix("W/")
    return tag.strip('"')


@dataclass(frozen=True)
class Conditions:
    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Conditions:
        match = headers.get("if-match")
        none_match = headers.get("if-none-match")
        return cls(
            if_match=_etags(match) if match is not None and match.strip() else None,
            if_none_match=_etags(none_match) if none_match is not None and none_match.strip() else None,
        )

    @property
    def create_only(self) -> bool:
        return self.if_none_match is not None and "*" in self.if_none_match

    def check(self, kind: str, name: str, current: Versioned[M] | None) -> None:
        """Raise PreconditionFailed (412) when the headers do not hold for `current`."""
        if self.if_match is not None:
            if current is None:
                raise PreconditionFailed(f"{kind} {name!r} does not exist, so If-Match cannot match")
            if "*" not in self.if_match and _bare(current.etag) not in self.if_match:
                raise PreconditionFailed(
                    f"{kind} {name!r} was changed since you read it (its ETag differs): read it again and retry"
                )
        none_match = self.if_none_match
        if none_match is not None and current is not None and (self.create_only or _bare(current.etag) in none_match):
            raise PreconditionFailed(f"{kind} {name!r} already exists (If-None-Match)")


async def save(store: DocumentStore[M], name: str, doc: M, current: Versioned[M] | None) -> tuple[str, bool]:
    """Create or replace `name`, conditional on `current` (the version checked).  Returns (etag, created)."""
    if current is None:
        try:
            return await store.create(name, doc), True
        except Conflict:
            raise PreconditionFailed(
                f"{store.kind} {name!r} was created by someone else at the same time: read it and retry"
            ) from None
    return await store.replace(name, doc, current.etag), False


async def current(store: DocumentStore[M], name: str, *, may_override: bool) -> tuple[Versioned[M] | None, str | None]:
    """The stored version, or (None, its ETag) when it exists but cannot be read and the caller may replace or
    delete it anyway (an admin repairing a broken document).  Anyone else gets the CorruptDocument error."""
    try:
        return await store.find(name), None
    except CorruptDocument:
        if not may_override:
            raise
        return None, await store.etag_of(name)


def check_broken(conditions: Conditions, kind: str, name: str, etag: str) -> None:
    """The If-Match / If-None-Match rules for a document that exists but cannot be read."""
    if conditions.if_match is not None and "*" not in conditions.if_match and _bare(etag) not in conditions.if_match:
        raise PreconditionFailed(f"{kind} {name!r} was changed since you read it (its ETag differs)")
    if conditions.if_none_match is not None:
        raise PreconditionFailed(f"{kind} {name!r} already exists (If-None-Match)")


async def delete(
    store: DocumentStore[M], name: str, conditions: Conditions, *, may_override: bool = False
) -> Versioned[M] | None:
    """Delete `name` if the conditions hold for its current version.  NotFound (404) if it is missing.
    With `may_override`, a document that cannot be read is deleted too (None is returned)."""
    found, broken = await current(store, name, may_override=may_override)
    if broken is not None:
        check_broken(conditions, store.kind, name, broken)
        await store.delete(name, broken)
        return None
    if found is None:
        raise NotFound(f"{store.kind} {name!r} does not exist")
    conditions.check(store.kind, name, found)
    await store.delete(name, found.etag)
    return found


__all__ = ["Conditions", "check_broken", "current", "delete", "save"]
