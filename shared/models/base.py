"""Common pydantic configuration: camelCase JSON, strict about unknown fields, every failure named."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared.errors import ErrorDetail, InvalidInput

NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
NAME_RULE: Final = "1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit"


# Text a request may carry: no leading or trailing whitespace (the OpenAPI document says so, and the code
# enforces exactly that rather than trimming silently).
TRIMMED: Final = r"^\S(?:[\s\S]*\S)?$"
# The characters an HTTP header value may carry (visible ASCII): what an API key can be.
HEADER_SAFE: Final = r"^[!-~]+$"


def text(max_length: int, *, description: str | None = None) -> Any:
    """A request's text field: 1..max_length characters, no surrounding whitespace."""
    return Field(min_length=1, max_length=max_length, pattern=TRIMMED, description=description)


class ApiModel(BaseModel):
    """A request/response/document model: camelCase on the wire, unknown fields refused, numbers finite."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        allow_inf_nan=False,
        validate_assignment=False,
        frozen=False,
    )


class Document(ApiModel):
    """A stored document: unknown fields are kept out, but a newer schemaVersion is refused loudly."""

    model_config = ConfigDict(extra="ignore")


def check_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(f"must be {NAME_RULE}")
    return value


ResourceName = Annotated[
    str,
    AfterValidator(check_name),
    Field(json_schema_extra={"pattern": NAME_PATTERN.pattern, "minLength": 1, "maxLength": 63}),
]


def validate_name(value: str, field: str = "name") -> str:
    """Check a name from a URL (not a body): a 400 naming the field."""
    try:
        return check_name(value)
    except ValueError as exc:
        raise InvalidInput.for_field(field, str(exc)) from None


def new_id(prefix: str) -> str:
    """An immutable id for a new connection or export: `<prefix>-<16 hex>` (names are only handles)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def legacy_id(prefix: str, data: Any) -> Any:
    """A stored document from before ids (schema version 1) gets a stable id derived from its name and creation
    time, the same on every read; everything else is returned unchanged (the model then validates it)."""
    if isinstance(data, dict) and not data.get("id") and data.get("name"):
        seed = f"{data.get('name')}|{data.get('createdAt') or data.get('created_at') or ''}"
        data = {**data, "id": f"{prefix}-{hashlib.sha256(seed.encode()).hexdigest()[:16]}"}
    return data


def invalid_input(exc: ValidationError, *, prefix: str = "") -> InvalidInput:
    """A pydantic error as our 400: every failing field named with a dotted camelCase path."""
    details: list[ErrorDetail] = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"] if p != "__root__") or "body"
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "is not a known field"
        elif err["type"] == "missing":
            message = "is required"
        details.append(ErrorDetail(prefix + path, message))
    fields = ", ".join(d.field for d in details)
    return InvalidInput(f"invalid request: check {fields}", details=details)


__all__ = [
    "HEADER_SAFE",
    "NAME_RULE",
    "TRIMMED",
    "ApiModel",
    "Document",
    "ResourceName",
    "check_name",
    "invalid_input",
    "legacy_id",
    "new_id",
    "text",
    "validate_name",
]
