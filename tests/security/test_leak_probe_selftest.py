"""The leak probe finds what it is meant to find.

- In this process: a probe of its own, attached to the session's taps, finds a planted key in
  a DEBUG log record, a span attribute, a span event, an HTTP response, a queue message, an
  exception text, a blob (zstd-compressed Arrow too) and a queue in Azurite, and a planted
  sample email in a log record and a span.  The planted values are not registered with the
  session's probe, so the real suite's verdict is not affected.
- In a child pytest session: a test that logs a key and puts it in a span attribute passes,
  yet the session fails, and its summary names the log and the span; the same session
  without the plant passes.
"""

from __future__ import annotations

import base64
import logging
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import azure.functions as func
import pyarrow as pa
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient

from local.azurite import REPO_ROOT
from shared.errors import InvalidInput
from shared.pipeline.shards import to_ipc
from shared.tracing import tracer
from tests.leakprobe import session_probe, session_taps
from tests.security.probe import Probe, scan_storage

planted_log = logging.getLogger("shared.planted")


def test_a_planted_key_and_email_are_found_in_every_channel(storage_connection: str, unique: str) -> None:
    key = f"planted-{secrets.token_hex(16)}"
    email = f"planted.{unique}@example-probe.com"
    probe = Probe("self-test")
    probe.register_key(key)
    probe.register_emails([f"  {email.upper()} "])
    container = ContainerClient.from_connection_string(storage_connection, unique + "-plant")
    queue = QueueClient.from_connection_string(storage_connection, unique + "-plant")
    with session_taps().attached(probe), container, queue:
        planted_log.debug("a careless line with %s for %s", key, email)
        with tracer.start_as_current_span("planted", attributes={"api_key": key}) as span:
            span.add_event("contact", {"email": email})
        func.HttpResponse(b"{}", status_code=200, headers={"X-Debug": key})
        InvalidInput.for_field("hostname", f"refused {key}")
        container.create_container()
        container.upload_blob("plain/inside.json", f'{{"k": "{key}"}}'.encode())
        container.upload_blob("shards/00000.arrow", to_ipc(pa.table({"secret": [key]})))
        queue.create_queue()
        queue.send_message(base64.b64encode(key.encode()).decode())
        try:
            session_taps().scan_spans(probe)
            scan_storage([probe], storage_connection, "plant")
        finally:
            container.delete_container()
            queue.delete_queue()

    found = {(h.what, h.channel) for h in probe.verdict()}
    assert found == {
        ("key", "log"),
        ("key", "span"),
        ("key", "response"),
        ("key", "exception"),
        ("key", "queue"),
        ("key", "blob"),
        ("email", "log"),
        ("email", "span"),
    }, probe.report()
    blobs = {h.where for h in probe.verdict() if h.channel == "blob"}
    assert blobs == {f"plant:{unique}-plant/plain/inside.json", f"plant:{unique}-plant/shards/00000.arrow"}
    # the queue hit is both the message as sent and the message found in Azurite
    assert {h.where for h in probe.verdict() if h.channel == "queue"} == {
        f"sent to {unique}-plant",
        f"plant:{unique}-plant",
    }
    # none of it counts against the real suite
    assert key not in session_probe().all_keys()
    assert email not in session_probe().emails


def test_a_probe_that_was_not_told_about_a_value_finds_nothing(unique: str) -> None:
    probe = Probe("control")
    probe.register_key("short")  # below KEY_MIN_LENGTH: never tracked
    with session_taps().attached(probe):
        planted_log.warning("an ordinary line about export %s", unique)

    assert probe.verdict() == [] and probe.seen.get("log") == 1
    assert probe.all_keys() == set()


INNER_TEST = """
import logging

from opentelemetry import trace

from tests.leakprobe import session_probe


def test_careless() -> None:
    key = session_probe().register_key("inner-planted-key-{token}")
    if {plant}:
        logging.getLogger("shared.careless").debug("calling ActiveCampaign with %s", key)
        with trace.get_tracer("shared").start_as_current_span("careless", attributes={{"key": key}}):
            pass
"""


def run_inner_session(tmp_path: Path, *, plant: bool) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent(INNER_TEST.format(token=secrets.token_hex(8), plant=plant)))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    args = [sys.executable, "-m", "pytest", "-p", "tests.leakprobe", "-p", "no:cacheprovider", "-q"]
    args += ["-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), str(test_file)]
    return subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_a_session_whose_test_logs_a_key_fails_even_though_the_test_passed(tmp_path: Path) -> None:
    planted = run_inner_session(tmp_path, plant=True)
    clean = run_inner_session(tmp_path, plant=False)

    assert "1 passed" in planted.stdout, planted.stdout + planted.stderr
    assert planted.returncode == 1, planted.stdout
    assert "leak probe 'session': 2 hit(s)" in planted.stdout
    assert "key in log: shared.careless" in planted.stdout and "key in span: careless" in planted.stdout
    assert (clean.returncode, "1 passed" in clean.stdout, "leak probe" in clean.stdout) == (0, True, False), (
        clean.stdout + clean.stderr
    )
