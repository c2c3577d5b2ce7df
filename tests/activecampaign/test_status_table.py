"""Every row of the status table, through the real client against a scripted loopback server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.activecampaign import (
    AcAuthError,
    AcBatchInvalid,
    AcNotFound,
    AcRequestRejected,
    ActiveCampaignClient,
    AcTransientError,
)
from shared.activecampaign.errors import STATUS_TABLE, Action, classify
from shared.errors import FatalError, RetriableError
from tests.activecampaign.conftest import TEST_KEY, SleepRecorder
from tests.fakes.scripted_server import Reply, scripted_server

OK_BATCH = Reply(200, {"Success": 1, "queued_contacts": 2, "batchId": "b-1", "message": "Contact import queued"})
RATE_400 = Reply(
    400,
    {
        "success": 0,
        "message": "Rate limit exceeded.",
        "failureReasons": ["Up to 100 imports may be requested per minute.Please batch contacts into larger requests."],
    },
)
INVALID_400 = Reply(
    400,
    {
        "success": 0,
        "message": "JSON payload did not pass validation.",
        "failureReasons": [{"contact": 1, "failureReason": "Field‘ email’ incorrect format"}],
    },
)

# (name, first reply, expected outcome): "ok" = the bulk import succeeds on the first try;
# "retried" = it is retried and then succeeds; an exception class = it raises that, without retrying.
CASES = [
    ("200", OK_BATCH, "ok"),
    ("400 validation", INVALID_400, AcBatchInvalid),
    ("400 rate limit", RATE_400, "retried"),
    ("401", Reply(401, {"message": "Unauthorized"}), AcAuthError),
    ("402", Reply(402, {"message": "payment"}), AcAuthError),
    ("403", Reply(403, raw=b""), AcAuthError),
    ("404", Reply(404, {"message": "No Result found"}), AcTransientError),  # bulk: 404 gives no batchId
    ("422", Reply(422, {"errors": [{"title": "invalid", "code": "invalid"}]}), AcRequestRejected),
    ("429", Reply(429, {}, {"Retry-After": "0"}), "retried"),
    ("500", Reply(500), "retried"),
    ("502", Reply(502), "retried"),
    ("503", Reply(503), "retried"),
    ("504", Reply(504), "retried"),
    ("timeout", Reply(200, delay_s=2.0), "retried"),
    ("connection reset", Reply(reset=True), "retried"),
]


@pytest.mark.parametrize(("name", "first", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_bulk_import_status_table(
    name: str, first: Reply, expected: object, make_client: Callable[..., ActiveCampaignClient]
) -> None:
    sleep = SleepRecorder()
    async with scripted_server([first], default=OK_BATCH) as server:
        client = make_client(server.url, sleep=sleep)
        if isinstance(expected, type):
            with pytest.raises(expected) as caught:
                await client.bulk_import(b'{"contacts":[]}', 2)
            assert TEST_KEY not in str(caught.value)
            if issubclass(expected, FatalError):
                assert len(server.seen) == 1  # fatal: stopped at once, no hammering
                assert "acct.api-us1.com" in str(caught.value)
        else:
            batch_id = await client.bulk_import(b'{"contacts":[]}', 2)
            assert batch_id == "b-1"
            assert len(server.seen) == (1 if expected == "ok" else 2)
            assert client.stats.retries == (0 if expected == "ok" else 1)
    # the key travels only in the Api-Token header
    assert all(headers.get("Api-Token") == TEST_KEY for _, _, headers in server.seen)
    assert all(TEST_KEY not in path for _, path, _ in server.seen)


def test_every_table_row_maps_to_an_action() -> None:
    assert classify(200, None) is Action.OK
    assert classify(400, {"message": "Rate limit exceeded."}) is Action.RATE_LIMITED
    assert classify(400, {"failureReasons": [{"contact": 0, "failureReason": "x"}]}) is Action.SPLIT
    assert classify(400, {}) is Action.REJECTED
    for status in (401, 402, 403):
        assert STATUS_TABLE[status] is Action.FATAL
    for status in (500, 502, 503, 504):
        assert classify(status, None) is Action.RETRY
    assert classify(599, None) is Action.RETRY
    assert classify(418, None) is Action.REJECTED
    assert classify(429, None) is Action.RATE_LIMITED


async def test_retries_run_out_into_a_retriable_error(make_client: Callable[..., ActiveCampaignClient]) -> None:
    sleep = SleepRecorder()
    async with scripted_server([], default=Reply(503)) as server:
        client = make_client(server.url, sleep=sleep)
        with pytest.raises(RetriableError):
            await client.get_list(1)
    assert len(server.seen) == 8  # AC_MAX_ATTEMPTS default
    assert len(sleep.delays) == 7


async def test_retry_after_is_honoured_and_clamped(make_client: Callable[..., ActiveCampaignClient]) -> None:
    sleep = SleepRecorder()
    script = [Reply(503, headers={"Retry-After": "7"}), Reply(503, headers={"Retry-After": "100000"})]
    async with scripted_server(script, default=Reply(200, {"list": {"id": "1", "name": "L"}})) as server:
        client = make_client(server.url, sleep=sleep)
        found = await client.get_list(1)
    assert found.name == "L"
    assert sleep.delays == [7.0, 120.0]  # the second Retry-After is clamped to AC_MAX_RETRY_AFTER_SECONDS


async def test_redirects_are_not_followed(make_client: Callable[..., ActiveCampaignClient]) -> None:
    async with scripted_server([Reply(302, headers={"Location": "http://169.254.169.254/"})]) as server:
        client = make_client(server.url)
        with pytest.raises(AcRequestRejected, match="redirect"):
            await client.verify_credentials()
    assert len(server.seen) == 1


async def test_unknown_list_is_not_found(make_client: Callable[..., ActiveCampaignClient]) -> None:
    async with scripted_server([Reply(404, {"message": "No Result found for _List with id 7"})]) as server:
        client = make_client(server.url)
        with pytest.raises(AcNotFound, match="list 7 does not exist"):
            await client.get_list(7)


async def test_fields_are_paginated(make_client: Callable[..., ActiveCampaignClient]) -> None:
    page1 = {"fields": [{"id": str(i), "title": f"F{i}", "type": "text"} for i in range(100)], "meta": {"total": "130"}}
    page2 = {
        "fields": [{"id": str(i), "title": f"F{i}", "type": "text"} for i in range(100, 130)],
        "meta": {"total": "130"},
    }
    async with scripted_server([Reply(200, page1), Reply(200, page2)]) as server:
        client = make_client(server.url)
        fields = await client.fields()
    assert [f.title for f in fields] == [f"F{i}" for i in range(130)]
    assert "limit=100" in server.seen[0][1]
    assert "offset=100" in server.seen[1][1]
