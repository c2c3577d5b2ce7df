"""Properties of the row rules (product.md §5) for arbitrary rows across several segments.

For any rows (emails valid, invalid, padded, mixed case, missing; names and phones empty,
blank, padded or missing; unreadable rows too):
- every row read ends in exactly one outcome: invalid, duplicate or contact, and they sum to the rows read;
- each row appears in the report at most once;
- contact emails are trimmed and lowercased, appear once, and pass AC's syntax rules;
- a row whose email breaks AC's rules is never a contact;
- a well-formed email always reaches the contacts (once), with the values of its first row;
- optional values are never "" in the contacts: a value, trimmed, or null.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from local.activecampaign_emulator import is_valid_email
from shared.models import AttributeMapping
from shared.pipeline.rules import SegmentInput, apply_rules
from shared.snapshot import BadRow, SnapshotRows

MAPPING = AttributeMapping(email="Email", first_name="First", last_name="Last", phone="Phone")
SPECIALS = set('"(),:;<>[\\]')

# Control characters in emails are covered by tests/badinput/test_snapshot_inputs.py (an email with a NUL is
# invalid and never sent).
SAFE_LOCAL = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-'", min_size=1, max_size=8)
DOMAIN = st.sampled_from(["example.com", "Example.CO.uk", "mail-1.example.org", "x.io"])
PAD = st.sampled_from(["", " ", "  ", "\t", " \t "])
WELL_FORMED = st.builds(lambda p1, local, domain, p2: f"{p1}{local}@{domain}{p2}", PAD, SAFE_LOCAL, DOMAIN, PAD)
PRINTABLE = st.characters(min_codepoint=0x20, exclude_characters="\x7f", codec="utf-8")
ODD = st.one_of(
    st.text(PRINTABLE, max_size=12),  # mostly no @ at all
    st.builds(lambda a, b: f"{a}@{b}", st.text(PRINTABLE, max_size=6), st.text(PRINTABLE, max_size=8)),
    st.builds(lambda a: f"{a}@@example.com", SAFE_LOCAL),
    st.builds(lambda a, c: f"{a}{c}x@example.com", SAFE_LOCAL, st.sampled_from([*sorted(SPECIALS), " "])),
    st.sampled_from(["", "   ", "@example.com", "a@example", "a@example.c", "a@.com", "a@exa mple.com"]),
)
EMAIL = st.one_of(st.none(), WELL_FORMED, ODD)
OPTIONAL = st.one_of(
    st.none(), st.sampled_from(["", " ", "  x ", "Ann", "O'Neil", "+1 555 0100 "]), st.text(max_size=6)
)


@st.composite
def segments(draw: st.DrawFn) -> list[SegmentInput]:
    pool = draw(st.lists(EMAIL, min_size=1, max_size=8))  # emails are reused to make duplicates
    result = []
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        n = draw(st.integers(min_value=0, max_value=12))
        table = pa.table(
            {
                "Email": pa.array([draw(st.sampled_from(pool) | EMAIL) for _ in range(n)], pa.string()),
                "First": pa.array([draw(OPTIONAL) for _ in range(n)], pa.string()),
                "Last": pa.array([draw(OPTIONAL) for _ in range(n)], pa.string()),
                "Phone": pa.array([draw(OPTIONAL) for _ in range(n)], pa.string()),
            }
        )
        bad = [BadRow(f"S{index}_1.csv", row, "wrong number of fields") for row in range(draw(st.integers(0, 2)))]
        result.append(SegmentInput(f"S{index}", SnapshotRows(table, n + len(bad), bad)))
    return result


def breaks_ac_rules(email: str) -> bool:
    """AC's rules as the emulator applies them (written apart from the product's regex)."""
    return not is_valid_email(email)


@settings(max_examples=60, deadline=None)
@given(segs=segments())
def test_every_row_has_one_outcome_and_contacts_are_clean(segs: list[SegmentInput]) -> None:
    rows_read = sum(s.rows.rows_read for s in segs)
    given_rows = [row for seg in segs for row in seg.rows.table.to_pylist()]

    result = apply_rules(list(segs), MAPPING, [], "fp")  # (apply_rules may consume its list)
    contacts: list[dict[str, Any]] = result.contacts.to_pylist()
    report: list[dict[str, Any]] = result.report.to_pylist()

    # one outcome per row, summing to the rows read
    assert result.rows_read == rows_read
    assert result.invalid + result.duplicates + len(contacts) == rows_read
    assert sum(1 for r in report if r["outcome"] == "invalid") == result.invalid
    assert sum(1 for r in report if r["outcome"] == "duplicate") == result.duplicates
    table_rows = [(r["segment"], r["row"]) for r in report if not r["reason"].startswith("row unreadable")]
    assert len(table_rows) == len(set(table_rows))

    # contact emails: normalised, unique, valid by AC's rules
    emails = [c["email"] for c in contacts]
    assert len(emails) == len(set(emails))
    assert all(e == e.strip().lower() and not breaks_ac_rules(e) for e in emails)

    # every row's email, normalised: breaking AC's rules means never a contact; well formed means one
    first_rows: dict[str, dict[str, Any]] = {}
    for row in given_rows:
        normal = (row["Email"] or "").strip().lower()
        if breaks_ac_rules(normal):
            assert normal not in emails
        else:
            first_rows.setdefault(normal, row)
    assert set(emails) == set(first_rows)

    # values: the first row's, trimmed; empty or blank -> null, never ""
    for contact in contacts:
        first = first_rows[contact["email"]]
        for column, attribute in (("first_name", "First"), ("last_name", "Last"), ("phone", "Phone")):
            raw = first[attribute]
            expected = raw.strip() if raw is not None and raw.strip() else None
            assert contact[column] == expected, (column, raw, contact[column])
            assert contact[column] != ""
