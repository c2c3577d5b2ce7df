"""GET /me: who the console is talking for, and whether it may offer its local sign-in picker."""

from __future__ import annotations

from shared.api.access import authenticate, local_sign_in_allowed
from shared.api.request import Call
from shared.api.result import ApiResult
from shared.api.schemas import Me
from shared.errors import Unauthenticated
from shared.services import Services


async def get_me(services: Services, call: Call) -> ApiResult:
    """Always 200: a caller who is not signed in (or whose header is not trusted) learns why."""
    local = local_sign_in_allowed(services.settings)
    try:
        principal = authenticate(call.request.headers, services.settings)
    except Unauthenticated as exc:
        return ApiResult(200, Me(signed_in=False, local_sign_in=local, reason=exc.message))
    roles = sorted(principal.roles, key=lambda r: r.value)
    return ApiResult(200, Me(signed_in=True, name=principal.name, roles=roles, local_sign_in=local))


__all__ = ["get_me"]
