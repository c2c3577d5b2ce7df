"""The benchmark stack: the demo's local stack, with the host split into processes whose CPU and memory we measure.

- Azurite and the AC emulator as child processes (as in the demo);
- a "planner" host process (python -m local.host): HTTP API, timer, the run's planning and every bucket's
  planning (plan_tasks), and the run and plan poison handlers;
- a "workers" host process: the shard worker (and its poison handler);
- a "finaliser" host process: the per-bucket state commits and the run's end (and its poison handler).
The same function_app, host.json and code paths as production; only the settings differ (limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp
import psutil

from local.activecampaign_emulator import EmulatorProcess
from local.api_client import LocalApi
from local.azurite import REPO_ROOT, Azurite, azurite, free_port, wait_for_port
from local.host import index_app
from local.sample_data import Sample, write_snapshot

SNAPSHOT_ROOT: Final = "CustomerInsights_bench/segments"
WORKER_FUNCTIONS: Final = ("shard_worker", "shard_poison")
FINALISER_FUNCTIONS: Final = ("finalizer", "finalize_poison")


def _function_names() -> list[str]:
    import function_app

    return [spec.name for spec in index_app(function_app.app)]


@dataclass
class ProcessStats:
    name: str
    pid: int
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0

    def sample(self) -> None:
        try:
            proc = psutil.Process(self.pid)
            times = proc.cpu_times()
            self.cpu_s = times.user + times.system + times.children_user + times.children_system
            self.peak_rss_mb = max(self.peak_rss_mb, _vm_hwm_mb(self.pid))
        except (psutil.NoSuchProcess, FileNotFoundError):
            pass


def _vm_hwm_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class BenchStack:
    settings: dict[str, str]
    emulator_args: list[str]
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    azurite: Azurite | None = None
    emulator: EmulatorProcess | None = None
    hosts: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api_port: int = 0
    http: aiohttp.ClientSession | None = None

    @property
    def api(self) -> LocalApi:
        assert self.http is not None
        return LocalApi(self.http, f"http://127.0.0.1:{self.api_port}/api")

    async def start(self) -> BenchStack:
        # on disk: 10M profiles of blobs held in Azurite's heap slowed it down and then stopped it answering
        self.azurite = azurite(location=self.tmp / "azurite", log_path=self.tmp / "azurite.log").start()
        self.emulator = EmulatorProcess(self.emulator_args).start()
        hostname = self.emulator.url.removeprefix("http://")
        values = {
            "AzureWebJobsStorage": self.azurite.connection_string,
            "SNAPSHOT_CONTAINER": "customerinsights",
            "SNAPSHOT_ROOT": SNAPSHOT_ROOT,
            "LOCAL_TRUST_PRINCIPAL_HEADER": "true",
            "AC_ALLOWED_LOCAL_HOSTS": hostname,
            "LOCAL_SECRETS": "true",
            "LOCAL_SECRETS_FILE": str(self.tmp / "secrets.json"),
            "REFRESH_SCHEDULE": "0 0 0 1 1 *",
            **self.settings,
        }
        settings_file = self.tmp / "local.settings.json"
        settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
        self.api_port = free_port()
        everything = _function_names()
        planner = [n for n in everything if n not in WORKER_FUNCTIONS + FINALISER_FUNCTIONS]
        self.hosts["planner"] = self._host(settings_file, "planner", planner, http=True)
        self.hosts["workers"] = self._host(settings_file, "workers", list(WORKER_FUNCTIONS), http=False)
        self.hosts["finaliser"] = self._host(settings_file, "finaliser", list(FINALISER_FUNCTIONS), http=False)
        wait_for_port(self.api_port, 30, self.hosts["planner"])
        self.http = aiohttp.ClientSession()
        return self

    def _host(self, settings: Path, role: str, functions: list[str], *, http: bool) -> subprocess.Popen[bytes]:
        args = [
            sys.executable,
            "-m",
            "local.host",
            "--settings",
            str(settings),
            "--functions",
            ",".join(functions),
            "--no-timers",
            "--log-level",
            "INFO" if http else "WARNING",
        ]
        args += ["--port", str(self.api_port)] if http else ["--no-http"]
        log = open(self.tmp / f"host-{role}.log", "ab")  # noqa: SIM115
        return subprocess.Popen(args, cwd=str(REPO_ROOT), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def processes(self) -> dict[str, ProcessStats]:
        assert self.azurite is not None and self.azurite.process is not None and self.emulator is not None
        stats = {name: ProcessStats(name, proc.pid) for name, proc in self.hosts.items()}
        stats["emulator"] = ProcessStats("emulator", self.emulator.pid)
        stats["azurite"] = ProcessStats("azurite", self.azurite.process.pid)
        return stats

    async def write_snapshot(self, sample: Sample, cache_dir: Path) -> None:
        from azure.storage.blob.aio import ContainerClient

        assert self.azurite is not None
        async with ContainerClient.from_connection_string(self.azurite.connection_string, "customerinsights") as c:
            await write_snapshot(c, sample, root=SNAPSHOT_ROOT, cache_dir=cache_dir)

    async def inspect(self, route: str) -> Any:
        assert self.http is not None and self.emulator is not None
        async with self.http.get(f"{self.emulator.url}/_emulator/{route.lstrip('/')}") as response:
            response.raise_for_status()
            return await response.json()

    async def list_members(self, list_id: int, page: int = 500_000) -> set[str]:
        """The emails subscribed to the list in the emulator (lowercased), read a page at a time."""
        found: set[str] = set()
        offset = 0
        while True:
            view = await self.inspect(f"lists/{list_id}/members?status=1&compact=1&offset={offset}&limit={page}")
            found.update(email.lower() for email in view["statuses"])
            offset += page
            if offset >= view["total"]:
                return found

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        for proc in self.hosts.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.hosts.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.emulator is not None:
            self.emulator.stop()
        if self.azurite is not None:
            self.azurite.stop()
            shutil.rmtree(self.tmp / "azurite", ignore_errors=True)  # gigabytes at 10M; the logs stay


class Monitor:
    """Samples each process's CPU and peak RSS while a run goes on."""

    def __init__(self, stats: dict[str, ProcessStats], interval: float = 0.25) -> None:
        self.stats = stats
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._start_cpu: dict[str, float] = {}

    async def __aenter__(self) -> Monitor:
        for s in self.stats.values():
            s.sample()
        self._start_cpu = {n: s.cpu_s for n, s in self.stats.items()}
        self._task = asyncio.create_task(self._loop())
        return self

    async def _loop(self) -> None:
        while True:
            for s in self.stats.values():
                s.sample()
            await asyncio.sleep(self.interval)

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for s in self.stats.values():
            s.sample()

    def cpu(self) -> dict[str, float]:
        return {n: round(s.cpu_s - self._start_cpu.get(n, 0.0), 2) for n, s in self.stats.items()}

    def peak_rss_mb(self) -> dict[str, float]:
        return {n: round(s.peak_rss_mb, 1) for n, s in self.stats.items()}


def now() -> float:
    return time.monotonic()
