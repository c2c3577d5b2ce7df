"""The API holds its contract: schemathesis (pinned) fuzzes every operation of the live stand-in host from
GET /api/openapi.json, with all its checks (tests/contract/schemathesis.toml explains the two it tunes):
no 500s, only declared statuses and bodies, schema-invalid input refused, schema-valid input accepted."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from local.api_client import ADMIN
from local.sample_data import SampleOptions
from tests.e2e.stack import Stack

CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")


@pytest.fixture
def stack_options() -> dict[str, str]:
    # a request a fuzzer sends to a made-up host must fail fast, not wait for a timeout
    return {"AC_TIMEOUT_SECONDS": "2", "AC_MAX_ATTEMPTS": "1"}


async def test_schemathesis_finds_nothing(stack: Stack, tmp_path: Path) -> None:
    # data for the operations to reach their core: a connection, an export, a finished run with a report
    await stack.connect()
    await stack.create_export("seeded")
    await stack.write_sample(SampleOptions(profiles=40, seed=3, partitions=1))
    assert (await stack.run("seeded"))["status"] == "Succeeded"
    assert stack.host.http_url is not None
    process = await asyncio.create_subprocess_exec(
        str(ST),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{stack.host.http_url}/api/openapi.json",
        "--header",
        f"X-MS-CLIENT-PRINCIPAL: {ADMIN}",
        *(["--max-time", os.environ["SCHEMATHESIS_MAX_TIME"]] if os.environ.get("SCHEMATHESIS_MAX_TIME") else []),
        "--report-dir",
        str(tmp_path),
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    (tmp_path / "schemathesis.log").write_text(text)
    assert process.returncode == 0, text[-30000:]
    assert "No issues found" in text or " passed" in text, text[-5000:]
