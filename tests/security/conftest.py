"""Fixtures for the security suite: reuses the API suite's fixtures and the end-to-end stack.

- From tests/api: `api` (calls the real function entry points), `dev` and `prod` Services,
  `emu` (the AC emulator with a ledger key) and `snapshots`.
- From tests/e2e: `stack` (fresh Azurite, the emulator, function_app in the stand-in host,
  driven over HTTP) and `stack_options` (override per module).
- `fake_ac`: small loopback HTTP servers that play ActiveCampaign, or another host, and record
  every request they get.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.api.conftest import api, app_containers, dev, emu, prod, snapshots
from tests.e2e.conftest import stack, stack_options

__all__ = ["api", "app_containers", "dev", "emu", "prod", "snapshots", "stack", "stack_options"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeHost:
    """A loopback HTTP server; `seen` holds (method, path, headers) of every request it got."""

    server: TestServer
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self.server.port is not None, "the server is not started"
        return self.server.port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"


async def _start(routes: dict[str, Handler] | None) -> FakeHost:
    fake = FakeHost(TestServer(web.Application(), host="127.0.0.1"))

    async def dispatch(request: web.Request) -> web.StreamResponse:
        fake.seen.append((request.method, request.path, dict(request.headers)))
        handler = (routes or {}).get(f"{request.method} {request.path}")
        return await handler(request) if handler else web.json_response({"message": "No Result found"}, status=404)

    fake.server.app.router.add_route("*", "/{tail:.*}", dispatch)
    await fake.server.start_server()
    return fake


FakeFactory = Callable[..., Awaitable[FakeHost]]


@pytest.fixture
async def fake_host() -> AsyncIterator[FakeFactory]:
    """`await fake_host({"GET /api/3/users/me": handler, ...})`: a server per call, closed after the test."""
    started: list[FakeHost] = []

    async def make(routes: dict[str, Handler] | None = None) -> FakeHost:
        started.append(await _start(routes))
        return started[-1]

    yield make
    for fake in started:
        await fake.server.close()


def json_answer(body: Any, status: int = 200) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status)

    return answer


def redirect_to(location: str, status: int = 302) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return answer


AC_USER = json_answer({"user": {"id": "1", "username": "admin"}})
AC_LIST = json_answer({"list": {"id": "1", "name": "Newsletter"}})
