"""The row rules (product.md §5), on Arrow columns, in two stages that bucketed planning runs apart.

1. `check_rows`, on each chunk of each partition as it is read: emails are normalised and checked; an invalid or
   unreadable row is reported (with its segment, partition and 1-based row in the partition) and dropped.  A
   valid row keeps its normalised email, its raw mapped values and an order key (segment, partition, row).
2. `settle_rows`, on all the valid rows of one bucket (every row of one email lands in the same bucket): of the
   rows of one email, the one first in reading order (segment, then partition, then row) is the contact and the
   rest are duplicates; the contact's values are formatted for AC (empty -> null, never "") and hashed.

Every row read ends in exactly one of: invalid (bad email or unreadable row), duplicate, or a contact.
`apply_rules` composes the two on whole segments (one bucket); planning composes them across buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import pyarrow as pa
import pyarrow.compute as pc

from shared.models import AttributeMapping
from shared.pipeline.content_hash import content_hashes
from shared.pipeline.emails import normalise, reason_for, validity
from shared.pipeline.shards import STANDARD_COLUMNS
from shared.pipeline.values import blank_to_null, format_values
from shared.snapshot import BadRow, SnapshotRows
from shared.snapshot.csv_reader import ROW_COLUMN

_REPORT_TYPES: dict[str, pa.DataType] = {
    "email": pa.string(),
    "outcome": pa.string(),
    "reason": pa.string(),
    "segment": pa.string(),
    "partition": pa.string(),
    "row": pa.int64(),
}
REPORT_SCHEMA: Final = pa.schema(_REPORT_TYPES)
DUPLICATE_REASON: Final = "the same email appears earlier in the export's segments"
ORDER: Final = "_order"  # segment << 52 | partition << 36 | row: reading order, and where a row came from
_SEGMENT_SHIFT: Final = 52
_PARTITION_SHIFT: Final = 36
_ROW_MASK: Final = (1 << _PARTITION_SHIFT) - 1


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
class Origin:
    """Where rows come from: the segment's position in the export and its name, the partition's position in the
    segment and its file name (as the report shows it)."""

    segment_index: int
    segment: str
    partition_index: int
    partition: str

    @property
    def base(self) -> int:
        return (self.segment_index << _SEGMENT_SHIFT) | (self.partition_index << _PARTITION_SHIFT)


@dataclass
class CheckedRows:
    valid: pa.Table  # email (normalised), the raw mapped attributes, ORDER
    report: pa.Table  # REPORT_SCHEMA: the invalid and unreadable rows
    rows_read: int
    invalid: int


@dataclass
class RuleResult:
    contacts: pa.Table  # email, first_name, last_name, phone, field_<id>..., hash (binary 8), in reading order
    report: pa.Table  # REPORT_SCHEMA rows: invalid, duplicate and field-skipped
    rows_read: int
    invalid: int
    duplicates: int
    value_errors: int


@dataclass(frozen=True)
class SegmentInput:
    name: str
    rows: SnapshotRows


def check_rows(
    chunk: pa.Table, bad_rows: Sequence[BadRow], rows_read: int, mapping: AttributeMapping, origin: Origin
) -> CheckedRows:
    """Stage 1 on one chunk of a partition (its columns named as the mapping names them, and ROW_COLUMN)."""
    reports: list[pa.Table] = []
    if bad_rows:
        reasons = [f"row unreadable in {b.partition}: {b.reason}" for b in bad_rows]
        reports.append(_report_rows([""] * len(bad_rows), "invalid", reasons, origin, [b.row for b in bad_rows]))
    email = normalise(chunk[mapping.email]).combine_chunks() if chunk.num_rows else pa.array([], pa.string())
    valid = validity(pa.chunked_array([email], pa.string())).combine_chunks()
    invalid_at = pc.indices_nonzero(pc.invert(valid))
    if len(invalid_at):
        raw_email = pc.utf8_trim_whitespace(chunk[mapping.email].take(invalid_at)).to_pylist()
        reasons = [reason_for(e or "") for e in email.take(invalid_at).to_pylist()]
        rows = chunk[ROW_COLUMN].take(invalid_at)
        reports.append(_report_rows([r or "" for r in raw_email], "invalid", reasons, origin, rows))
    attributes = [a for a in dict.fromkeys(mapping.attributes()) if a in chunk.column_names]
    kept = chunk.filter(valid)
    columns: dict[str, Any] = {"email": email.filter(valid)}
    for attribute in attributes:
        if attribute != "email":
            columns[attribute] = kept[attribute]
    columns[ORDER] = pc.add(kept[ROW_COLUMN], pa.scalar(origin.base, pa.int64()))
    report = pa.concat_tables([r.cast(REPORT_SCHEMA) for r in reports]) if reports else REPORT_SCHEMA.empty_table()
    return CheckedRows(pa.table(columns), report, rows_read, len(invalid_at) + len(bad_rows))


def settle_rows(
    rows: pa.Table,
    mapping: AttributeMapping,
    fields: Sequence[FieldSpec],
    fingerprint: str,
    origins: Sequence[Origin],
) -> tuple[pa.Table, pa.Table, int, int]:
    """Stage 2 on every valid row of one bucket: (contacts, report, duplicates, value errors).

    Contacts come out in reading order (by ORDER).  `origins` names the partitions that ORDER points to."""
    if rows.num_rows == 0:
        return _contacts(rows, mapping, fields, fingerprint)[0], REPORT_SCHEMA.empty_table(), 0, 0
    rows = rows.take(pc.sort_indices(rows, [(ORDER, "ascending")]))  # reading order
    keep = first_occurrences(rows["email"].combine_chunks())
    reports: list[pa.Table] = []
    duplicates = rows.filter(pc.invert(keep))
    if duplicates.num_rows:
        reports.append(_located(duplicates, "duplicate", DUPLICATE_REASON, origins))
    contacts, skipped = _contacts(rows.filter(keep), mapping, fields, fingerprint, origins)
    reports.extend(skipped)
    value_errors = sum(r.num_rows for r in skipped)
    report = pa.concat_tables([r.cast(REPORT_SCHEMA) for r in reports]) if reports else REPORT_SCHEMA.empty_table()
    return contacts, report, duplicates.num_rows, value_errors


def _contacts(
    rows: pa.Table,
    mapping: AttributeMapping,
    fields: Sequence[FieldSpec],
    fingerprint: str,
    origins: Sequence[Origin] = (),
) -> tuple[pa.Table, list[pa.Table]]:
    """The contacts' columns formatted for AC, with their content hash; report rows of unconvertible values."""
    n = rows.num_rows
    columns: dict[str, Any] = {"email": rows["email"] if n else pa.array([], pa.string())}
    for target, attribute in zip(STANDARD_COLUMNS, (mapping.first_name, mapping.last_name, mapping.phone), strict=True):
        columns[target] = blank_to_null(rows[attribute]) if attribute and n else pa.nulls(n, pa.string())
    skipped: list[pa.Table] = []
    for spec in fields:
        raw = rows[spec.attribute] if n else pa.chunked_array([pa.array([], pa.string())])
        formatted, flags = format_values(raw, spec.field_type)
        columns[spec.column] = formatted
        if n and pc.any(flags).as_py():
            reason = f"{spec.attribute}: not a valid {spec.field_type}; the contact was sent without it"
            skipped.append(_located(rows.filter(flags), "field-skipped", reason, origins))
    contacts = pa.table(columns)
    return contacts.append_column("hash", content_hashes(contacts, fingerprint)), skipped


