"""What an operation answers, before the HTTP boundary turns it into a response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: BaseModel | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "application/json"
    queue_message: str | None = None  # for the run queue (the trigger's queue output binding)

    def content(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return self.body.model_dump_json(by_alias=True).encode("utf-8")


def etag_header(etag: str) -> str:
    """An ETag as a quoted entity tag, however the store spelled it."""
    bare = etag.strip().strip('"')
    return f'"{bare}"'


__all__ = ["ApiResult", "etag_header"]
