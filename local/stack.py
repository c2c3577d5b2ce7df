"""The local stack behind `make up`, `make demo` and `make bench`: Azurite, the AC emulator and the stand-in host.

Azurite and the emulator run as child processes; the host runs function_app in this
process (or, for benchmarks, in child processes of its own).  Everything listens on
127.0.0.1.  A real ActiveCampaign account can replace the emulator (no emulator is
started when `ac_hostname` is given).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

from local.activecampaign_emulator import EmulatorProcess
from local.api_client import LocalApi
from local.azurite import REPO_ROOT, Azurite, azurite
from local.host import HostConfig, StandInHost, load_app_settings

HOST_JSON: Final = REPO_ROOT / "host.json"
SAMPLE_SETTINGS: Final = REPO_ROOT / "local.settings.sample.json"


def scaled_limits(rate_scale: float) -> dict[str, str]:
    """The client's budget for an emulator whose limits are multiplied by `rate_scale`."""
    return {
        "AC_RATE_PER_SECOND": f"{5 * rate_scale:g}",
        "AC_BULK_PER_MINUTE": f"{100 * rate_scale:g}",
        "AC_BULK_SINGLE_PER_MINUTE": f"{20 * rate_scale:g}",
    }


def allowed_hosts(existing: str, *more: str) -> str:
    """AC_ALLOWED_LOCAL_HOSTS with `more` added: entries kept in order, each once."""
    entries = [h.strip() for h in existing.split(",") if h.strip()]
    return ",".join(dict.fromkeys([*entries, *more]))


@dataclass
class StackOptions:
    azurite_blob_port: int = 0  # 0 = a free port
    azurite_queue_port: int = 0
    azurite_location: Path | None = None  # None = in memory
    emulator_port: int = 0
    emulator_key: str = "local-dev-key"
    emulator_args: list[str] = field(default_factory=list)
    http_port: int = 0
    settings: dict[str, str] = field(default_factory=dict)  # on top of local.settings.sample.json
    enable_timers: bool = True
    host_functions: list[str] | None = None
    ac_hostname: str | None = None  # a real ActiveCampaign account instead of the emulator
    ac_api_key: str | None = None
    log_dir: Path | None = None


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.azurite: Azurite | None = None
        self.emulator: EmulatorProcess | None = None
        self.host: StandInHost | None = None
        self.settings: dict[str, str] = {}
        self._http: aiohttp.ClientSession | None = None

    @property
    def ac_hostname(self) -> str:
        if self.options.ac_hostname:
            return self.options.ac_hostname
        assert self.emulator is not None
        return self.emulator.url.removeprefix("http://")

    @property
    def ac_api_key(self) -> str:
        if self.options.ac_api_key:
            return self.options.ac_api_key
        assert self.emulator is not None
        return self.emulator.api_keys[0]

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None, "the stack is not started"
        return self._http

    @property
    def api(self) -> LocalApi:
        assert self.host is not None and self.host.http_url is not None
        return LocalApi(self.http, f"{self.host.http_url}/api")

    @property
    def console_url(self) -> str:
        """The web console, served by function_app at /api/console/ (built by `make console`)."""
        assert self.host is not None and self.host.http_url is not None
        return f"{self.host.http_url}/api/console/"

    async def start(self) -> LocalStack:
        opts = self.options
        log = (opts.log_dir / "azurite.log") if opts.log_dir else None
        self.azurite = azurite(
            blob_port=opts.azurite_blob_port,
            queue_port=opts.azurite_queue_port,
            location=opts.azurite_location,
            log_path=log,
        ).start()
        if opts.ac_hostname is None:
            args = ["--api-key", opts.emulator_key, *opts.emulator_args]
            self.emulator = EmulatorProcess(args, port=opts.emulator_port).start()
        self.settings = self.app_settings()
        self._http = aiohttp.ClientSession()
        self.host = StandInHost(
            _function_app(),
            self.settings,
            HostConfig.load(HOST_JSON),
            functions=opts.host_functions,
            http_port=opts.http_port,
            enable_timers=opts.enable_timers,
        )
        await self.host.start()
        return self

    def app_settings(self) -> dict[str, str]:
        assert self.azurite is not None
        values = load_app_settings(SAMPLE_SETTINGS, environ={})
        values["AzureWebJobsStorage"] = self.azurite.connection_string
        values.pop("AC_ALLOWED_LOCAL_HOSTS", None)
        values.update(self.options.settings)
        if self.emulator is not None:  # our emulator, next to any others the caller allowed (more AC accounts)
            values["AC_ALLOWED_LOCAL_HOSTS"] = allowed_hosts(values.get("AC_ALLOWED_LOCAL_HOSTS", ""), self.ac_hostname)
        return values

    async def inspect(self, route: str) -> Any:
        """The emulator's /_emulator/ inspection routes."""
        assert self.emulator is not None, "inspection needs the emulator"
        async with self.http.get(f"{self.emulator.url}/_emulator/{route.lstrip('/')}") as response:
            response.raise_for_status()
            return await response.json()

    async def stop(self) -> None:
        if self.host is not None:
            with contextlib.suppress(Exception):
                await self.host.stop()
        from shared.services import close_services

        with contextlib.suppress(Exception):
            await close_services()
        if self._http is not None:
            await self._http.close()
        if self.emulator is not None:
            self.emulator.stop()
        if self.azurite is not None:
            self.azurite.stop()

    async def __aenter__(self) -> LocalStack:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _function_app() -> Any:
    import function_app  # the product, imported once the settings are known

    return function_app.app


__all__ = ["LocalStack", "StackOptions", "allowed_hosts", "scaled_limits"]