def apply_rules(
    inputs: list[SegmentInput], mapping: AttributeMapping, fields: Sequence[FieldSpec], fingerprint: str
) -> RuleResult:
    """Both stages on whole segments (each one partition), as one bucket: the reference composition."""
    origins = [Origin(i, seg.name, 0, seg.name) for i, seg in enumerate(inputs)]
    checked: list[CheckedRows] = []
    for seg, origin in zip(inputs, origins, strict=True):
        table = seg.rows.table
        numbered = table.append_column(ROW_COLUMN, pa.array(range(1, table.num_rows + 1), pa.int64()))
        if table.num_rows == 0 and mapping.email not in table.column_names:
            numbered = _empty_input(mapping, fields)
        checked.append(check_rows(numbered, seg.rows.bad_rows, seg.rows.rows_read, mapping, origin))
    inputs.clear()
    valid = [c.valid for c in checked if c.valid.num_rows]
    rows = pa.concat_tables(valid) if valid else empty_valid(mapping)
    contacts, report, duplicates, value_errors = settle_rows(rows, mapping, fields, fingerprint, origins)
    reports = [c.report for c in checked if c.report.num_rows]
    return RuleResult(
        contacts=contacts,
        report=pa.concat_tables([*reports, report]) if reports else report,
        rows_read=sum(c.rows_read for c in checked),
        invalid=sum(c.invalid for c in checked),
        duplicates=duplicates,
        value_errors=value_errors,
    )


