"""HTTP triggers on an aiohttp server at http://127.0.0.1:7071/<routePrefix>/<route>.

Also serves the host's admin route, `POST /admin/functions/<name>`, which runs a
non-HTTP function once (a timer, or a queue function with the body's "input").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from aiohttp import web

from local.host.index import FunctionSpec

logger = logging.getLogger("local.host")
MAX_BODY_BYTES = 100 * 1024 * 1024  # the host's default request size limit

HttpRunner = Callable[[FunctionSpec, Any, str], Awaitable[Any]]
AdminRunner = Callable[[str, str], Awaitable[bool]]


def aiohttp_paths(route: str, prefix: str) -> list[str]:
    """'exports/{name}/runs/{runId:guid?}' -> ['/api/exports/{name}/runs/{runId}'].

    A catch-all parameter ('console/{*path}') matches the rest of the path, empty included, as in
    ASP.NET Core routing: ['/api/console/{path:.*}', '/api/console'].
    """
    cleaned = re.sub(r"\{(\w+)(?::[^}?]*)?\??\}", r"{\1}", route.strip("/"))
    cleaned = re.sub(r"\{\*(\w+)\}", r"{\1:.*}", cleaned)
    path = f"/{prefix}/{cleaned}" if prefix else f"/{cleaned}"
    if path.endswith(":.*}"):
        return [path, path.rsplit("/", 1)[0] or "/"]
    return [path]


def _is_catch_all(spec: FunctionSpec) -> bool:
    return "{*" in str(spec.trigger.get("route") or "")


def build_http_app(
    specs: list[FunctionSpec], prefix: str, run_http: HttpRunner, run_admin: AdminRunner
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    for spec in sorted(specs, key=_is_catch_all):  # a catch-all never shadows a more specific route
        route = str(spec.trigger.get("route") or spec.name)
        methods = [str(m).upper() for m in (spec.trigger.get("methods") or ["GET", "POST"])]
        for path in aiohttp_paths(route, prefix):
            for method in methods:
                app.router.add_route(method, path, _handler(spec, run_http))
            logger.info("http: %s %s -> %s", ",".join(methods), path, spec.name)

    async def admin(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            body = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError:
            return web.json_response({"error": 'body must be JSON like {"input": "..."}'}, status=400)
        found = await run_admin(name, str(body.get("input", "")))
        return web.Response(status=202) if found else web.Response(status=404)

    app.router.add_post("/admin/functions/{name}", admin)
    return app


def _handler(spec: FunctionSpec, run_http: HttpRunner) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        req = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            params=dict(request.query),
            route_params=dict(request.match_info),
            body=body,
        )
        try:
            result = await run_http(
                spec,
                req,
                f"This function was programmatically called via the host APIs ({request.method} {request.path}).",
            )
        except Exception:
            logger.exception("http function %s failed", spec.name)
            return web.Response(status=500)
        if result is None:
            return web.Response(status=204)
        if not isinstance(result, func.HttpResponse):
            return web.Response(status=500, text=f"{spec.name} returned {type(result).__name__}, not HttpResponse")
        headers = dict(result.headers)
        headers.setdefault("Content-Type", f"{result.mimetype}; charset={result.charset}")
        return web.Response(status=result.status_code, body=result.get_body(), headers=headers)

    return handle
