"""The middleware in front of every /api/3 route, in this order:

arrival logged -> connection reset (phase "before") -> added latency -> Api-Token check (403) ->
storm window (429/503) -> random 5xx -> general 5 req/s budget (429 + Retry-After) -> the route ->
RateLimit-* headers -> connection reset (phase "after": applied, but the response is lost) -> counted.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from local.activecampaign_emulator.emulator import Emulator
from local.activecampaign_emulator.ratelimit import retry_after_seconds
from local.activecampaign_emulator.render import raw_response

PREFIX: Final = "/api/3"
EMULATOR: Final = web.AppKey("emulator", Emulator)
NOW: Final = web.RequestKey("now", float)  # arrival time on the emulator clock
USER_ID: Final = web.RequestKey("user_id", int)  # the Api-Token's user (1-based key index)
RESET_AFTER: Final = web.RequestKey("reset_after", bool)
BULK_PATH: Final = "/api/3/import/bulk_import"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_GATEWAY_BODY: Final = {
    500: '{"message":"Internal Server Error"}',
    502: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    503: "<html><body><h1>503 Service Unavailable</h1></body></html>",
}


def route_label(request: web.Request) -> str:
    """'POST /import/bulk_import', 'GET /contacts/{id}': the route template relative to /api/3."""
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else "(unmatched)"
    return f"{request.method} {path.removeprefix(PREFIX)}"


def abort_connection(request: web.Request) -> None:
    """Reset the TCP connection (RST, no response)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(PREFIX + "/"):
        return await handler(request)
    emu = request.app[EMULATOR]
    now = emu.clock()
    request[NOW] = now
    route = route_label(request)
    ticket = emu.metrics.arrive(now, route)
    response = await _checked(emu, request, handler, route, now)
    if response is None:  # reset before handling: nothing is sent, counted as status 0
        emu.metrics.answer(ticket, route, 0)
        return web.Response(status=499)
    config = emu.config
    if config.ratelimit_headers == "all" and emu.budgets.enabled:
        limit, remaining = emu.budgets.general_headers(emu.clock())
        response.headers["RateLimit-Limit"] = limit
        response.headers["RateLimit-Remaining"] = remaining
    if request.get(RESET_AFTER):  # handled, but the response is lost: counted as status 0
        abort_connection(request)
        emu.metrics.answer(ticket, route, 0)
        return response
    emu.metrics.answer(ticket, route, response.status)
    return response


async def _checked(
    emu: Emulator, request: web.Request, handler: Handler, route: str, now: float
) -> web.StreamResponse | None:
    method, subpath = request.method, request.path[len(PREFIX) :]
    faults, config = emu.faults, emu.config
    phase = faults.reset_phase(method, subpath)
    if phase == "before":
        abort_connection(request)
        return None
    request[RESET_AFTER] = phase == "after"
    delay = faults.latency_s(method, subpath)
    if delay > 0:
        await asyncio.sleep(delay)
    key = request.headers.get("Api-Token")
    if not emu.is_valid_key(key):
        return raw_response(config.forbidden_body, 403)
    request[USER_ID] = emu.user_id(key)  # type: ignore[arg-type]
    storm = faults.storm(now)
    if storm is not None:
        kind, retry_after = storm
        if kind == "429":
            emu.metrics.rate_limited(now, route, 429, retry_after, "storm")
            return _too_many(emu, retry_after)
        headers = {"Retry-After": str(retry_after)} if config.storm_503_retry_after else None
        return raw_response(_GATEWAY_BODY[503], 503, headers)
    error = faults.pick_error(method, subpath)
    if error is not None:
        return raw_response(_GATEWAY_BODY[error], error)
    if config.bulk_counts_toward_general or request.path != BULK_PATH:
        wait = emu.budgets.take("general", now)
        if wait > 0:
            retry_after = retry_after_seconds(wait)
            emu.metrics.rate_limited(now, route, 429, retry_after, "general", wait)
            return _too_many(emu, retry_after)
    try:
        return await handler(request)
    except web.HTTPException as exc:  # unknown route (404), wrong method (405)
        return raw_response(f'{{"message":"{exc.reason}"}}', exc.status)


def _too_many(emu: Emulator, retry_after: int) -> web.Response:
    headers = {"Retry-After": str(retry_after)}
    if emu.config.ratelimit_headers == "429_only" and emu.budgets.enabled:
        headers["RateLimit-Limit"], headers["RateLimit-Remaining"] = emu.budgets.general_headers(emu.clock())
    return raw_response(emu.config.rate_limit_body, 429, headers)
