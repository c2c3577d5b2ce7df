"""EmulatorProcess: the emulator as a separate process (as `make demo` and benchmarks run it).

with EmulatorProcess(["--rate-scale", "60"]) as emu:
    emu.url, emu.api_keys, emu.pid
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


class EmulatorProcess:
    def __init__(self, args: list[str] | None = None, *, port: int = 0, startup_timeout_s: float = 20.0) -> None:
        self.args = list(args or [])
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.api_keys: list[str] = []
        self.pid = 0

    def start(self) -> EmulatorProcess:
        with tempfile.TemporaryDirectory() as tmp:
            ready = Path(tmp) / "ready.json"
            cmd = [sys.executable, "-m", "local.activecampaign_emulator", "--port", str(self.port)]
            cmd += ["--ready-file", str(ready), *self.args]
            self.process = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + self.startup_timeout_s
            while not (ready.exists() and ready.stat().st_size > 0):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the emulator exited with code {self.process.returncode} at start")
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"the emulator did not start within {self.startup_timeout_s:.0f}s")
                time.sleep(0.05)
            info = orjson.loads(ready.read_bytes())
        self.url, self.api_keys, self.pid = info["url"], info["api_keys"], info["pid"]
        return self

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
