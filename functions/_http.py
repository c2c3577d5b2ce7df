"""The one HTTP translation boundary: func.HttpRequest in, func.HttpResponse out.

- An ExportError becomes its `.status` with `{"error": {"code", "message", "details"}}`.
- Anything else becomes a 500 with a generic message and a correlation id; the exception
  is logged here with that id (never the request body, which may hold an API key).
- A run-queue message is set on the trigger's queue output binding only on success.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import azure.functions as func

from shared.api import ApiRequest, ApiResult, Operation, Route, handle
from shared.errors import ExportError, RetriableError
from shared.services import get_services

logger = logging.getLogger(__name__)
JSON = "application/json"
CORRELATION_HEADER = "X-Correlation-Id"
F = TypeVar("F", bound=Callable[..., Any])


def http_function(bp: func.Blueprint, route: Route) -> Callable[[F], F]:
    """Register an HTTP trigger for `route` (its function name, path and method come from the routes table).

    Anonymous at the Functions level: App Service Authentication (Easy Auth) is in front in Azure.
    """

    def register(fn: F) -> F:
        trigger = bp.route(route=route.path, methods=[route.method], auth_level=func.AuthLevel.ANONYMOUS)
        named: F = bp.function_name(route.function_name)(trigger(fn))
        return named

    return register


def api_request(req: func.HttpRequest) -> ApiRequest:
    return ApiRequest.of(
        req.method,
        route_params=req.route_params,
        query=req.params,
        headers=dict(req.headers.items()),
        body=req.get_body() or b"",
    )


async def serve(
    req: func.HttpRequest, route: Route, operation: Operation, queue: func.Out[str] | None = None
) -> func.HttpResponse:
    """Run one API operation and answer; every outcome, expected or not, is a JSON response."""
    try:
        result = await handle(await get_services().ready(), route, api_request(req), operation)
    except ExportError as exc:
        return error_response(route, exc)
    except Exception as exc:  # noqa: BLE001 (the boundary: anything unexpected is a logged 500)
        return internal_error(route, exc)
    if result.queue_message is not None:
        if queue is None:
            return internal_error(route, RuntimeError(f"{route.function_name} has no queue output binding"))
        queue.set(result.queue_message)
    return response(result)


def response(result: ApiResult) -> func.HttpResponse:
    body = result.content()
    media = result.media_type if body else None
    headers = dict(result.headers)
    if media is not None:
        headers["Content-Type"] = f"{media}; charset=utf-8"
    return func.HttpResponse(body or None, status_code=result.status, headers=headers, mimetype=media)


def error_response(route: Route, exc: ExportError) -> func.HttpResponse:
    level = logging.WARNING if exc.status >= 500 else logging.INFO
    logger.log(level, "%s /%s -> %d %s", route.method, route.path, exc.status, exc.code)
    headers = {"Content-Type": f"{JSON}; charset=utf-8"}
    if isinstance(exc, RetriableError) and exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return func.HttpResponse(json.dumps(exc.as_body()), status_code=exc.status, headers=headers, mimetype=JSON)


def internal_error(route: Route, exc: BaseException) -> func.HttpResponse:
    correlation_id = uuid.uuid4().hex
    logger.error(
        "%s /%s failed unexpectedly (%s, correlation id %s)",
        route.method,
        route.path,
        type(exc).__name__,
        correlation_id,
        exc_info=exc,
    )
    body = {
        "error": {
            "code": "internal_error",
            "message": f"unexpected error; quote correlation id {correlation_id} to the operator",
            "details": [],
            "correlationId": correlation_id,
        }
    }
    headers = {"Content-Type": f"{JSON}; charset=utf-8", CORRELATION_HEADER: correlation_id}
    return func.HttpResponse(json.dumps(body), status_code=500, headers=headers, mimetype=JSON)


__all__ = ["api_request", "error_response", "http_function", "internal_error", "response", "serve"]
