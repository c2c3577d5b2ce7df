"""Every way ActiveCampaign may behave that activecampaign-api.md marks UNCONFIRMED, against the product: each
value of each emulator switch runs an export end to end, and the list ends holding exactly the oracle's contacts
(less the ones AC refuses, where it refuses some).

| Switch: values | What else its case checks |
|---|---|
| `bulk_failure_index_base`: 0, 1 | 3 addresses AC refuses (`bulk_refused_emails`) are rejected, nobody else |
| `bulk_rate_limit_status`: 400, 429 | AC's bulk "Rate limit exceeded." is waited out and sent again, either status |
| `bulk_success_key`: Success, success | (the end state) |
| `email_case`: first, last, lower | 20 contacts AC already holds in upper case are matched, not duplicated |
| `batch_failure_status`: failed, interrupted | the two imports AC ended so are sent again |
| `ratelimit_headers`: all, 429_only, none | (the end state) |

Values that change nothing else share a run, so 6 runs cover every value ("first" and "all" are the defaults,
in every other case).

Covered elsewhere, against the product too: a list AC no longer has, under each `bulk_unknown_list`
(tests/faults/test_deleted_list.py), and import/info never knowing a batch, under each `unknown_batch_response`
(tests/faults/test_deleted_list.py, `…import_info_never_knows…`, which checks the list as well).

One stack for the module (one Azurite, emulator and host; the emulator is reset between cases) and one small
sample (600 profiles, 1 partition, one shard of 3 imports): each case is one short run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from local.azurite import azurite
from local.sample_data import Oracle, Sample, SampleOptions
from tests.e2e.stack import Stack, running_stack
from tests.faults.checks import assert_rows_accounted, assert_values_match, write_sample
from tests.helpers import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

BULK = "POST /import/bulk_import"
REFUSED = 3  # addresses AC refuses in the index-base cases
FAILING_SEED = 1358  # with batch_failure_probability 0.1, the fault RNG fails the 1st and 2nd draws, then 28 pass
SEEDED = 20  # contacts already in AC under another case, in the email-case cases


@dataclass
class Matrix:
    stack: Stack
    sample: Sample
    answer: Oracle
    runs: list[str] = field(default_factory=list)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def matrix(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Matrix]:
    # AC_MAX_RETRY_AFTER_SECONDS: a rate-limit answer pauses the account 0.2 s, not AC's minute (the cases count
    # the answers, then lift the limit)
    options: dict[str, Any] = {"SHARD_SIZE": "100000", "AC_MAX_RETRY_AFTER_SECONDS": "0.2"}
    async with running_stack(azurite().start(), tmp_path_factory.mktemp("behaviours"), **options) as stack:
        await stack.connect()
        sample, answer = await write_sample(stack, SampleOptions(profiles=600, seed=61, partitions=1))
        yield Matrix(stack, sample, answer)


async def export_with(matrix: Matrix, name: str, config: dict[str, Any]) -> None:
    """A fresh AC account (the emulator reset to its start config, then `config`) and a new export to its list 1:
    a new export id has no state, so the run sends everyone."""
    stack = matrix.stack
    stack.emulator.reset(config=True)
    stack.emulator.patch_config(config)
    await stack.create_export(name)


def assert_list_is(stack: Stack, expected: frozenset[str]) -> None:
    members = {email.lower(): status for email, status in stack.members().items()}
    assert len(members) == len(stack.members())  # one contact per address, whatever its case
    assert set(members) == expected  # nothing missing, nothing extra
    assert set(members.values()) == {1}  # all subscribed


def bulk_answers(stack: Stack) -> dict[str, int]:
    return dict(stack.emulator.emulator.metrics.request_counts().get(BULK, {}))


@dataclass(frozen=True)
class Case:
    config: dict[str, Any]
    refuses: bool = False  # AC refuses REFUSED addresses (bulk_refused_emails)
    limited: bool = False  # AC takes one bulk import a minute until the case lifts its limits
    seeded: bool = False  # AC already holds SEEDED of the contacts, in upper case
    failing: bool = False  # AC ends the first two imports it accepts as batch_failure_status says


CASES = {
    "index_base-0": Case({"bulk_failure_index_base": 0}, refuses=True),
    "index_base-1.success_key-success": Case(
        {"bulk_failure_index_base": 1, "bulk_success_key": "success"}, refuses=True
    ),
    "bulk_rate_limit-400.headers-none": Case(
        {"bulk_rate_limit_status": 400, "ratelimit_headers": "none"}, limited=True
    ),
    "bulk_rate_limit-429.headers-429_only": Case(
        {"bulk_rate_limit_status": 429, "ratelimit_headers": "429_only"}, limited=True
    ),
    "email_case-last.batch-failed": Case(
        {"email_case": "last", "batch_failure_status": "failed"}, seeded=True, failing=True
    ),
    "email_case-lower.batch-interrupted": Case(
        {"email_case": "lower", "batch_failure_status": "interrupted"}, seeded=True, failing=True
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_the_list_ends_as_the_oracle_says_whatever_ac_does(matrix: Matrix, name: str) -> None:
    stack, answer, case = matrix.stack, matrix.answer, CASES[name]
    config = dict(case.config)
    refused = sorted(answer.expected_set())[:: answer.expected_unique // REFUSED][:REFUSED] if case.refuses else []
    if refused:
        config["bulk_refused_emails"] = refused  # spread over the 3 imports
    if case.limited:
        config["bulk_multi_per_min"] = 0.02  # x50 scale: one a minute, so the run's second import is refused
    if case.failing:
        config.update(batch_failure_probability=0.1, fault_seed=FAILING_SEED)
    await export_with(matrix, name, config)
    seeded = sorted(answer.expected_set())[-SEEDED:] if case.seeded else []
    for email in seeded:
        stack.emulator.state.seed_contact(email.upper())  # in AC already, on no list
    run_id = await stack.start_run(name)
    if case.limited:

        def limited() -> list[dict[str, Any]]:
            return [r for r in stack.emulator.emulator.metrics.limited if r["kind"] == "bulk_multi"]

        await eventually(lambda: len(limited()) >= 2, timeout=60)  # refused, waited, asked again, refused again
        stack.emulator.patch_config({"limits_enabled": False})
    run = await stack.wait_run(name, run_id)

    assert_list_is(stack, answer.expected_set() - set(refused))
    assert run["status"] == ("PartiallySucceeded" if refused else "Succeeded"), run
    assert run["counts"]["confirmed"] == answer.expected_unique - len(refused)
    assert run["counts"]["rejected"] == len(refused)
    assert_rows_accounted(run, answer)
    state = stack.emulator.state
    assert state.contact_count == answer.expected_unique - len(refused)  # nobody twice under two cases
    if refused:
        report = await stack.report(name, run_id)
        assert {r["email"].strip().lower() for r in report if r["outcome"] == "rejected"} == set(refused)
        assert bulk_answers(stack).get("400", 0) >= 1  # AC did refuse batches naming contacts
    else:
        assert_values_match(stack, matrix.sample)
    if case.limited:
        assert {r["status"] for r in limited()} == {config["bulk_rate_limit_status"]}
        assert run["rateLimited"] >= 2
    if case.seeded:
        stored = [state.contact(email).email for email in seeded]  # type: ignore[union-attr]
        assert not any(email.isupper() for email in stored)  # "last" and "lower" both replace the upper case
    if case.failing:
        outcomes = [batch.outcome for batch in state.batches.values()]
        assert outcomes.count(config["batch_failure_status"]) == 2
        assert len(outcomes) == 3 + 2  # each failed import sent again, once
