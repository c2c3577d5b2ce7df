"""Cutting contacts into requests by count and bytes, and isolating invalid contacts."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.activecampaign import ActiveCampaignClient, ContactFields, batch_ranges, bulk_body, contact_payload
from shared.activecampaign.bulk import import_contacts
from shared.activecampaign.errors import AcBatchInvalid, FailureReason


def test_empty_optional_values_are_omitted_not_sent_as_empty_strings() -> None:
    payload = contact_payload(
        ContactFields(email="a@example.com", first_name="", last_name=None, phone="  ", fields=((3, ""),)),
        subscribe_list=7,
    )
    body = json.loads(payload)
    assert body == {
        "email": "a@example.com",
        "phone": "  ",
        "fields": [],
        "subscribe": [{"listid": 7}],
        "exclude_automations": False,
    }


def test_full_contact_uses_bulk_import_field_names() -> None:
    payload = contact_payload(
        ContactFields("a@example.com", "Ann", "Lee", "555", ((1, "x"), (2, "||a||b||")), ("vip",)),
        unsubscribe_list=3,
        exclude_automations=True,
    )
    assert json.loads(payload) == {
        "email": "a@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "555",
        "fields": [{"id": 1, "value": "x"}, {"id": 2, "value": "||a||b||"}],
        "tags": ["vip"],
        "unsubscribe": [{"listid": 3}],
        "exclude_automations": True,
    }


@given(st.lists(st.integers(min_value=1, max_value=5000), max_size=700), st.integers(1, 250))
def test_batches_respect_count_and_exact_byte_limits(sizes: list[int], max_count: int) -> None:
    max_bytes = 20_000
    ranges = batch_ranges(sizes, max_count=max_count, max_bytes=max_bytes)
    # every contact in exactly one batch, in order
    assert [i for a, b in ranges for i in range(a, b)] == list(range(len(sizes)))
    for a, b in ranges:
        payloads = [b"x" * s for s in sizes[a:b]]
        assert b - a <= max_count
        if b - a > 1:
            assert len(bulk_body(payloads)) <= max_bytes  # the exact serialised size
    assert batch_ranges(sizes, max_count=max_count, max_bytes=max_bytes) == ranges  # deterministic


def test_250_small_contacts_fill_one_request() -> None:
    assert batch_ranges([100] * 251, max_count=250, max_bytes=399_999) == [(0, 250), (250, 251)]


class JudgingAc:
    """Stands in for bulk_import: refuses any request holding a bad email, naming the bad ones'
    positions in that request with the given index base (0 or 1, UNCONFIRMED in AC), or not at all."""

    def __init__(self, bad: set[str], base: int | None) -> None:
        self.bad = bad
        self.base = base
        self.requests = 0
        self.accepted: list[str] = []

    async def __call__(self, body: bytes, count: int) -> str:
        self.requests += 1
        emails = [c["email"] for c in json.loads(body)["contacts"]]
        assert len(emails) == count
        positions = [i for i, e in enumerate(emails) if e in self.bad]
        if positions:
            reasons = [
                FailureReason(None if self.base is None else p + self.base, "Field‘ email’ incorrect format")
                for p in positions
            ]
            raise AcBatchInvalid("acct.api-us1.com", reasons)
        self.accepted.extend(emails)
        return f"batch-{self.requests}"


@pytest.mark.parametrize("base", [0, 1, None], ids=["0-based", "1-based", "no-index"])
async def test_three_invalid_contacts_are_isolated_and_the_other_247_go(
    base: int | None, make_client: Callable[..., ActiveCampaignClient]
) -> None:
    emails = [f"c{i}@example.com" for i in range(250)]
    bad = {emails[10], emails[100], emails[248]}
    payloads = [contact_payload(ContactFields(e), subscribe_list=1) for e in emails]
    client = make_client("http://127.0.0.1:9/api/3")
    judge = JudgingAc(bad, base)
    client.bulk_import = judge  # type: ignore[method-assign]
    result = await import_contacts(client, payloads)
    assert sorted(judge.accepted) == sorted(set(emails) - bad)  # each good contact sent exactly once
    assert len(judge.accepted) == 247
    assert {emails[r.index] for r in result.rejected} == bad
    assert all("incorrect format" in r.reason for r in result.rejected)
    assert sorted(i for _, group in result.accepted for i in group) == sorted(
        i for i, e in enumerate(emails) if e not in bad
    )
    if base is not None:
        # the contacts AC did not name went at once, in one request, without bisecting the batch
        assert max(len(group) for _, group in result.accepted) >= 244
