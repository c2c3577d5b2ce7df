"""The leak probe's verdict: no API key and no sample email leaked anywhere, in the whole session.

tests.leakprobe moves this test after every other one, so it judges everything the suite
did: logs, spans, HTTP responses, queue messages, exception texts, what the product in
child processes wrote to the probe's folder, and every blob and message of every Azurite
(the ones already stopped were searched when they stopped; the ones still running are
searched now).  Hits found after this test (an Azurite stopped at
session teardown) still fail the session; see tests/leakprobe.py.
"""

from __future__ import annotations

import logging
import os

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import local.activecampaign_emulator.config as emulator_config
from tests.leakprobe import EMULATOR_KEY, finish_session_scan, session_taps
from tests.security.probe import CHILD_DIR_ENV, LogTap


@pytest.mark.leakprobe_final
def test_no_api_key_or_sample_email_appears_anywhere_the_suite_could_read_it() -> None:
    # the probe was watching: its handler is on the root logger at DEBUG, its exporter on the tracer provider,
    # and the emulator's default key is the recognisable one it looks for
    root = logging.getLogger()
    assert root.level == logging.DEBUG and any(isinstance(h, LogTap) for h in root.handlers)
    assert isinstance(trace.get_tracer_provider(), TracerProvider)
    assert emulator_config.DEFAULT_API_KEY == EMULATOR_KEY
    assert session_taps().probes, "no probe attached"
    # and child processes inherit the folder they report to
    assert session_taps().child_dir is not None and os.environ[CHILD_DIR_ENV] == str(session_taps().child_dir)

    probe = finish_session_scan()

    assert EMULATOR_KEY in probe.all_keys()
    assert probe.verdict() == [], probe.report()
