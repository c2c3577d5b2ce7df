"""The stand-in host's invocation log lines: a cancelled invocation (the host stopping) is not a failure."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from local.host import index_app
from local.host.invoke import invoke
from tests.host.sample_app import Record, make_app


async def test_an_invocation_cancelled_by_the_host_is_logged_cancelled_not_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    (spec,) = [s for s in index_app(make_app("cancel", Record())) if s.name.endswith("ticker")]
    started = asyncio.Event()

    async def slow(**_: object) -> None:
        started.set()
        await asyncio.sleep(30)

    spec = dataclasses.replace(spec, user_function=slow)
    caplog.set_level(logging.INFO, logger="local.host")
    call = asyncio.create_task(invoke(spec, None, reason="test"))
    await started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    executed = [r for r in caplog.records if r.getMessage().startswith("Executed")]
    assert len(executed) == 1 and "(Cancelled," in executed[0].getMessage(), executed
    assert executed[0].levelno == logging.INFO


async def test_an_invocation_that_raises_is_logged_failed(caplog: pytest.LogCaptureFixture) -> None:
    (spec,) = [s for s in index_app(make_app("raises", Record())) if s.name.endswith("ticker")]

    async def broken(**_: object) -> None:
        raise RuntimeError("boom")

    spec = dataclasses.replace(spec, user_function=broken)
    caplog.set_level(logging.INFO, logger="local.host")
    with pytest.raises(RuntimeError):
        await invoke(spec, None, reason="test")
    assert [r.levelno for r in caplog.records if "(Failed," in r.getMessage()] == [logging.WARNING]
