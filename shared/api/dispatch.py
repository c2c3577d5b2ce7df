"""The one way into an operation: size limit, identity, roles, then the operation itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from shared.api.access import authorize
from shared.api.request import ApiRequest, Call
from shared.api.result import ApiResult
from shared.api.routes import Route
from shared.errors import StorageUnavailable
from shared.security import Principal
from shared.services import Services

Operation = Callable[[Services, Call], Awaitable[ApiResult]]
ANONYMOUS = Principal(id="", name="anonymous", roles=frozenset())
STORAGE_RETRY_S: Final = 5.0


async def handle(services: Services, route: Route, request: ApiRequest, operation: Operation) -> ApiResult:
    """Run `operation` for an authorised caller.  Raises ExportError subclasses for every 4xx, and StorageUnavailable
    (503) when storage does not answer."""
    request.check_size()
    if route.request is not None:
        request.check_media_type()
    principal = authorize(route, request.headers, services.settings) if route.roles else ANONYMOUS
    try:
        return await operation(services, Call(request, principal))
    except (ServiceRequestError, ServiceResponseError) as exc:  # storage (or Key Vault) unreachable or timed out
        raise StorageUnavailable(
            f"storage could not be reached ({type(exc).__name__}); try again", retry_after=STORAGE_RETRY_S
        ) from exc


__all__ = ["ANONYMOUS", "Operation", "handle"]