def first_occurrences(values: pa.Array[Any]) -> pa.Array[Any]:
    """True where a value appears for the first time (reading order).  A stable sort puts equal values next to
    each other in reading order, so the first of each run is the first occurrence; no hash table is built."""
    n = len(values)
    if n == 0:
        return pa.array([], pa.bool_())
    order = pc.sort_indices(values)
    ordered = values.take(order)
    differs = pc.fill_null(pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1)), True)
    first_in_order = pa.concat_arrays([pa.array([True]), differs])
    inverse = pc.sort_indices(order)  # `order` is a permutation: sorting it gives its inverse
    return cast("pa.Array[Any]", first_in_order.take(inverse))


def _empty_input(mapping: AttributeMapping, fields: Sequence[FieldSpec]) -> pa.Table:
    names = dict.fromkeys([*mapping.attributes(), *(f.attribute for f in fields)])
    table = pa.table({name: pa.array([], pa.string()) for name in names})
    return table.append_column(ROW_COLUMN, pa.array([], pa.int64()))


def empty_valid(mapping: AttributeMapping) -> pa.Table:
    columns: dict[str, Any] = {"email": pa.array([], pa.string())}
    columns.update({a: pa.array([], pa.string()) for a in mapping.attributes() if a != "email"})
    columns[ORDER] = pa.array([], pa.int64())
    return pa.table(columns)


def _located(rows: pa.Table, outcome: str, reason: str, origins: Sequence[Origin]) -> pa.Table:
    """Report rows for `rows` (with ORDER), each named by its segment, partition and row."""
    order = rows[ORDER].combine_chunks()
    keys = pc.shift_right(order, pa.scalar(_PARTITION_SHIFT, pa.int64())).to_pylist()
    by_key = {origin.base >> _PARTITION_SHIFT: origin for origin in origins}
    located = [by_key.get(k) for k in keys]
    segments = pa.array([o.segment if o else None for o in located], pa.string())
    partitions = pa.array([o.partition if o else None for o in located], pa.string())
    numbers = pc.bit_wise_and(order, pa.scalar(_ROW_MASK, pa.int64()))
    n = rows.num_rows
    return pa.table(
        {
            "email": truncated(rows["email"].combine_chunks()),
            "outcome": pa.repeat(pa.scalar(outcome), n),
            "reason": pa.repeat(pa.scalar(reason), n),
            "segment": segments,
            "partition": partitions,
            "row": numbers,
        }
    ).cast(REPORT_SCHEMA)


def _report_rows(emails: list[str], outcome: str, reasons: list[str], origin: Origin, rows: Any) -> pa.Table:
    n = len(emails)
    return pa.table(
        {
            "email": truncated(pa.array(emails, pa.string())),
            "outcome": pa.repeat(pa.scalar(outcome), n),
            "reason": pa.array(reasons, pa.string()),
            "segment": pa.repeat(pa.scalar(origin.segment), n),
            "partition": pa.repeat(pa.scalar(origin.partition), n),
            "row": pa.array(rows, pa.int64()) if isinstance(rows, list) else rows,
        }
    ).cast(REPORT_SCHEMA)


REPORT_VALUE_LIMIT: Final = 320  # what the report echoes of a raw value (a 1 MB value breaks CSV readers)


def truncated(values: Any) -> Any:
    """Values longer than REPORT_VALUE_LIMIT cut there, with an ellipsis."""
    long = pc.greater(pc.utf8_length(values), REPORT_VALUE_LIMIT)
    if not pc.any(long).as_py():
        return values
    cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(values, 0, REPORT_VALUE_LIMIT), pa.scalar("…"), "")
    return pc.if_else(long, cut, values)


__all__ = [
    "ORDER",
    "REPORT_SCHEMA",
    "CheckedRows",
    "FieldSpec",
    "Origin",
    "RuleResult",
    "SegmentInput",
    "apply_rules",
    "check_rows",
    "empty_valid",
    "settle_rows",
]
