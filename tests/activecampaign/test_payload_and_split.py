"""Cutting contacts into requests by count and bytes, and isolating invalid contacts."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.activecampaign import (
    ActiveCampaignClient,
    ContactColumns,
    ContactFields,
    batch_ranges,
    bulk_body,
    contact_payload,
    contact_payloads,
)
from shared.activecampaign.bulk import MAX_EXTRA_REQUESTS, import_contacts
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
    """Stands in for bulk_import: refuses any request holding a bad email, naming the bad ones' positions in
    that request with the given index base (0 or 1, UNCONFIRMED in AC), not at all (None), or with an index
    that names no contact of the request ("outside")."""

    def __init__(self, bad: set[str], base: int | str | None, reason: str = "Field‘ email’ incorrect format") -> None:
        self.bad = bad
        self.base = base
        self.reason = reason
        self.requests = 0
        self.accepted: list[str] = []

    async def __call__(self, body: bytes, count: int) -> str:
        self.requests += 1
        emails = [c["email"] for c in json.loads(body)["contacts"]]
        assert len(emails) == count
        positions = [i for i, e in enumerate(emails) if e in self.bad]
        if positions:
            index = {None: lambda p: None, "outside": lambda p: count + 7}.get(self.base, lambda p: p + self.base)
            raise AcBatchInvalid("acct.api-us1.com", [FailureReason(index(p), self.reason) for p in positions])
        self.accepted.extend(emails)
        return f"batch-{self.requests}"


def judged(
    make_client: Callable[..., ActiveCampaignClient], judge: JudgingAc
) -> tuple[ActiveCampaignClient, list[str], list[bytes]]:
    emails = [f"c{i}@example.com" for i in range(250)]
    payloads = [contact_payload(ContactFields(e), subscribe_list=1) for e in emails]
    client = make_client("http://127.0.0.1:9/api/3")
    client.bulk_import = judge  # type: ignore[method-assign]
    return client, emails, payloads


@pytest.mark.parametrize("base", [0, 1], ids=["0-based", "1-based"])
async def test_three_invalid_contacts_are_isolated_and_the_other_247_go(
    base: int, make_client: Callable[..., ActiveCampaignClient]
) -> None:
    bad = {"c10@example.com", "c100@example.com", "c248@example.com"}
    judge = JudgingAc(bad, base)
    client, emails, payloads = judged(make_client, judge)
    result = await import_contacts(client, payloads)
    assert sorted(judge.accepted) == sorted(set(emails) - bad)  # each good contact sent exactly once
    assert len(judge.accepted) == 247
    assert {emails[r.index] for r in result.rejected} == bad
    assert all("incorrect format" in r.reason for r in result.rejected)
    assert sorted(i for _, group in result.accepted for i in group) == sorted(
        i for i, e in enumerate(emails) if e not in bad
    )
    # the contacts AC did not name went at once, in one request, without bisecting the batch; one probe
    # request settles AC's index base: four requests at most
    assert max(len(group) for _, group in result.accepted) >= 244
    assert judge.requests <= 4


@given(
    st.integers(1, 250).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), max_size=12))),
    st.sampled_from([0, 1]),
)
async def test_any_invalid_contacts_are_isolated_in_at_most_four_requests(
    case: tuple[int, set[int]], base: int
) -> None:
    n, bad_positions = case
    emails = [f"c{i}@example.com" for i in range(n)]
    bad = {emails[i] for i in bad_positions}
    judge = JudgingAc(bad, base)
    client = StubClient(judge)
    result = await import_contacts(client, [contact_payload(ContactFields(e)) for e in emails])  # type: ignore[arg-type]
    assert sorted(judge.accepted) == sorted(set(emails) - bad)  # every good contact, once
    assert {emails[r.index] for r in result.rejected} == bad  # exactly the bad ones, with AC's reason
    assert judge.requests <= 4


class StubClient:
    host = "acct.api-us1.com"

    def __init__(self, judge: JudgingAc) -> None:
        self.bulk_import = judge


@pytest.mark.parametrize(
    ("base", "reason"),
    [(None, "Field‘ email’ incorrect format"), (0, "List 1 does not exist")],
    ids=["names-no-contact", "names-the-list"],
)
async def test_a_refusal_naming_no_contact_or_the_list_is_never_split(
    base: int | None, reason: str, make_client: Callable[..., ActiveCampaignClient]
) -> None:
    # no index: AC refuses half the contacts without saying which; the list: every contact, each for the list
    step = 2 if base is None else 1
    judge = JudgingAc({f"c{i}@example.com" for i in range(0, 250, step)}, base, reason)
    client, _, payloads = judged(make_client, judge)
    result = await import_contacts(client, payloads)
    assert judge.requests == 1  # one request, never halved down to single contacts
    assert sorted(r.index for r in result.rejected) == list(range(250)) and not result.accepted
    assert all(reason in r.reason and "refused the whole request" in r.reason for r in result.rejected)
    assert result.list_refused is (base is not None)  # the caller checks the list


async def test_isolating_spends_at_most_the_cap_then_rejects_the_rest_saying_so(
    make_client: Callable[..., ActiveCampaignClient],
) -> None:
    bad = {"c3@example.com", "c170@example.com"}
    judge = JudgingAc(bad, "outside")  # AC names contacts, but no index fits the request: only halving is left
    client, emails, payloads = judged(make_client, judge)
    result = await import_contacts(client, payloads)
    assert judge.requests == 1 + MAX_EXTRA_REQUESTS
    rejected = {emails[r.index]: r.reason for r in result.rejected}
    assert bad <= set(rejected)  # never accepted
    assert sorted(judge.accepted + list(rejected)) == sorted(emails)  # every contact accounted for once
    capped = [reason for email, reason in rejected.items() if email not in bad or "more than" in reason]
    assert capped and all(f"more than {MAX_EXTRA_REQUESTS} extra requests" in r for r in capped)


_VALUES = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(['},{"email":"x', '"', "\\", '{"email":', "é😀"]))


@given(st.lists(st.tuples(st.text(max_size=10), _VALUES, _VALUES, _VALUES, _VALUES), min_size=1, max_size=20))
def test_many_contacts_serialise_to_the_bytes_each_gives_alone(rows: list[tuple[str, ...]]) -> None:
    """Contacts serialised together (one dumps, split between them) give each contact's own bytes, whatever
    quotes, braces or separators their values hold."""
    columns = ContactColumns(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [(4, [r[4] for r in rows])],
    )
    alone = [
        contact_payload(
            ContactFields(r[0], r[1], r[2], r[3], ((4, r[4]),) if r[4] is not None else ()), subscribe_list=2
        )
        for r in rows
    ]
    together = contact_payloads(columns, subscribe_list=2)
    assert together == alone
    assert [json.loads(p)["email"] for p in together] == [r[0] for r in rows]
