"""A loopback HTTP server that answers from a script: for unit tests of the AC client's status table."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    reset: bool = False  # drop the connection without answering
    raw: bytes | None = None  # send these bytes as the body with no content type


@dataclass
class ScriptedServer:
    url: str
    script: list[Reply]
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)


@asynccontextmanager
async def scripted_server(script: list[Reply], default: Reply | None = None) -> AsyncIterator[ScriptedServer]:
    state = ScriptedServer(url="", script=list(script), default=default or Reply())

    async def handle(request: web.Request) -> web.StreamResponse:
        state.seen.append((request.method, request.path_qs, dict(request.headers)))
        reply = state.script.pop(0) if state.script else state.default
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.reset:
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if reply.raw is not None:
            return web.Response(status=reply.status, body=reply.raw, headers=reply.headers)
        body = json.dumps(reply.body if reply.body is not None else {})
        return web.Response(status=reply.status, text=body, content_type="application/json", headers=reply.headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("/api/3"))
    try:
        yield state
    finally:
        await server.close()
