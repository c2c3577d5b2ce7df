"""Who may do what: the caller's identity, the route's roles, and connection sharing.

- The X-MS-CLIENT-PRINCIPAL header is trusted only behind App Service Authentication
  (WEBSITE_AUTH_ENABLED) or on a developer machine that set LOCAL_TRUST_PRINCIPAL_HEADER; otherwise every call is 401,
  because a client could forge the header.
- No principal: 401.  None of the route's roles: 403.
- Admins use every connection.  Contributors use only connections shared with
  `admins-and-contributors`; for anything else they get one 403 whose text is the same
  whether the connection exists or not, so they learn nothing about it.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.api.routes import Route
from shared.config import Settings
from shared.errors import Forbidden, InvalidInput
from shared.models import Connection, Export, UsableBy
from shared.security import Principal, principal_from_headers
from shared.services import Services


def local_sign_in_allowed(settings: Settings) -> bool:
    """May a client state who it is (the console's local sign-in picker sets X-MS-CLIENT-PRINCIPAL itself)?
    Only on a developer machine: the one place that decides it."""
    return settings.trust_principal_header


def authenticate(headers: Mapping[str, str], settings: Settings) -> Principal:
    """The caller, or Unauthenticated (401)."""
    return principal_from_headers(headers, trusted=settings.auth_enabled or local_sign_in_allowed(settings))


def authorize(route: Route, headers: Mapping[str, str], settings: Settings) -> Principal:
    """The caller, if they hold one of the route's roles; Forbidden (403) otherwise."""
    principal = authenticate(headers, settings)
    if not principal.has_any(*route.roles):
        needed = " or ".join(sorted(r.value for r in route.roles))
        held = ", ".join(sorted(r.value for r in principal.roles)) or "no app role"
        raise Forbidden(f"{route.method} /{route.path} needs the role {needed}; you have {held}")
    return principal


def may_use(principal: Principal, connection: Connection) -> bool:
    if principal.is_admin:
        return True
    return principal.is_contributor and connection.usable_by is UsableBy.ADMINS_AND_CONTRIBUTORS


def not_shared(name: str) -> Forbidden:
    """The same answer for a missing connection and one that is not shared: nothing is revealed."""
    return Forbidden(f"connection {name!r} does not exist or is not shared with contributors")


async def usable_connection(services: Services, principal: Principal, name: str) -> Connection:
    """The connection an export may be saved on: 400 naming `connection` if an admin names a missing one."""
    found = await services.connections.find(name)
    if principal.is_admin:
        if found is None:
            raise InvalidInput.for_field("connection", f"connection {name!r} does not exist")
        return found.doc
    if found is None or not may_use(principal, found.doc):
        raise not_shared(name)
    return found.doc


def require_snapshot_root(settings: Settings, principal: Principal, requested: str | None, current: str | None) -> None:
    """Admins may name any snapshotRoot.  Contributors only one inside SNAPSHOT_ALLOWED_ROOTS (default: SNAPSHOT_ROOT),
    or the one the export already has (an admin chose it); otherwise 400 naming snapshotRoot."""
    if principal.is_admin or requested is None or requested == current:
        return
    allowed = settings.allowed_snapshot_roots
    if any(root == "" or requested == root or requested.startswith(root + "/") for root in allowed):
        return
    shown = ", ".join(repr(r or "/") for r in allowed)
    raise InvalidInput.for_field(
        "snapshotRoot",
        f"contributors may only name a snapshot folder inside {shown} (SNAPSHOT_ALLOWED_ROOTS): "
        "leave snapshotRoot out, or ask an admin to set this one",
    )


async def require_export_access(services: Services, principal: Principal, export_name: str) -> Export | None:
    """For changes to an export and its runs: admins always; contributors only on a shared connection.

    Returns the export (None if it no longer exists, which only admins get past).
    """
    found = await services.exports.find(export_name)
    if principal.is_admin:
        return found.doc if found else None
    if found is None:
        raise Forbidden(f"export {export_name!r} does not exist or its connection is not shared with contributors")
    await require_connection_use(services, principal, found.doc.connection, export_name)
    return found.doc


async def require_connection_use(services: Services, principal: Principal, connection: str, export_name: str) -> None:
    if principal.is_admin:
        return
    found = await services.connections.find(connection)
    if found is None or not may_use(principal, found.doc):
        raise Forbidden(f"export {export_name!r} does not exist or its connection is not shared with contributors")


__all__ = [
    "authenticate",
    "authorize",
    "local_sign_in_allowed",
    "may_use",
    "not_shared",
    "require_connection_use",
    "require_export_access",
    "require_snapshot_root",
    "usable_connection",
]
