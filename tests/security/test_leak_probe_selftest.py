"""The leak probe finds what it is meant to find.

- In this process: a probe of its own, attached to the session's taps, finds a planted key raw
  (a span attribute, an exception text, a zstd-compressed Arrow blob) and encoded (base64 inside a
  longer base64 text in a DEBUG log record, URL-encoded in an HTTP response header, hex in a JSON
  blob and in an exception text, base64 in a queue message as sent and in Azurite), and a planted
  sample email where PII must not go (a log record, a span event, a queue message, a run document,
  the report download's 404) but not where it belongs (the report download's 200, a shard, the
  report blob).  The planted values are not registered with the session's probe, so the real
  suite's verdict is not affected.
- In a child process started the way tests/e2e/stack.py starts the stand-in host (`child_command`),
  inheriting the session's LEAKPROBE_CHILD_DIR: a key logged raw, put hex-encoded in a span,
  URL-encoded in an ExportError and base64-encoded in an uncaught exception, and an email logged,
  are each found when the session's folder is read.
- In a child pytest session: a test that logs a key and puts it in a span attribute passes,
  yet the session fails, and its summary names the log and the span; the same session
  without the plant passes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import azure.functions as func
import pyarrow as pa
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient

from local.azurite import REPO_ROOT
from shared.errors import InvalidInput
from shared.pipeline.shards import to_ipc
from shared.tracing import tracer
from tests.leakprobe import child_command, session_probe, session_taps
from tests.security.hooks import responding_as
from tests.security.probe import CHILD_DIR_ENV, Probe, Taps, scan_storage

planted_log = logging.getLogger("shared.planted")


def test_a_planted_key_and_email_are_found_raw_and_encoded_where_they_must_not_be(
    storage_connection: str, unique: str
) -> None:
    key = f"planted/{secrets.token_hex(16)}+="  # characters that URL-encoding changes
    email = f"planted.{unique}@example-probe.com"
    probe = Probe("self-test")
    probe.register_key(key)
    probe.register_emails([f"  {email.upper()} "])
    container = ContainerClient.from_connection_string(storage_connection, unique + "-plant")
    runs = ContainerClient.from_connection_string(storage_connection, "runs")
    queue = QueueClient.from_connection_string(storage_connection, unique + "-plant")
    cookie = base64.b64encode(f"v=1;user=x;token={key};exp=0".encode()).decode()  # the key at an odd offset
    with session_taps().attached(probe), container, runs, queue:
        planted_log.debug("a careless line with cookie %s for %s", cookie, email)
        with tracer.start_as_current_span("planted", attributes={"api_key": key}) as span:
            span.add_event("contact", {"email": email})
        func.HttpResponse(b"{}", status_code=302, headers={"Location": f"https://x.test/?k={quote(key, safe='')}"})
        InvalidInput.for_field("hostname", f"refused {key.encode().hex().upper()}")
        with responding_as("run_report"):
            func.HttpResponse(f"email,outcome\n{email},invalid\n".encode(), status_code=200)  # its place
        with responding_as("run_report"):
            func.HttpResponse(json.dumps({"error": {"message": f"no report for {email}"}}), status_code=404)
        container.create_container()
        container.upload_blob("plain/inside.json", json.dumps({"k": key.encode().hex()}).encode())
        container.upload_blob("shards/00000.arrow", to_ipc(pa.table({"secret": [key]})))
        with contextlib.suppress(ResourceExistsError):
            runs.create_container()
        planted_runs = [f"{unique}/r1/run.json", f"{unique}/r1/shards/b0000-0000.arrow", f"{unique}/r1/report.csv"]
        runs.upload_blob(planted_runs[0], json.dumps({"error": f"row 1 ({email})"}).encode())
        runs.upload_blob(planted_runs[1], to_ipc(pa.table({"email": [email]})))
        runs.upload_blob(planted_runs[2], f"{email},invalid\n".encode())
        queue.create_queue()
        queue.send_message(base64.b64encode(key.encode()).decode())
        queue.send_message(json.dumps({"runId": "r1", "first": email}))
        try:
            session_taps().scan_spans(probe)
            scan_storage([probe], storage_connection, "plant")
        finally:
            container.delete_container()
            queue.delete_queue()
            for name in planted_runs:
                runs.delete_blob(name)

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
        ("email", "response"),
        ("email", "queue"),
        ("email", "blob"),
    }, probe.report()
    where: dict[tuple[str, str], set[str]] = {(h.what, h.channel): set() for h in probe.verdict()}
    for hit in probe.verdict():
        where[(hit.what, hit.channel)].add(hit.where)
    plant = f"plant:{unique}-plant"
    assert where[("key", "blob")] == {f"{plant}/plain/inside.json", f"{plant}/shards/00000.arrow"}
    # the queue hit is both the message as sent and the message found in Azurite
    assert where[("key", "queue")] == where[("email", "queue")] == {f"sent to {unique}-plant", plant}
    assert where[("key", "response")] == {"? HTTP 302"}
    # the email is a hit in the run document and the report's 404, never in a shard, the report blob or its 200
    assert where[("email", "blob")] == {f"plant:runs/{planted_runs[0]}"}
    assert where[("email", "response")] == {"run_report HTTP 404"}
    # none of it counts against the real suite
    assert key not in session_probe().all_keys()
    assert email not in session_probe().emails


def test_a_key_planted_in_a_child_process_is_found_raw_and_encoded(unique: str) -> None:
    # given the folder the session's child processes report to (inherited through the environment)
    folder = session_taps().child_dir
    assert folder is not None and os.environ[CHILD_DIR_ENV] == str(folder)
    earlier = {path: path.stat().st_size for path in folder.glob("*.jsonl")}
    key = f"child/planted+{secrets.token_hex(16)}="  # characters that URL-encoding changes
    email = f"child.{unique}@example-probe.com"

    # when careless code runs in a child started like the stand-in host, and dies of an uncaught exception
    done = subprocess.run(
        child_command("tests.security.plant_child", key, email),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "RuntimeError: could not parse the session token" in done.stderr, done.stderr

    # then reading the folder (as the session does at its end) finds the key in every form, and the email
    probe = Probe("child self-test")
    probe.register_key(key)
    probe.register_emails([email])
    reader = Taps(child_dir=folder, child_offsets=dict(earlier))
    assert reader.scan_children(probe) >= 4
    hits = {(h.what, h.channel, h.where.split(": ", 1)[1]) for h in probe.verdict()}
    assert hits == {
        ("key", "child log", "shared.planted"),  # raw
        ("key", "child span", "planted"),  # hex
        ("key", "child exception", "InvalidInput"),  # URL-encoded
        ("key", "child exception", "uncaught RuntimeError"),  # base64, inside a JSON document
        ("email", "child log", "shared.planted"),
    }, probe.report()
    assert key not in session_probe().all_keys()


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
