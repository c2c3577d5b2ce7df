"""Run a module in this (child) process with the leak probe's taps installed, reporting to a file.

    python -m tests.security.child_tap MODULE [ARGS...]

With LEAKPROBE_CHILD_DIR set (tests/leakprobe.py sets it for the session, and child processes inherit
it), every log record (DEBUG and up, whatever level the module configures for its console), every
finished span, HTTP response, queue message sent, ExportError text, uncaught exception (main thread,
other threads, the asyncio loop's unhandled ones through its logger) and every key an
ActiveCampaignClient is built with is appended to `<dir>/<pid>.jsonl`, one JSON line per record
written with a single append (a SIGKILL loses nothing already written).  The session's probe reads
these files at its end (tests/security/probe.py, `Taps.scan_children`).  Without the variable the
module just runs.
"""

from __future__ import annotations

import json
import logging
import os
import runpy
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from tests.security.probe import CHILD_DIR_ENV, LogTap, Sink


class FileSink(Sink):
    """Observations as JSON lines: {"c": channel, "w": where, "t": text, "ok": emails allowed} or {"key": k}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()

    def _write(self, record: dict[str, object]) -> None:
        line = json.dumps(record).encode("ascii") + b"\n"
        with self._lock:
            os.write(self._fd, line)

    def observe(self, channel: str, where: str, data: str | bytes, *, emails_allowed: bool = False) -> None:
        text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
        self._write({"c": channel, "w": where, "t": text, "ok": emails_allowed})

    def register_key(self, key: str) -> None:
        self._write({"key": key})


def _exception_text(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> str:
    return "".join(traceback.format_exception(kind, value, tb))


def install(sink: FileSink) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    import local.host.logs
    from tests.security.hooks import SinkSpanProcessor, install_product_hooks

    tap = LogTap(sink)
    root = logging.getLogger()
    root.addHandler(tap)
    root.setLevel(logging.DEBUG)
    configure = local.host.logs.configure

    def configure_and_keep_tapping(level: str) -> None:
        """The host's console at its level; the tap keeps every record at DEBUG (basicConfig(force) drops it)."""
        configure(level)
        for handler in root.handlers:
            handler.setLevel(level.upper())
        root.addHandler(tap)
        root.setLevel(logging.DEBUG)

    local.host.logs.configure = configure_and_keep_tapping
    provider = TracerProvider()
    provider.add_span_processor(SinkSpanProcessor(sink))
    trace.set_tracer_provider(provider)
    install_product_hooks(sink)

    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        sink.observe("exception", f"uncaught {kind.__name__}", _exception_text(kind, value, tb))
        previous_hook(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            text = _exception_text(args.exc_type, args.exc_value, args.exc_traceback)
            sink.observe("exception", f"uncaught in thread {getattr(args.thread, 'name', '?')}", text)

    sys.excepthook = excepthook
    threading.excepthook = thread_hook


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m tests.security.child_tap MODULE [ARGS...]")
    folder = os.environ.get(CHILD_DIR_ENV)
    if folder and Path(folder).is_dir():
        install(FileSink(Path(folder, f"{os.getpid()}.jsonl")))
    sys.argv = list(argv)
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
