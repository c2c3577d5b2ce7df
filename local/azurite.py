"""Start and stop Azurite (the npm storage emulator) for tests, `make up`, the demo and benchmarks.

Azurite 3.35.0 is pinned in package.json (the newest that runs on Node 20).  It is
started with `--skipApiVersionCheck` (the SDKs send a newer x-ms-version than it
knows) and `--disableTelemetry` (it would try to reach the internet), on loopback,
in memory unless a location is given, and stopped by PID.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
AZURITE_BIN: Final = REPO_ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT: Final = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft; not a secret).
ACCOUNT_KEY: Final = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: the sockets stay bound until all are chosen, so none is handed out twice."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with code {proc.returncode} before port {port} opened")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing accepted connections on 127.0.0.1:{port} within {timeout_s:.0f}s")


def server_header(port: int) -> str:
    """The Server header of what answers HTTP on 127.0.0.1:port ("" when it does not answer HTTP)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", f"/{ACCOUNT}?comp=list")
        response = connection.getresponse()
        response.read()
        return response.getheader("Server") or ""
    except (OSError, http.client.HTTPException):
        return ""
    finally:
        connection.close()


@dataclass
class Azurite:
    """A running Azurite.  Use as a context manager, or call stop()."""

    blob_port: int
    queue_port: int
    table_port: int
    location: Path | None = None
    log_path: Path | None = None
    pick_ports: bool = False  # the ports were picked free: another process may take one first, then retry
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.blob_port}/{ACCOUNT};"
            f"QueueEndpoint=http://127.0.0.1:{self.queue_port}/{ACCOUNT};"
        )

    def start(self, timeout_s: float = 30.0) -> Azurite:
        attempts = 3 if self.pick_ports else 1
        for attempt in range(attempts):
            try:
                return self._start(timeout_s)
            except RuntimeError:  # it exited at once: a port was taken between choosing and binding
                if attempt == attempts - 1:
                    raise
                self.blob_port, self.queue_port, self.table_port = free_ports(3)
        raise AssertionError("unreachable")  # pragma: no cover

    def _start(self, timeout_s: float) -> Azurite:
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} is missing: run `npm ci` (make deps does it)")
        args = [
            str(AZURITE_BIN),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
            "--blobHost",
            "127.0.0.1",
            "--queueHost",
            "127.0.0.1",
            "--tableHost",
            "127.0.0.1",
            "--blobPort",
            str(self.blob_port),
            "--queuePort",
            str(self.queue_port),
            "--tablePort",
            str(self.table_port),
        ]
        if self.location is None:
            args.append("--inMemoryPersistence")
        else:
            self.location.mkdir(parents=True, exist_ok=True)
            args += ["--location", str(self.location)]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(  # the pinned npm binary, no shell
            args, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT), start_new_session=True
        )
        try:
            services = {
                self.blob_port: "Azurite-Blob",
                self.queue_port: "Azurite-Queue",
                self.table_port: "Azurite-Table",
            }
            for port in services:
                wait_for_port(port, timeout_s, self.process)
            for port, service in services.items():
                answered_by = server_header(port)
                if not answered_by.startswith(service):
                    # a port picked free was taken by another process before Azurite bound it: that one answered
                    raise RuntimeError(f"127.0.0.1:{port} answers as {answered_by or 'something else'}, not {service}")
            if self.process.poll() is not None:  # it lost a port to another Azurite, which answered for it
                raise RuntimeError(f"Azurite exited with code {self.process.returncode} after its ports opened")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout_s)

    def kill(self) -> None:
        """SIGKILL, like a storage node that dies: no shutdown, connections reset, the ports close.  Azurite on
        disk saves its metadata every 5 s (LokiJS autosave), so the writes of its last seconds may be lost too."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10.0)

    def revive(self) -> None:
        """Start again on the same ports after kill() (data survives only with a location)."""
        if self.process is None or self.process.poll() is not None:
            self._start(30.0)

    def restart(self) -> None:
        """Stop and start again on the same ports (data survives only with a location)."""
        self.stop()
        self._start(30.0)

    def __enter__(self) -> Azurite:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def azurite(
    *, blob_port: int = 0, queue_port: int = 0, location: Path | None = None, log_path: Path | None = None
) -> Azurite:
    """An Azurite description on the given ports (0 = a free one).  Call .start() or use `with`."""
    blob, queue, table = free_ports(3)
    return Azurite(
        blob_port=blob_port or blob,
        queue_port=queue_port or queue,
        table_port=table,
        location=location,
        log_path=log_path,
        pick_ports=not (blob_port or queue_port),
    )


__all__ = ["ACCOUNT", "ACCOUNT_KEY", "Azurite", "azurite", "free_port", "free_ports", "wait_for_port"]
