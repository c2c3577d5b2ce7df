"""Fixtures: a real emulator on 127.0.0.1 driven by a ManualClock (rate limits, Retry-After, storms and
batch lifecycles are exact; nothing sleeps), and a small client for its /api/3 routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from local.activecampaign_emulator import EmulatorConfig, EmulatorServer, ManualClock

KEY = "test-key"
OTHER_KEY = "second-key"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def config() -> EmulatorConfig:
    """Limits off by default (the limit tests switch them on); AC's lifecycle delays kept."""
    return EmulatorConfig(api_keys=[KEY, OTHER_KEY], limits_enabled=False)


@pytest.fixture
async def emu(config: EmulatorConfig, clock: ManualClock) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(config, clock=clock) as server:
        yield server


class Reply:
    def __init__(self, status: int, body: Any, headers: Any, text: str) -> None:
        self.status, self.body, self.headers, self.text = status, body, headers, text

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.text[:200]!r})"


class Client:
    """Calls the emulator like an AC client does: Api-Token header, JSON bodies."""

    def __init__(self, session: aiohttp.ClientSession, emu: EmulatorServer) -> None:
        self.session, self.emu = session, emu

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = KEY,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if key is not None:
            sent.setdefault("Api-Token", key)
        url = self.emu.url + path
        async with self.session.request(method, url, json=body, data=data, headers=sent) as resp:
            text = await resp.text()
            parsed: Any = None
            if resp.content_type == "application/json" and text:
                parsed = await resp.json()
            return Reply(resp.status, parsed, resp.headers, text)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("POST", path, body, **kw)

    async def inspect(self, path: str, body: Any = None) -> Any:
        """/_emulator/ routes (no Api-Token); returns the JSON body and fails on an error status."""
        method = "GET" if body is None else "POST"
        reply = await self.call(method, "/_emulator/" + path, body, key=None)
        assert reply.status < 400, reply
        return reply.body

    async def bulk(self, contacts: list[dict[str, Any]], **extra: Any) -> Reply:
        return await self.post("/api/3/import/bulk_import", {"contacts": contacts, **extra})


@pytest.fixture
async def client(emu: EmulatorServer) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, emu)


def people(n: int, *, start: int = 0, listid: int | None = 1, **extra: Any) -> list[dict[str, Any]]:
    """n valid bulk contacts person<i>@example.com, subscribed to `listid`."""
    out = []
    for i in range(start, start + n):
        contact: dict[str, Any] = {"email": f"person{i}@example.com", "first_name": f"First{i}", **extra}
        if listid is not None:
            contact["subscribe"] = [{"listid": listid}]
        out.append(contact)
    return out
