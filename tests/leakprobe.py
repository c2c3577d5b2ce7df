"""pytest plugin: the secret and PII leak probe, on for the whole session (tests/conftest.py enables it).

At configure time it makes the emulator's default API key recognisable, installs the taps
(tests/security/probe.py: a root log handler at DEBUG, an in-memory span exporter, and
hooks on HTTP responses, queue sends, ExportError, ActiveCampaignClient (tests/security/hooks.py),
sample snapshots and Azurite shutdown), makes the folder where child processes running the product
under tests/security/child_tap.py report (LEAKPROBE_CHILD_DIR, inherited by every child) and
attaches the session's probe.  The suite's last test
(tests/security/test_zz_leak_verdict.py, moved to the end) asserts 0 hits; a hit found
after it (an Azurite stopped at session teardown) still fails the session, with the
hits listed in the terminal summary.  `session_probe()` and `session_taps()` give tests
access (the self-tests attach a probe of their own).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.security.hooks import install_product_hooks, wrap
from tests.security.probe import CHILD_DIR_ENV, LogTap, Probe, Taps, scan_storage

FINAL_MARKER: Final = "leakprobe_final"
EMULATOR_KEY: Final = f"leakprobe-ac-key-{secrets.token_hex(16)}"
_taps: Taps | None = None
_probe: Probe | None = None
_scanned_spans = 0


def session_taps() -> Taps:
    assert _taps is not None, "the leak probe is not installed (tests/conftest.py enables tests.leakprobe)"
    return _taps


def session_probe() -> Probe:
    assert _probe is not None, "the leak probe is not installed (tests/conftest.py enables tests.leakprobe)"
    return _probe


def finish_session_scan() -> Probe:
    """Search the spans finished since the last call, what child processes wrote since, and every Azurite
    still running; the session's probe."""
    global _scanned_spans
    taps, probe = session_taps(), session_probe()
    spans = taps.spans.get_finished_spans()
    probe.observe_spans(spans[_scanned_spans:])
    _scanned_spans = len(spans)
    taps.scan_children(probe)
    taps.scan_running_storage(probe)
    return probe


def child_command(module: str, *args: str) -> list[str]:
    """The command line that runs `module` in a child process with the probe's taps (tests/security/child_tap.py)."""
    return [sys.executable, "-m", "tests.security.child_tap", module, *args]


def _ledger_keys() -> Iterable[str]:
    leaks = sys.modules.get("tests.api.leaks")
    return set(leaks.LEDGER.keys) if leaks is not None else set()


def _install_spans(taps: Taps) -> None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(taps.spans))


def _install_hooks(taps: Taps, probe: Probe) -> None:
    import local.activecampaign_emulator.config as emulator_config
    import local.azurite
    import local.sample_data
    import local.sample_data.upload

    emulator_config.DEFAULT_API_KEY = probe.register_key(EMULATOR_KEY)  # every EmulatorConfig() gets it

    def sample_upload(original: Callable[..., Any]) -> Callable[..., Any]:
        async def write(container: Any, sample: Any, *args: Any, **kwargs: Any) -> Any:
            probe.register_emails(sample.table.column("Email").to_pylist())
            return await original(container, sample, *args, **kwargs)

        return write

    def azurite_start(original: Callable[..., Any]) -> Callable[..., Any]:
        def start(self: local.azurite.Azurite, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            taps.running_storage[id(self)] = lambda: self.connection_string
            return result

        return start

    def azurite_stop(original: Callable[..., None]) -> Callable[..., None]:
        def stop(self: local.azurite.Azurite, *args: Any, **kwargs: Any) -> None:
            running = self.process is not None and self.process.poll() is None
            if taps.running_storage.pop(id(self), None) is not None and running:
                scan_storage(taps.probes, self.connection_string, f"azurite:{self.blob_port}")
            original(self, *args, **kwargs)

        return stop

    install_product_hooks(taps)
    wrap(local.sample_data.upload, "write_snapshot", sample_upload)
    local.sample_data.write_snapshot = local.sample_data.upload.write_snapshot  # the package re-exports it
    wrap(local.azurite.Azurite, "start", azurite_start)
    wrap(local.azurite.Azurite, "stop", azurite_stop)


def pytest_configure(config: pytest.Config) -> None:
    global _taps, _probe
    config.addinivalue_line("markers", f"{FINAL_MARKER}: the leak probe's verdict; runs after every other test")
    if _taps is not None:
        return
    _taps, _probe = Taps(), Probe("session", key_sources=[_ledger_keys])
    _taps.probes.append(_probe)
    # child processes (xdist workers make their own) report here; the variable is inherited by every child
    _taps.child_dir = Path(tempfile.mkdtemp(prefix="leakprobe-children-"))
    os.environ[CHILD_DIR_ENV] = str(_taps.child_dir)
    root = logging.getLogger()
    root.addHandler(LogTap(_taps))
    root.setLevel(logging.DEBUG)
    _install_spans(_taps)
    _install_hooks(_taps, _probe)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker(FINAL_MARKER)]
    items[:] = [item for item in items if not item.get_closest_marker(FINAL_MARKER)] + last


# Under pytest-xdist every worker runs its own probe.  Each writes its verdict to a folder the controller
# made (LEAKPROBE_VERDICTS, inherited by the workers), and the controller fails the session on any hit, so
# a leak in a worker that did not run the verdict test still fails the run.
VERDICTS_ENV: Final = "LEAKPROBE_VERDICTS"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_worker(session.config) and session.config.pluginmanager.hasplugin("xdist"):
        os.environ.setdefault(VERDICTS_ENV, tempfile.mkdtemp(prefix="leakprobe-"))


def _worker_reports() -> list[str]:
    folder = os.environ.get(VERDICTS_ENV)
    if not folder or not Path(folder).is_dir():
        return []
    return [p.read_text() for p in sorted(Path(folder).glob("*.txt")) if p.read_text().strip()]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _probe is None:
        return
    probe = finish_session_scan()
    if _is_worker(session.config):
        folder = os.environ.get(VERDICTS_ENV)
        if folder:
            worker = session.config.workerinput["workerid"]  # type: ignore[attr-defined]
            Path(folder, f"{worker}.txt").write_text(probe.report() if probe.verdict() else "")
    failed = bool(probe.verdict()) or bool(_worker_reports())
    if failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    if _taps is not None and _taps.child_dir is not None and os.environ.get(CHILD_DIR_ENV) == str(_taps.child_dir):
        shutil.rmtree(_taps.child_dir, ignore_errors=True)  # read by now (sessionfinish, terminal summary)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _probe is None:
        return
    probe = finish_session_scan()
    reports = ([probe.report()] if probe.verdict() else []) + _worker_reports()
    if reports:
        terminalreporter.section("leak probe", red=True)
        for report in reports:
            terminalreporter.line(report)


__all__ = ["EMULATOR_KEY", "FINAL_MARKER", "child_command", "finish_session_scan", "session_probe", "session_taps"]
