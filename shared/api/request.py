"""A request as the service layer sees it (no Functions types), and the parsing helpers.

Every failure is a 4xx that names what to fix: a body that is too large (413), sent as another
media type than JSON (415), not JSON, not an object, or that fails the model (400 naming each
field); a URL name that is not URL-safe (400 naming the parameter); a query value that is not a
whole number in range, or is empty (400 naming it).

Bodies are validated strictly, as the OpenAPI document says: `0` is not `false`, `"1"` is not a
number, and NaN and Infinity are refused where a number is wanted (shared/models/base.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from pydantic import BaseModel, ValidationError

from shared.api.route import QueryParam, TextQueryParam
from shared.errors import ErrorDetail, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from shared.models import PrincipalRecord, invalid_input, validate_name
from shared.security import Principal

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES: Final = 64 * 1024
BODY: Final = "body"


@dataclass(frozen=True)
class ApiRequest:
    """`headers` has lower-case names."""

    method: str
    route_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def of(
        cls,
        method: str,
        *,
        route_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> ApiRequest:
        return cls(
            method=method.upper(),
            route_params=dict(route_params or {}),
            query=dict(query or {}),
            headers={k.lower(): v for k, v in (headers or {}).items()},
            body=body,
        )

    def check_media_type(self) -> None:
        """A body sent as another media type than JSON is 415 (no Content-Type is taken as JSON)."""
        declared = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if self.body.strip() and declared and not (declared == "application/json" or declared.endswith("+json")):
            raise UnsupportedMediaType(f"send the body as application/json, not {declared[:60]}")

    def check_size(self, limit: int = MAX_BODY_BYTES) -> None:
        declared = self.headers.get("content-length", "").strip()
        too_big = len(self.body) > limit or (declared.isdigit() and int(declared) > limit)
        if too_big:
            raise PayloadTooLarge(f"the request body is larger than {limit // 1024} KiB")


@dataclass(frozen=True)
class Call:
    """An authorised request: who asks, and what."""

    request: ApiRequest
    principal: Principal

    @property
    def who(self) -> PrincipalRecord:
        return PrincipalRecord(id=self.principal.id, name=self.principal.name)

    def name(self, param: str = "name") -> str:
        """A resource name from the URL, checked to be URL-safe (400 naming the parameter)."""
        return validate_name(self.request.route_params.get(param, ""), param)

    def body(self, model: type[M], *, required: bool = True) -> M:
        return parse_body(self.request.body, model, required=required)

    def query_int(self, param: QueryParam) -> int:
        return parse_query_int(self.request.query, param)

    def query_text(self, param: TextQueryParam) -> str:
        """The value as sent ('' when absent); 400 naming the parameter when it breaks the declared rules."""
        raw = self.request.query.get(param.name, "")
        if len(raw) > param.max_length:
            raise InvalidInput.for_field(param.name, f"must be at most {param.max_length} characters")
        if param.pattern is not None and not re.fullmatch(param.pattern, raw):
            raise InvalidInput.for_field(param.name, param.rule or "is not valid")
        return raw


def parse_body(raw: bytes, model: type[M], *, required: bool = True) -> M:
    """The JSON body as `model`.  An empty body is `{}` when the body is optional."""
    if not raw.strip():
        if required:
            raise InvalidInput.for_field(BODY, "is required: send a JSON object")
        raw = b"{}"
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise InvalidInput.for_field(BODY, "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput.for_field(BODY, f"is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InvalidInput.for_field(BODY, "is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput.for_field(BODY, f"must be a JSON object, not {_json_type(data)}")
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def parse_query_int(query: Mapping[str, str], param: QueryParam) -> int:
    if param.name not in query:
        return param.default
    raw = query[param.name].strip()
    rule = f"must be a whole number from {param.minimum} to {param.maximum}"
    if not raw.isascii() or not raw.isdigit() or not param.minimum <= int(raw) <= param.maximum:
        raise InvalidInput(f"{param.name}: {rule}", details=[ErrorDetail(param.name, rule)])
    return int(raw)


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


__all__ = ["MAX_BODY_BYTES", "ApiRequest", "Call", "parse_body", "parse_query_int"]
