"""The production client against the AC emulator (limits scaled x20 for test speed, the client's budget matched)."""

from __future__ import annotations

import dataclasses
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
from shared.activecampaign.client import MAX_UNKNOWN_POLLS
from shared.activecampaign.dropped import Drop, drop_reason
from shared.activecampaign.models import ImportInfo
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
    emulator: EmulatorServer, session: aiohttp.ClientSession, key: str | None = None, limits: AcLimits = LIMITS
) -> ActiveCampaignClient:
    host = emulator.url.removeprefix("http://")
    return ActiveCampaignClient(
        session,
        host=host,
        base_url=f"{emulator.url}/api/3",
        api_key=Secret(key or emulator.api_key),
        budget=BudgetRegistry(limits).for_host(host),
        limits=limits,
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


@pytest.mark.parametrize("answer", ["404", "400", "false"])
async def test_an_accepted_batch_import_info_never_knows_is_given_up_after_a_fixed_number_of_polls(
    emulator: EmulatorServer, session: aiohttp.ClientSession, answer: str
) -> None:
    # AC accepted the imports, then import/info does not know them: 404, 400, or status false for ever
    emulator.patch_config(info_forgets_batches=True, unknown_batch_response=answer)
    emails, payloads = contacts(300)  # two requests
    limits = dataclasses.replace(LIMITS, poll_timeout_s=5.0)  # (before, polling ran until this timeout)
    outcome = await deliver(client_for(emulator, session, limits=limits), emails, payloads, limits)
    assert outcome.confirmed == set() and set(outcome.rejected) == set(range(300))
    said = "status false" if answer == "false" else answer
    assert set(outcome.rejected.values()) == {
        f"ActiveCampaign could not process the import (its import/info answered {said} "
        f"{MAX_UNKNOWN_POLLS} times in a row)"
    }
    async with session.get(f"{emulator.url}/_emulator/requests") as response:
        counts = (await response.json())["counts"]
    assert sum(counts["GET /import/info"].values()) == 2 * MAX_UNKNOWN_POLLS  # bounded, the same every run
    assert set(emulator.state.list_members(1)) == set(emails)  # AC did apply them: they are only unconfirmed


async def test_dropped_contacts_get_the_reason_ac_gives_in_either_failure_shape(
    emulator: EmulatorServer, session: aiohttp.ClientSession
) -> None:
    emails, payloads = contacts(300)
    emulator.state.seed_exclusions([emails[3]])
    emulator.state.seed_bounced([emails[42]])
    emulator.state.seed_contact(emails[260], lists={1: 2})  # unsubscribed from the list before
    emulator.patch_config(info_failure_reasons=True)  # failure: [{"email", "reason"}] (UNCONFIRMED shape)
    outcome = await deliver(client_for(emulator, session), emails, payloads, LIMITS)
    assert outcome.rejected == {
        3: Drop.EXCLUDED.value,
        42: Drop.BOUNCED.value,
        260: Drop.UNSUBSCRIBED.value,
    }
    emulator.patch_config(info_failure_reasons=False, contact_limit=emulator.state.contact_count)
    more, more_payloads = contacts(2, prefix="new")
    outcome = await deliver(client_for(emulator, session), more, more_payloads, LIMITS)
    assert outcome.rejected == {0: Drop.NO_REASON.value, 1: Drop.NO_REASON.value}  # AC's documented shape
    emulator.patch_config(info_failure_reasons=True)
    outcome = await deliver(client_for(emulator, session), more, more_payloads, LIMITS)
    assert outcome.rejected == {0: Drop.OVER_LIMIT.value, 1: Drop.OVER_LIMIT.value}


def test_import_info_failure_is_read_as_emails_or_as_objects_with_a_reason() -> None:
    emails_only = ImportInfo.from_json({"status": "completed", "success": ["1"], "failure": ["A@x.io", "b@x.io"]})
    assert emails_only.failure == ("A@x.io", "b@x.io") and emails_only.reasons == {}
    objects = ImportInfo.from_json(
        {
            "status": "completed",
            "failure": [
                {"email": "A@x.io", "reason": "excluded"},
                {"email": "c@x.io", "failureReason": "Contact limit reached"},
                {"email": "d@x.io"},
                "e@x.io",
            ],
        }
    )
    assert objects.failure == ("A@x.io", "c@x.io", "d@x.io", "e@x.io")
    assert objects.reasons == {"a@x.io": "excluded", "c@x.io": "Contact limit reached"}
    assert [drop_reason(objects.reasons.get(e.lower())) for e in objects.failure] == [
        Drop.EXCLUDED.value,
        Drop.OVER_LIMIT.value,
        Drop.NO_REASON.value,
        Drop.NO_REASON.value,
    ]
    assert drop_reason("List 7 does not exist") == Drop.NO_LIST.value
    assert drop_reason("something  new\nfrom AC") == "ActiveCampaign did not import it: something new from AC"
