"""The one way into an operation: size limit, identity, roles, then the operation itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.api.access import authorize
from shared.api.request import ApiRequest, Call
from shared.api.result import ApiResult
from shared.api.routes import Route
from shared.security import Principal
from shared.services import Services

Operation = Callable[[Services, Call], Awaitable[ApiResult]]
ANONYMOUS = Principal(id="", name="anonymous", roles=frozenset())


async def handle(services: Services, route: Route, request: ApiRequest, operation: Operation) -> ApiResult:
    """Run `operation` for an authorised caller.  Raises ExportError subclasses for every 4xx."""
    request.check_size()
    if route.request is not None:
        request.check_media_type()
    principal = authorize(route, request.headers, services.settings) if route.roles else ANONYMOUS
    return await operation(services, Call(request, principal))


__all__ = ["ANONYMOUS", "Operation", "handle"]
