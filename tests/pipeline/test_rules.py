"""The row rules (shared/pipeline/rules.py) and value formats (shared/pipeline/values.py) on small exact examples.

tests/badinput/test_prop_rules.py checks the rules' properties over arbitrary rows; these pin the details a
property leaves open: where a report row says a row came from, which row of an email wins, the content hash's
exact input, the report's cut of long values, and each field type's format.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pyarrow as pa
import pytest

import shared.pipeline.content_hash as content_hash
import shared.pipeline.rules as rules
from shared.models import AttributeMapping
from shared.models.export import CustomFieldMapping
from shared.pipeline.content_hash import content_hashes
from shared.pipeline.rules import (
    ORDER,
    REPORT_SCHEMA,
    FieldSpec,
    Origin,
    SegmentInput,
    apply_rules,
    check_rows,
    empty_valid,
    settle_rows,
)
from shared.pipeline.values import blank_to_null, format_values
from shared.snapshot import BadRow, SnapshotRows
from shared.snapshot.csv_reader import ROW_COLUMN

MAPPING = AttributeMapping(email="Email", first_name="First", last_name="Last", phone="Phone")


def blake(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def segment(name: str, rows: list[tuple[str | None, ...]], bad: list[BadRow] | None = None) -> SegmentInput:
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    table = pa.table(
        {
            name: pa.array(list(col), pa.string())
            for name, col in zip(("Email", "First", "Last", "Phone", "Tier"), columns, strict=True)
        }
    )
    return SegmentInput(name, SnapshotRows(table, len(rows) + len(bad or []), list(bad or [])))


def report_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [(r["email"], r["outcome"], r["reason"], r["segment"], r["partition"], r["row"]) for r in table.to_pylist()]


def test_two_segments_end_in_contacts_duplicates_and_invalid_rows_each_located() -> None:
    vip = segment(
        "VIP",
        [
            (" Ann@Example.COM ", " Ann ", "", None, "gold"),
            ("not-an-email", "X", "Y", "Z", "x"),
            ("bob@example.com", "Bob", "  ", "+1 555", "silver"),
        ],
        bad=[BadRow("VIP_1.csv", 7, "wrong number of fields")],
    )
    all_ = segment(
        "All",
        [
            ("ann@example.com", "Later Ann", "L", "1", "tin"),  # a duplicate of VIP's row 1
            ("carl@example.org", None, None, None, None),
            ("Bob@Example.com", "B", "B", "B", "b"),  # a duplicate of VIP's row 3
        ],
    )
    mapping = MAPPING.model_copy(update={"custom_fields": [CustomFieldMapping(attribute="Tier", field="Tier")]})

    result = apply_rules([vip, all_], mapping, [FieldSpec("Tier", 7, "text")], "fp")

    assert result.contacts.column_names == ["email", "first_name", "last_name", "phone", "field_7", "hash"]
    assert result.contacts.drop_columns(["hash"]).to_pylist() == [
        {"email": "ann@example.com", "first_name": "Ann", "last_name": None, "phone": None, "field_7": "gold"},
        {"email": "bob@example.com", "first_name": "Bob", "last_name": None, "phone": "+1 555", "field_7": "silver"},
        {"email": "carl@example.org", "first_name": None, "last_name": None, "phone": None, "field_7": None},
    ]
    assert (result.rows_read, result.invalid, result.duplicates, result.value_errors) == (7, 2, 2, 0)
    duplicate = "the same email appears earlier in the export's segments"
    assert report_rows(result.report) == [
        ("", "invalid", "row unreadable in VIP_1.csv: wrong number of fields", "VIP", "VIP", 7),
        ("not-an-email", "invalid", "email has no @", "VIP", "VIP", 2),
        ("ann@example.com", "duplicate", duplicate, "All", "All", 1),
        ("bob@example.com", "duplicate", duplicate, "All", "All", 3),
    ]
    assert result.report.schema == REPORT_SCHEMA


def test_the_content_hash_covers_the_fingerprint_and_every_value_with_nulls_marked() -> None:
    result = apply_rules([segment("S", [("a@x.io", "A", None, "", "t")])], MAPPING, [], "fp1")

    # email, first, last, phone (no custom field): separated by \x1f, a null (or empty, made null) as \x00
    assert result.contacts["hash"].to_pylist() == [blake("fp1\x1fa@x.io\x1fA\x1f\x00\x1f\x00")]


def test_content_hashes_are_the_same_whatever_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    contacts = pa.table({"email": [f"{i}@x.io" for i in range(5)], "first_name": ["a", None, "b", "", "c"]})
    whole = content_hashes(contacts, "fp").to_pylist()
    monkeypatch.setattr(content_hash, "HASH_CHUNK", 2)

    assert content_hashes(contacts, "fp").to_pylist() == whole
    assert whole[0] == blake("fp\x1f0@x.io\x1fa")
    assert whole[4] == blake("fp\x1f4@x.io\x1fc")  # the last chunk's rows land at their own place
    assert len(set(whole)) == 5
    assert whole[1] != blake("fp\x1f1@x.io\x1f")  # a null is not an empty string


def test_check_rows_keeps_valid_rows_with_their_reading_order_and_reports_the_rest() -> None:
    chunk = pa.table(
        {
            "Email": pa.array([" A@X.io", "bad", None, "c@x.io"], pa.string()),
            "First": pa.array(["a", "b", "c", "d"], pa.string()),
            "Unused": pa.array(["1", "2", "3", "4"], pa.string()),
            ROW_COLUMN: pa.array([11, 12, 13, 14], pa.int64()),
        }
    )
    origin = Origin(2, "Seg", 3, "part-3.csv")
    mapping = AttributeMapping(email="Email", first_name="First")

    checked = check_rows(chunk, [BadRow("part-3.csv", 9, "bad quote")], 5, mapping, origin)

    assert checked.valid.column_names == ["email", "Email", "First", ORDER]  # not "Unused"
    assert checked.valid["email"].to_pylist() == ["a@x.io", "c@x.io"]
    assert checked.valid["First"].to_pylist() == ["a", "d"]
    base = (2 << 52) | (3 << 36)
    assert origin.base == base
    assert checked.valid[ORDER].to_pylist() == [base + 11, base + 14]
    assert (checked.rows_read, checked.invalid) == (5, 3)
    assert report_rows(checked.report) == [
        ("", "invalid", "row unreadable in part-3.csv: bad quote", "Seg", "part-3.csv", 9),
        ("bad", "invalid", "email has no @", "Seg", "part-3.csv", 12),
        ("", "invalid", "email is empty", "Seg", "part-3.csv", 13),
    ]


def test_an_empty_chunk_gives_no_rows_and_no_report() -> None:
    chunk = pa.table({"Email": pa.array([], pa.string()), ROW_COLUMN: pa.array([], pa.int64())})

    checked = check_rows(chunk, [], 0, AttributeMapping(email="Email"), Origin(0, "S", 0, "p"))

    assert checked.valid.num_rows == 0
    assert checked.report.num_rows == 0
    assert checked.report.schema == REPORT_SCHEMA
    assert (checked.rows_read, checked.invalid) == (0, 0)


def test_settle_rows_keeps_the_first_row_in_reading_order_and_locates_duplicates_in_any_partition() -> None:
    origins = [Origin(0, "A", 0, "a-0.csv"), Origin(0, "A", 1, "a-1.csv"), Origin(1, "B", 0, "b-0.csv")]
    rows = pa.table(
        {
            "email": ["x@x.io", "x@x.io", "y@x.io", "x@x.io", "y@x.io"],
            "First": ["from B", "from A-1", "y first", "from A-0", "y later"],
            ORDER: [
                origins[2].base + 1,
                origins[1].base + 5,
                origins[0].base + 2,
                origins[0].base + 9,
                origins[2].base + 4,
            ],
        }
    )
    mapping = AttributeMapping(email="Email", first_name="First")

    contacts, report, duplicates, value_errors = settle_rows(rows, mapping, [], "fp", origins)

    assert contacts["email"].to_pylist() == ["y@x.io", "x@x.io"]  # reading order: A-0 row 2, then A-0 row 9
    assert contacts["first_name"].to_pylist() == ["y first", "from A-0"]
    assert (duplicates, value_errors) == (3, 0)
    assert sorted(report_rows(report)) == sorted(
        [
            ("x@x.io", "duplicate", rules.DUPLICATE_REASON, "A", "a-1.csv", 5),
            ("x@x.io", "duplicate", rules.DUPLICATE_REASON, "B", "b-0.csv", 1),
            ("y@x.io", "duplicate", rules.DUPLICATE_REASON, "B", "b-0.csv", 4),
        ]
    )


def test_settle_rows_on_no_rows_gives_the_contact_columns_and_nothing_else() -> None:
    contacts, report, duplicates, value_errors = settle_rows(
        empty_valid(MAPPING), MAPPING, [FieldSpec("Tier", 3, "date")], "fp", []
    )

    assert contacts.column_names == ["email", "first_name", "last_name", "phone", "field_3", "hash"]
    assert contacts.num_rows == 0
    assert report.num_rows == 0
    assert (duplicates, value_errors) == (0, 0)


def test_an_unconvertible_field_value_is_reported_and_the_contact_sent_without_it() -> None:
    rows = segment("S", [("a@x.io", None, None, None, "2024-02-30"), ("b@x.io", None, None, None, "2024-02-28")])

    mapping = MAPPING.model_copy(update={"custom_fields": [CustomFieldMapping(attribute="Tier", field="4")]})

    result = apply_rules([rows], mapping, [FieldSpec("Tier", 4, "date")], "fp")

    assert result.contacts["field_4"].to_pylist() == [None, "2024-02-28"]
    assert result.value_errors == 1
    assert report_rows(result.report) == [
        ("a@x.io", "field-skipped", "Tier: not a valid date; the contact was sent without it", "S", "S", 1)
    ]


def test_a_segment_without_rows_or_columns_reads_as_empty() -> None:
    empty = SegmentInput("S", SnapshotRows(pa.table({}), 0, []))

    result = apply_rules([empty], MAPPING, [FieldSpec("Tier", 4, "text")], "fp")

    assert result.contacts.num_rows == 0
    assert "field_4" in result.contacts.column_names
    assert (result.rows_read, result.invalid, result.duplicates) == (0, 0, 0)


def test_long_values_are_cut_in_the_report_with_an_ellipsis() -> None:
    limit = rules.REPORT_VALUE_LIMIT
    values = pa.array(["a" * (limit + 1), "b" * limit, "short"], pa.string())

    assert rules.truncated(values).to_pylist() == ["a" * limit + "…", "b" * limit, "short"]
    assert rules.truncated(pa.array(["x"], pa.string())).to_pylist() == ["x"]
    assert limit == 320


def format_as(values: list[str | None], field_type: str) -> tuple[list[Any], list[Any]]:
    formatted, flags = format_values(pa.chunked_array([pa.array(values, pa.string())]), field_type)
    return formatted.to_pylist(), flags.to_pylist()


@pytest.mark.parametrize(
    ("field_type", "given", "expected", "flagged"),
    [
        ("text", [" a ", "", "  ", None, "b"], ["a", None, None, None, "b"], [False] * 5),
        (
            "date",
            [
                "2024-03-01",
                "2024-03-01T23:30:00-05:00",
                "03/31/2024",
                "31.03.2024",
                "2024-02-30",
                "soon",
                "",
                None,
                "2024-13-01",
            ],
            ["2024-03-01", "2024-03-01", "2024-03-31", "2024-03-31", None, None, None, None, None],
            [False, False, False, False, True, True, False, False, True],
        ),
        ("DATE", ["2024-03-01 10:00"], ["2024-03-01"], [False]),
        (
            "datetime",
            [
                "2024-03-01T10:20:30Z",
                "2024-03-01T10:20:30.123456Z",
                "2024-03-01T10:20:30+02:00",
                "2024-03-01 10:20:30",
                "2024-03-01T10:20:30",
                "2024-03-01 10:20:30+02:00",
                "2024-03-01",
                "03/01/2024 01:20:30 PM",
                "03/01/2024 13:20:30",
                "03/01/2024",
                "never",
            ],
            [
                "2024-03-01T10:20:30+00:00",
                "2024-03-01T10:20:30+00:00",
                "2024-03-01T08:20:30+00:00",
                "2024-03-01T10:20:30+00:00",
                "2024-03-01T10:20:30+00:00",
                "2024-03-01T08:20:30+00:00",
                "2024-03-01T00:00:00+00:00",
                "2024-03-01T13:20:30+00:00",
                "2024-03-01T13:20:30+00:00",
                "2024-03-01T00:00:00+00:00",
                None,
            ],
            [False] * 10 + [True],
        ),
        (
            "multiselect",
            ["a;b", "a , b|c", "||x||y||", "single", " ", None, ";;;", "a;;b", "; a ;", "||||", "||p||||q||"],
            [
                "||a||b||",
                "||a||b||c||",
                "||x||y||",
                "||single||",
                None,
                None,
                None,
                "||a||b||",
                "||a||",
                None,
                "||p||q||",
            ],
            [False] * 6 + [True, False, False, True, False],  # only separators: a value that holds no option
        ),
        ("checkbox", ["yes"], ["||yes||"], [False]),
        ("listbox", ["p,q"], ["||p||q||"], [False]),
    ],
)
def test_each_field_type_is_formatted_for_activecampaign(
    field_type: str, given: list[str | None], expected: list[Any], flagged: list[bool]
) -> None:
    assert format_as(given, field_type) == (expected, flagged)


def test_blank_values_become_null_and_others_are_trimmed() -> None:
    values = pa.chunked_array([pa.array([" x ", "", " \t", None], pa.string())])

    assert blank_to_null(values).to_pylist() == ["x", None, None, None]


def test_rule_inputs_are_immutable_values() -> None:
    # they are shared between the event loop and the parser's thread (shared/pipeline/split.py)
    spec, origin = FieldSpec("Tier", 1, "text"), Origin(0, "S", 0, "p")
    seg = SegmentInput("S", SnapshotRows(pa.table({}), 0, []))
    for value, name in ((spec, "field_id"), (origin, "segment_index"), (seg, "name")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, 2)
    assert spec.column == "field_1"


def test_an_email_attribute_named_email_is_still_normalised() -> None:
    chunk = pa.table({"email": pa.array([" A@X.io "], pa.string()), ROW_COLUMN: pa.array([1], pa.int64())})

    checked = check_rows(chunk, [], 1, AttributeMapping(email="email"), Origin(0, "S", 0, "p"))

    assert checked.valid.column_names == ["email", ORDER]
    assert checked.valid["email"].to_pylist() == ["a@x.io"]


def test_a_bucket_of_one_row_reports_its_unconvertible_value() -> None:
    origin = Origin(0, "S", 0, "p.csv")
    rows = pa.table({"email": ["a@x.io"], "Tier": ["not a date"], ORDER: [origin.base + 3]})
    mapping = AttributeMapping(email="Email", custom_fields=[CustomFieldMapping(attribute="Tier", field="4")])

    contacts, report, duplicates, value_errors = settle_rows(
        rows, mapping, [FieldSpec("Tier", 4, "date")], "fp", [origin]
    )

    assert contacts["field_4"].to_pylist() == [None]
    assert (duplicates, value_errors) == (0, 1)
    assert report_rows(report) == [
        ("a@x.io", "field-skipped", "Tier: not a valid date; the contact was sent without it", "S", "p.csv", 3)
    ]


def test_no_valid_rows_have_the_columns_of_valid_rows() -> None:
    # bucket planning concatenates this with the rows the splits wrote: the names and types must match
    schema = empty_valid(MAPPING).schema
    assert [(f.name, f.type) for f in schema] == [
        ("email", pa.string()),
        ("Email", pa.string()),  # as check_rows keeps it
        ("First", pa.string()),
        ("Last", pa.string()),
        ("Phone", pa.string()),
        (ORDER, pa.int64()),
    ]
    assert empty_valid(AttributeMapping(email="email")).column_names == ["email", ORDER]


def test_a_content_hash_is_blake2b_of_the_joined_values_so_stored_state_stays_valid() -> None:
    """State holds these digests from earlier runs: computed any other way, every contact would look changed and
    be sent again."""
    contacts = pa.table({"email": ["a@x.com", "b@x.com"], "first_name": ["Zoë", None]})
    joined = ["fp\x1fa@x.com\x1fZoë", "fp\x1fb@x.com\x1f" + content_hash.NULL_MARK]
    expected = [hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest() for text in joined]
    assert content_hashes(contacts, "fp").to_pylist() == expected
