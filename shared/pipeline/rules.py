"""The row rules (product.md §5) across all segments of an export, on Arrow columns.

Every row read ends in exactly one bucket here: invalid (bad email or unreadable
row), duplicate (its normalised email came earlier, in this or an earlier segment)
or a contact.  Contacts carry the mapped values formatted for AC (empty -> null,
never ""), and a hash of what we would send, for the incremental diff.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from shared.models import AttributeMapping
from shared.pipeline.emails import normalise, reason_for, validity
from shared.pipeline.values import blank_to_null, format_values
from shared.snapshot import SnapshotRows

STANDARD: Final = ("first_name", "last_name", "phone")
HASH_SEPARATOR: Final = "\x1f"
NULL_MARK: Final = "\x00"
_REPORT_TYPES: dict[str, pa.DataType] = {
    "email": pa.string(),
    "outcome": pa.string(),
    "reason": pa.string(),
    "segment": pa.string(),
    "row": pa.int64(),
}
REPORT_SCHEMA: Final = pa.schema(_REPORT_TYPES)
DUPLICATE_REASON: Final = "the same email appears earlier in the export's segments"


@dataclass(frozen=True)
class FieldSpec:
    """A custom field mapping resolved against AC's /fields."""

    attribute: str
    field_id: int
    field_type: str

    @property
    def column(self) -> str:
        return f"field_{self.field_id}"


@dataclass(frozen=True)
class SegmentInput:
    name: str
    rows: SnapshotRows


@dataclass
class RuleResult:
    contacts: pa.Table  # email, first_name, last_name, phone, field_<id>..., hash (binary 8), in read order
    report: pa.Table  # REPORT_SCHEMA rows: invalid, duplicate and field-skipped
    rows_read: int
    invalid: int
    duplicates: int
    value_errors: int


def apply_rules(
    segments: Sequence[SegmentInput], mapping: AttributeMapping, fields: Sequence[FieldSpec], fingerprint: str
) -> RuleResult:
    reports: list[pa.Table] = []
    unreadable = 0
    parts: list[pa.Table] = []
    for seg in segments:
        for bad_row in seg.rows.bad_rows:
            why = f"row unreadable in {bad_row.partition}: {bad_row.reason}"
            reports.append(_report_rows([""], "invalid", [why], seg.name, [bad_row.row]))
            unreadable += 1
        parts.append(_project(seg.name, seg.rows.table, mapping, fields))
    rows = pa.concat_tables(parts) if parts else _empty(fields)
    rows = rows.append_column("seq", pa.array(range(rows.num_rows), pa.int64()))
    rows_read = sum(seg.rows.rows_read for seg in segments)

    valid = validity(rows["email"])
    invalid_rows = rows.filter(pc.invert(valid))
    if invalid_rows.num_rows:
        reasons = [reason_for(e or "") for e in invalid_rows["email"].to_pylist()]
        raw = [r or "" for r in invalid_rows["email_raw"].to_pylist()]
        reports.append(_report_rows(raw, "invalid", reasons, invalid_rows["segment"], invalid_rows["row"]))
    candidates = rows.filter(valid)

    # The first occurrence (segment order, then row order) of each email is the one sent.
    first = candidates.group_by("email", use_threads=False).aggregate([("seq", "min")])
    is_first = pc.is_in(candidates["seq"], value_set=first["seq_min"])
    duplicates = candidates.filter(pc.invert(is_first))
    if duplicates.num_rows:
        why_dup = [DUPLICATE_REASON] * duplicates.num_rows
        reports.append(
            _report_rows(duplicates["email"], "duplicate", why_dup, duplicates["segment"], duplicates["row"])
        )
    contacts = candidates.filter(is_first)

    value_errors = 0
    for spec in fields:
        flags = contacts[f"{spec.column}_bad"]
        count = int(pc.sum(flags).as_py() or 0)
        if count:
            flagged = contacts.filter(flags)
            skipped = [f"{spec.attribute}: not a valid {spec.field_type}; the contact was sent without it"] * count
            reports.append(_report_rows(flagged["email"], "field-skipped", skipped, flagged["segment"], flagged["row"]))
            value_errors += count
    contacts = contacts.select(["email", *STANDARD, *(s.column for s in fields)])
    contacts = contacts.append_column("hash", content_hashes(contacts, fingerprint))
    report = pa.concat_tables([r.cast(REPORT_SCHEMA) for r in reports]) if reports else REPORT_SCHEMA.empty_table()
    return RuleResult(
        contacts=contacts,
        report=report,
        rows_read=rows_read,
        invalid=invalid_rows.num_rows + unreadable,
        duplicates=duplicates.num_rows,
        value_errors=value_errors,
    )


def _project(name: str, table: pa.Table, mapping: AttributeMapping, fields: Sequence[FieldSpec]) -> pa.Table:
    """The mapped columns of one segment, normalised, with where each row came from."""
    n = table.num_rows
    raw_email: pa.ChunkedArray[Any] = table[mapping.email]
    columns: dict[str, Any] = {
        "email": normalise(raw_email),
        "email_raw": pc.utf8_trim_whitespace(raw_email),
    }
    for target, attribute in zip(STANDARD, (mapping.first_name, mapping.last_name, mapping.phone), strict=True):
        columns[target] = blank_to_null(table[attribute]) if attribute else pa.nulls(n, pa.string())
    for spec in fields:
        formatted, bad = format_values(table[spec.attribute], spec.field_type)
        columns[spec.column] = formatted
        columns[f"{spec.column}_bad"] = bad
    columns["segment"] = pa.repeat(pa.scalar(name, pa.string()), n)
    columns["row"] = pa.array(range(1, n + 1), pa.int64())
    return pa.table(columns)


def _empty(fields: Sequence[FieldSpec]) -> pa.Table:
    names = ["email", "email_raw", *STANDARD]
    cols: dict[str, Any] = {c: pa.array([], pa.string()) for c in names}
    for spec in fields:
        cols[spec.column] = pa.array([], pa.string())
        cols[f"{spec.column}_bad"] = pa.array([], pa.bool_())
    cols["segment"] = pa.array([], pa.string())
    cols["row"] = pa.array([], pa.int64())
    return pa.table(cols)


def content_hashes(contacts: pa.Table, fingerprint: str) -> pa.Array[Any]:
    """8-byte BLAKE2b of everything we would send for each contact (plus the export's fingerprint)."""
    if contacts.num_rows == 0:
        return pa.array([], pa.binary(8))
    columns = [contacts[name] for name in contacts.column_names]
    joined = pc.binary_join_element_wise(
        pa.scalar(fingerprint), *columns, HASH_SEPARATOR, null_handling="replace", null_replacement=NULL_MARK
    )
    digests = [hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest() for value in joined.to_pylist()]
    return pa.array(digests, pa.binary(8))


def _report_rows(emails: Any, outcome: str, reasons: Any, segment: Any, row: Any) -> pa.Table:
    n = len(emails)
    segments = segment if not isinstance(segment, str) else [segment] * n
    return pa.table(
        {
            "email": pa.array(emails, pa.string()) if isinstance(emails, list) else emails,
            "outcome": pa.array([outcome] * n, pa.string()),
            "reason": pa.array(reasons, pa.string()) if isinstance(reasons, list) else reasons,
            "segment": pa.array(segments, pa.string()) if isinstance(segments, list) else segments,
            "row": pa.array(row, pa.int64()) if isinstance(row, list) else row,
        }
    )


__all__ = ["REPORT_SCHEMA", "FieldSpec", "RuleResult", "SegmentInput", "apply_rules", "content_hashes"]
