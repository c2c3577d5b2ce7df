"""The stand-in host: runs a FunctionApp's real entry points against Azurite."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.functions.queue import QueueMessage as FuncQueueMessage

from local.host.config import HostConfig, resolve_setting_reference
from local.host.http import build_http_app
from local.host.index import FunctionSpec, index_app
from local.host.invoke import invoke, queue_messages
from local.host.queues import QueueListener, QueueStore
from local.host.timers import TimerRunner, TimerSchedule

logger = logging.getLogger("local.host")


class StandInHost:
    """Indexes `app` and runs its timer, queue and HTTP functions until stopped.

    `functions` limits the host to some function names (several hosts can then split one
    app between processes, as scaled-out instances would).  `http_port=0` picks a free port.
    The app settings are put into os.environ while the host runs, as the worker sees them.
    """

    def __init__(
        self,
        app: func.FunctionApp,
        settings: Mapping[str, str],
        config: HostConfig,
        *,
        functions: Iterable[str] | None = None,
        http_host: str = "127.0.0.1",
        http_port: int = 7071,
        enable_http: bool = True,
        enable_timers: bool = True,
        message_lease_s: float = 600.0,
    ) -> None:
        self.app = app
        self.settings = dict(settings)
        self.config = config
        self._only = set(functions) if functions is not None else None
        self._http_host = http_host
        self._http_port = http_port
        self._enable_http = enable_http
        self._enable_timers = enable_timers
        self._lease_s = message_lease_s
        self.specs: dict[str, FunctionSpec] = {}
        self.listeners: dict[str, QueueListener] = {}
        self.timers: dict[str, TimerRunner] = {}
        self.store = QueueStore(self.settings, config.queues)
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._saved_env: dict[str, str | None] = {}
        self.http_url: str | None = None

    async def start(self) -> StandInHost:
        self._apply_environment()
        all_specs = index_app(self.app)
        unknown = (self._only or set()) - {s.name for s in all_specs}
        if unknown:
            raise ValueError(f"no such functions: {', '.join(sorted(unknown))}")
        self.specs = {s.name: s for s in all_specs if self._only is None or s.name in self._only}
        http_specs: list[FunctionSpec] = []
        for spec in self.specs.values():
            if spec.trigger_type == "queueTrigger":
                listener = QueueListener(spec, self.store, self.config.queues, self.run, message_lease_s=self._lease_s)
                await self.store.ensure(listener.connection, listener.queue_name)
                self.listeners[spec.name] = listener
                self._tasks.append(asyncio.create_task(listener.run_forever(), name=f"queue:{spec.name}"))
            elif spec.trigger_type == "timerTrigger":
                schedule = TimerSchedule(resolve_setting_reference(str(spec.trigger["schedule"]), self.settings))
                self.timers[spec.name] = TimerRunner(spec, schedule, self.run)
                if self._enable_timers:
                    self._tasks.append(asyncio.create_task(self.timers[spec.name].run_forever(), name=spec.name))
            elif spec.trigger_type == "httpTrigger":
                http_specs.append(spec)
        if self._enable_http and (http_specs or self._only is None):
            await self._start_http(http_specs)
        logger.info("stand-in host started: %s", ", ".join(sorted(self.specs)) or "(no functions)")
        return self

    async def _start_http(self, specs: list[FunctionSpec]) -> None:
        app = build_http_app(specs, self.config.route_prefix, self.run, self.run_function)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._http_host, self._http_port)
        await site.start()
        port = self._http_port
        if port == 0 and self._runner.addresses:
            port = int(self._runner.addresses[0][1])
        self.http_url = f"http://{self._http_host}:{port}"

    async def stop(self) -> None:
        for listener in self.listeners.values():
            await listener.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.store.close()
        self._restore_environment()

    async def __aenter__(self) -> StandInHost:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def run(self, spec: FunctionSpec, trigger: Any, reason: str) -> Any:
        """Invoke one function and honour its output bindings (sent only if it succeeds)."""
        call = invoke(spec, trigger, reason=reason)
        timeout = self.config.function_timeout_s
        result = await (asyncio.wait_for(call, timeout) if timeout else call)
        for binding in spec.outputs:
            value = result.outputs.get(binding.name)
            if binding.type == "queue" and value is not None:
                for text in queue_messages(value):
                    await self.store.send(binding.connection or "AzureWebJobsStorage", str(binding.queue_name), text)
        return result.result

    async def run_function(self, name: str, input_text: str = "") -> bool:
        """Run a non-HTTP function once, on request (the admin route's behaviour)."""
        spec = self.specs.get(name)
        if spec is None:
            return False
        if spec.trigger_type == "timerTrigger":
            await self.timers[name].fire("Manually triggered")
        elif spec.trigger_type == "queueTrigger":
            message = FuncQueueMessage(  # type: ignore[no-untyped-call]
                id="manual", body=input_text.encode("utf-8"), dequeue_count=1
            )
            await self.run(spec, message, "Manually triggered")
        else:
            return False
        return True

    async def wait_idle(self, *, quiet_s: float = 0.5, timeout_s: float = 60.0) -> None:
        """Wait until no queue function has been running for `quiet_s` (for tests and the demo)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        quiet_since: float | None = None
        while loop.time() < deadline:
            busy = any(listener.active for listener in self.listeners.values())
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= quiet_s:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"host still busy after {timeout_s:.0f}s")

    def _apply_environment(self) -> None:
        for key, value in self.settings.items():
            if os.environ.get(key) != value:
                self._saved_env.setdefault(key, os.environ.get(key))
                os.environ[key] = value

    def _restore_environment(self) -> None:
        for key, old in self._saved_env.items():
            if old is None:
                with contextlib.suppress(KeyError):
                    del os.environ[key]
            else:
                os.environ[key] = old
        self._saved_env.clear()
