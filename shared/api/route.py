"""What a route is: method, path template, allowed roles, bodies and answers (the table is in routes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel

from shared.security import Role

API_PREFIX: Final = "/api"
MAX_RUN_LIST_LIMIT: Final = 100
DEFAULT_RUN_LIST_LIMIT: Final = 20

PUBLIC: Final[frozenset[Role]] = frozenset()
ADMINS: Final = frozenset({Role.ADMIN})
ADMINS_AND_CONTRIBUTORS: Final = frozenset({Role.ADMIN, Role.CONTRIBUTOR})
EVERYONE: Final = frozenset({Role.ADMIN, Role.CONTRIBUTOR, Role.VIEWER})


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    minimum: int
    maximum: int
    default: int


@dataclass(frozen=True)
class TextQueryParam:
    name: str
    description: str
    max_length: int
    pattern: str | None = None  # a regular expression the whole value must match (declared and enforced)
    rule: str = ""  # what the pattern means, for the 400


@dataclass(frozen=True)
class Route:
    """One operation: what it is, who may call it, and what goes in and out."""

    operation_id: str
    method: str
    path: str
    roles: frozenset[Role]
    summary: str
    success: tuple[int, ...]
    request: type[BaseModel] | None = None
    request_required: bool = True
    response: tuple[type[BaseModel], ...] = ()
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    query: tuple[QueryParam, ...] = ()
    text_query: tuple[TextQueryParam, ...] = ()
    conditional: bool = False  # honours If-Match / If-None-Match
    etag: bool = False  # answers with the document's ETag
    location: bool = False  # answers with a Location header

    @property
    def function_name(self) -> str:
        """The Functions function name (unique in the app)."""
        return f"http_{self.operation_id}"

    def url(self, **params: str) -> str:
        """The absolute path of this route with its parameters filled in (for Location headers)."""
        return f"{API_PREFIX}/{self.path.format(**params)}"


__all__ = [
    "ADMINS",
    "ADMINS_AND_CONTRIBUTORS",
    "API_PREFIX",
    "DEFAULT_RUN_LIST_LIMIT",
    "EVERYONE",
    "MAX_RUN_LIST_LIMIT",
    "PUBLIC",
    "QueryParam",
    "Route",
    "TextQueryParam",
]
