"""The production client against the AC emulator (limits scaled x20 for test speed, the client's budget matched)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from local.activecampaign_emulator import EmulatorConfig, EmulatorServer
from shared.activecampaign import (
    AcAuthError,
    ActiveCampaignClient,
    BudgetRegistry,
    ContactFields,
    contact_payload,
    deliver,
)
from shared.config import AcLimits, Secret

SCALE = 20.0
LIMITS = AcLimits(
    requests_per_second=5 * SCALE,
    bulk_per_minute=100 * SCALE,
    bulk_single_per_minute=20 * SCALE,
    poll_interval_s=0.05,
    timeout_s=5.0,
)


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    config = EmulatorConfig(rate_scale=SCALE, initial_false_s=0.0, processing_delay_s=0.0)
    async with EmulatorServer(config) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def client_for(
    emulator: EmulatorServer, session: aiohttp.ClientSession, key: str | None = None
) -> ActiveCampaignClient:
    host = emulator.url.removeprefix("http://")
    return ActiveCampaignClient(
        session,
        host=host,
        base_url=f"{emulator.url}/api/3",
        api_key=Secret(key or emulator.api_key),
        budget=BudgetRegistry(LIMITS).for_host(host),
        limits=LIMITS,
    )


def contacts(n: int, prefix: str = "c") -> tuple[list[str], list[bytes]]:
    emails = [f"{prefix}{i}@example.com" for i in range(n)]
    return emails, [contact_payload(ContactFields(e, "Ann", f"Lee{i}"), subscribe_list=1) for i, e in enumerate(emails)]


async def test_ten_thousand_contacts_arrive_exactly_once_without_a_single_429(
    emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    emails, payloads = contacts(10_000)
    outcome = await deliver(client_for(emulator, session), emails, payloads, LIMITS)
    assert len(outcome.confirmed) == 10_000 and outcome.rejected == {}
    assert set(emulator.state.list_members(1)) == set(emails)
    assert set(emulator.state.write_counts().values()) == {1}
    assert len(outcome.batch_ids) == 40  # 250 per request
    async with session.get(f"{emulator.url}/_emulator/requests") as response:
        assert (await response.json())["rate_limited"] == []


async def test_through_a_three_second_429_storm_all_arrive_and_nothing_is_sent_inside_retry_after(
    emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    emails, payloads = contacts(2_500)
    emulator.patch_config(storm_kind="429", storm_start_after_s=0.0, storm_duration_s=3.0)
    client = client_for(emulator, session)
    outcome = await deliver(client, emails, payloads, LIMITS)
    assert len(outcome.confirmed) == 2_500
    assert set(emulator.state.list_members(1)) == set(emails)
    assert client.stats.rate_limited > 0  # the storm happened, and was waited out
    async with session.get(f"{emulator.url}/_emulator/retry-after-violations", params={"grace_s": "0.2"}) as r:
        assert (await r.json())["violations"] == []  # only requests already in flight may land in a window


async def test_with_ten_percent_503s_all_arrive(emulator: EmulatorServer, session: aiohttp.ClientSession) -> None:
    emails, payloads = contacts(2_500)
    emulator.patch_config(error_503_probability=0.10, fault_seed=7)
    client = client_for(emulator, session)
    outcome = await deliver(client, emails, payloads, LIMITS)
    assert len(outcome.confirmed) == 2_500 and outcome.rejected == {}
    assert set(emulator.state.list_members(1)) == set(emails)
    assert client.stats.by_status[503] > 0 and client.stats.retries > 0


async def test_three_invalid_emails_in_a_batch_the_other_247_arrive_and_the_3_are_named(
    emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    emails, payloads = contacts(250)
    bad = {5: "bad@@example.com", 77: "no-at-sign.example.com", 200: "spaces in@example.com"}
    for i, email in bad.items():  # AC's syntax check refuses these; the product never sends them, the client copes
        emails[i] = email
        payloads[i] = contact_payload(ContactFields(email), subscribe_list=1)
    outcome = await deliver(client_for(emulator, session), emails, payloads, LIMITS)
    assert set(outcome.rejected) == set(bad)
    assert all("email" in reason.lower() for reason in outcome.rejected.values())  # AC's failureReason
    members = set(emulator.state.list_members(1))
    assert len(members) == 247 and not members & set(bad.values())


async def test_an_invalid_key_is_fatal_and_names_the_host_not_the_key(
    emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    key = "not-the-right-key-5d1e0c"
    with pytest.raises(AcAuthError) as caught:
        await client_for(emulator, session, key).verify_credentials()
    assert emulator.url.removeprefix("http://") in caught.value.message
    assert key not in caught.value.message and key not in repr(caught.value)


async def test_contacts_that_fail_in_import_info_are_reported_per_email(
    emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    emails, payloads = contacts(300)
    emulator.state.seed_exclusions([emails[3], emails[260]])
    emulator.state.seed_bounced([emails[42]])
    outcome = await deliver(client_for(emulator, session), emails, payloads, LIMITS)
    assert set(outcome.rejected) == {3, 42, 260}
    assert all("did not import" in reason for reason in outcome.rejected.values())
    assert len(outcome.confirmed) == 297
    assert set(emulator.state.list_members(1)) == set(emails) - {emails[3], emails[42], emails[260]}
