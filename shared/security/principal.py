"""Who is calling: the Easy Auth principal (X-MS-CLIENT-PRINCIPAL) and its app roles.

App Service Authentication puts a base64 JSON principal in X-MS-CLIENT-PRINCIPAL and
strips any such header a client sends.  Without Easy Auth in front, a client could
forge it, so it is trusted only when the platform says authentication is enabled
(WEBSITE_AUTH_ENABLED) or on a developer machine that set LOCAL_TRUST_PRINCIPAL_HEADER=true.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from shared.errors import Unauthenticated

PRINCIPAL_HEADER: Final = "x-ms-client-principal"
PRINCIPAL_ID_HEADER: Final = "x-ms-client-principal-id"
PRINCIPAL_NAME_HEADER: Final = "x-ms-client-principal-name"
MAX_HEADER_BYTES: Final = 16 * 1024
ROLE_CLAIM_TYPES: Final = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
ID_CLAIM_TYPES: Final = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid", "sub")
NAME_CLAIM_TYPES: Final = ("name", "preferred_username", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")


class Role(StrEnum):
    ADMIN = "Admin"
    CONTRIBUTOR = "Contributor"
    VIEWER = "Viewer"


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    roles: frozenset[Role]

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_contributor(self) -> bool:
        return Role.CONTRIBUTOR in self.roles

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def principal_from_headers(headers: Mapping[str, str], *, trusted: bool) -> Principal:
    """The caller, or Unauthenticated (401) with a reason that says what is wrong."""
    if not trusted:
        raise Unauthenticated(
            "authentication is not enabled for this app: requests cannot be attributed to a user. "
            "Enable App Service Authentication (or set LOCAL_TRUST_PRINCIPAL_HEADER=true on a developer machine)."
        )
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get(PRINCIPAL_HEADER, "").strip()
    if not raw:
        raise Unauthenticated("sign in first: the request carries no X-MS-CLIENT-PRINCIPAL")
    claims, role_type, name_type = _decode(raw)
    roles = frozenset(
        Role(v) for t, v in claims if t in (role_type, *ROLE_CLAIM_TYPES) and v in Role._value2member_map_
    )
    ident = lowered.get(PRINCIPAL_ID_HEADER) or _first(claims, ID_CLAIM_TYPES) or ""
    name = lowered.get(PRINCIPAL_NAME_HEADER) or _first(claims, (name_type, *NAME_CLAIM_TYPES)) or ident
    if not ident and not name:
        raise Unauthenticated("the X-MS-CLIENT-PRINCIPAL header names no user")
    return Principal(id=(ident or name)[:200], name=(name or ident)[:200], roles=roles)


def _decode(raw: str) -> tuple[list[tuple[str, str]], str, str]:
    if len(raw) > MAX_HEADER_BYTES:
        raise Unauthenticated("the X-MS-CLIENT-PRINCIPAL header is too large")
    try:
        data: Any = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Unauthenticated("the X-MS-CLIENT-PRINCIPAL header is not base64-encoded JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims", []), list):
        raise Unauthenticated("the X-MS-CLIENT-PRINCIPAL header has no claims list")
    claims = [
        (str(c.get("typ", "")), str(c.get("val", "")))
        for c in data.get("claims", [])
        if isinstance(c, dict) and isinstance(c.get("typ"), str) and isinstance(c.get("val"), str)
    ]
    return claims, str(data.get("role_typ") or "roles"), str(data.get("name_typ") or "name")


def _first(claims: list[tuple[str, str]], types: tuple[str, ...]) -> str | None:
    for typ, val in claims:
        if typ in types and val:
            return val
    return None


def encode_principal(name: str, *roles: str, user_id: str | None = None) -> str:
    """Build the header value Easy Auth would send (for local development, tests and the README)."""
    claims = [{"typ": "roles", "val": r} for r in roles]
    claims.append({"typ": "name", "val": name})
    claims.append({"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": user_id or name})
    body = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(body).encode()).decode()


__all__ = ["PRINCIPAL_HEADER", "Principal", "Role", "encode_principal", "principal_from_headers"]
