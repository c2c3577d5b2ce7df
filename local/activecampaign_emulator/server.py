"""create_app() and EmulatorServer: the emulator on a real loopback port, in process.

    async with EmulatorServer(EmulatorConfig(rate_scale=60), port=0) as emu:
        emu.url            # http://127.0.0.1:54321  (AC "API URL"; routes under /api/3)
        emu.state          # AccountState: contacts, lists, batches, write counts, seeds
        emu.config         # EmulatorConfig, mutable; prefer emu.patch_config({...}) which re-arms faults
        emu.emulator       # everything else: budgets, metrics, faults, clock

EmulatorThread runs the same server on its own event loop in a background thread, for synchronous callers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from local.activecampaign_emulator import routes_account, routes_contacts, routes_import, routes_inspect
from local.activecampaign_emulator.clock import Clock, monotonic_clock
from local.activecampaign_emulator.config import EmulatorConfig
from local.activecampaign_emulator.emulator import Emulator
from local.activecampaign_emulator.gate import EMULATOR, gate
from local.activecampaign_emulator.metrics import Metrics
from local.activecampaign_emulator.ratelimit import AccountBudgets
from local.activecampaign_emulator.state import AccountState

MAX_BODY_BYTES = 64 * 1024 * 1024  # far above AC's cap, so the cap itself is what refuses big bodies
T = TypeVar("T")


def create_app(
    config: EmulatorConfig | None = None, *, clock: Clock = monotonic_clock, emulator: Emulator | None = None
) -> web.Application:
    """The aiohttp application; the Emulator behind it is `app[EMULATOR]`."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[routes_inspect.inspect_errors, gate])
    app[EMULATOR] = emulator if emulator is not None else Emulator(config, clock=clock)
    for table in (routes_account.routes, routes_contacts.routes, routes_import.routes, routes_inspect.routes):
        app.router.add_routes(table)
    return app


class EmulatorServer:
    """The emulator on http://host:port (port 0 = a free port).  Use `async with`, or start()/stop()."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = monotonic_clock,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.emulator = Emulator(config, clock=clock, wall=wall)
        self.app = create_app(emulator=self.emulator)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    @property
    def state(self) -> AccountState:
        return self.emulator.state

    @property
    def budgets(self) -> AccountBudgets:
        return self.emulator.budgets

    @property
    def metrics(self) -> Metrics:
        return self.emulator.metrics

    @property
    def api_key(self) -> str:
        return self.emulator.config.api_keys[0]

    def patch_config(self, patch: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Same as POST /_emulator/config: validates all, applies all, re-arms storms/stalls/seed."""
        return self.emulator.patch_config({**(patch or {}), **fields})

    def reset(self, *, config: bool = False) -> None:
        self.emulator.reset(config=config)

    async def start(self) -> EmulatorServer:
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            self.emulator.faults.release_all()
            self.emulator.faults.answer_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EmulatorServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class EmulatorThread:
    """EmulatorServer on a background thread with its own loop, for synchronous code:

    with EmulatorThread(EmulatorConfig(limits_enabled=False)) as emu:
        ... requests to emu.url ...
        emu.call(lambda e: e.patch_config({"error_503_probability": 0.1}))
    """

    def __init__(self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._config, self._host, self._port = config, host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ac-emulator", daemon=True)
        self.server: EmulatorServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "not started"
        return self.server.url

    def call(self, fn: Callable[[Emulator], T]) -> T:
        """Run fn(emulator) on the emulator's loop (safe against concurrent requests) and return its result."""
        assert self.server is not None, "not started"
        server = self.server

        async def run() -> T:
            return fn(server.emulator)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def __enter__(self) -> EmulatorThread:
        self._thread.start()

        async def start() -> EmulatorServer:
            return await EmulatorServer(self._config, host=self._host, port=self._port).start()

        self.server = asyncio.run_coroutine_threadsafe(start(), self._loop).result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
