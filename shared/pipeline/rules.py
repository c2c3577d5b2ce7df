"""The row rules (product.md §5) across all segments of an export, on Arrow columns.

Every row read ends in exactly one bucket here: invalid (bad email or unreadable
row), duplicate (its normalised email came earlier, in this or an earlier segment)
or a contact.  Contacts carry the mapped values formatted for AC (empty -> null,
never ""), and a hash of what we would send, for the incremental diff.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import pyarrow as pa
import pyarrow.compute as pc

from shared.memory import release_memory
from shared.models import AttributeMapping
from shared.pipeline.emails import normalise, reason_for, validity
from shared.pipeline.shards import STANDARD_COLUMNS
from shared.pipeline.values import blank_to_null, format_values
from shared.snapshot import SnapshotRows

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
    inputs: list[SegmentInput], mapping: AttributeMapping, fields: Sequence[FieldSpec], fingerprint: str
) -> RuleResult:
    """Memory: the raw columns are filtered once, at the end; everything else is one column or a mask.
    `inputs` is emptied: the segments' raw columns are freed as soon as the contacts are built."""
    segments = list(inputs)
    inputs.clear()
    reports: list[pa.Table] = []
    unreadable = 0
    for seg in segments:
        for bad_row in seg.rows.bad_rows:
            why = f"row unreadable in {bad_row.partition}: {bad_row.reason}"
            reports.append(_report_rows([""], "invalid", [why], seg.name, [bad_row.row]))
            unreadable += 1
    tables = [seg.rows.table for seg in segments]
    rows_read = sum(seg.rows.rows_read for seg in segments)
    names = [seg.name for seg in segments]
    del segments
    starts = [0]
    for table in tables:
        starts.append(starts[-1] + table.num_rows)
    raw = pa.concat_tables(tables) if tables else _empty_input(mapping, fields)
    del tables

    email = normalise(raw[mapping.email]).combine_chunks()
    valid = validity(pa.chunked_array([email])).combine_chunks()
    invalid_at = pc.indices_nonzero(pc.invert(valid)).to_pylist()
    if invalid_at:
        raw_email = pc.utf8_trim_whitespace(raw[mapping.email].take(invalid_at)).to_pylist()
        reasons = [reason_for(e or "") for e in email.take(invalid_at).to_pylist()]
        where = [_where(i, starts, names) for i in invalid_at]
        reports.append(
            _report_rows([r or "" for r in raw_email], "invalid", reasons, [w[0] for w in where], [w[1] for w in where])
        )

    keep = pc.and_(valid, first_occurrences(pc.if_else(valid, email, pa.scalar(None, pa.string()))))
    duplicate_at = pc.indices_nonzero(pc.and_(valid, pc.invert(keep))).to_pylist()
    if duplicate_at:
        where = [_where(i, starts, names) for i in duplicate_at]
        dup = _report_rows(
            email.take(duplicate_at),
            "duplicate",
            [DUPLICATE_REASON] * len(duplicate_at),
            [w[0] for w in where],
            [w[1] for w in where],
        )
        reports.append(dup)
    release_memory()

    columns: dict[str, Any] = {"email": email.filter(keep)}
    del email
    for target, attribute in zip(STANDARD_COLUMNS, (mapping.first_name, mapping.last_name, mapping.phone), strict=True):
        n = columns["email"].__len__()
        columns[target] = blank_to_null(raw[attribute].filter(keep)) if attribute else pa.nulls(n, pa.string())
    value_errors = 0
    for spec in fields:
        formatted, flags = format_values(raw[spec.attribute].filter(keep), spec.field_type)
        columns[spec.column] = formatted
        count = int(pc.sum(flags).as_py() or 0)
        if count:
            at = pc.indices_nonzero(flags)
            kept_rows = pc.indices_nonzero(keep)
            where = [_where(i, starts, names) for i in kept_rows.take(at).to_pylist()]
            skipped = [f"{spec.attribute}: not a valid {spec.field_type}; the contact was sent without it"] * count
            reports.append(
                _report_rows(
                    columns["email"].take(at), "field-skipped", skipped, [w[0] for w in where], [w[1] for w in where]
                )
            )
            value_errors += count
    del raw
    release_memory()
    contacts = pa.table(columns)
    contacts = contacts.append_column("hash", content_hashes(contacts, fingerprint))
    report = pa.concat_tables([r.cast(REPORT_SCHEMA) for r in reports]) if reports else REPORT_SCHEMA.empty_table()
    return RuleResult(
        contacts=contacts,
        report=report,
        rows_read=rows_read,
        invalid=len(invalid_at) + unreadable,
        duplicates=len(duplicate_at),
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


def _where(index: int, starts: list[int], names: list[str]) -> tuple[str, int]:
    """(segment, 1-based row) of a row of the concatenated segments."""
    segment = bisect.bisect_right(starts, index) - 1
    return names[segment], index - starts[segment] + 1


def _empty_input(mapping: AttributeMapping, fields: Sequence[FieldSpec]) -> pa.Table:
    names = dict.fromkeys([*mapping.attributes(), *(f.attribute for f in fields)])
    return pa.table({name: pa.array([], pa.string()) for name in names})


HASH_CHUNK: Final = 131_072  # rows hashed at a time: bounds the Python strings alive at once


def content_hashes(contacts: pa.Table, fingerprint: str) -> pa.Array[Any]:
    """8-byte BLAKE2b of everything we would send for each contact (plus the export's fingerprint)."""
    digests = bytearray(8 * contacts.num_rows)  # one buffer, not a million small bytes objects
    at = 0
    for start in range(0, contacts.num_rows, HASH_CHUNK):
        part = contacts.slice(start, HASH_CHUNK)
        columns = [part[name] for name in part.column_names]
        joined = pc.binary_join_element_wise(
            pa.scalar(fingerprint), *columns, HASH_SEPARATOR, null_handling="replace", null_replacement=NULL_MARK
        )
        for value in joined.to_pylist():
            digests[at : at + 8] = hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest()
            at += 8
    return pa.Array.from_buffers(pa.binary(8), contacts.num_rows, [None, pa.py_buffer(digests)])


def _report_rows(emails: Any, outcome: str, reasons: Any, segment: Any, row: Any) -> pa.Table:
    n = len(emails)
    segments = segment if not isinstance(segment, str) else [segment] * n
    return pa.table(
        {
            "email": truncated(pa.array(emails, pa.string()) if isinstance(emails, list) else emails),
            "outcome": pa.array([outcome] * n, pa.string()),
            "reason": pa.array(reasons, pa.string()) if isinstance(reasons, list) else reasons,
            "segment": pa.array(segments, pa.string()) if isinstance(segments, list) else segments,
            "row": pa.array(row, pa.int64()) if isinstance(row, list) else row,
        }
    )


REPORT_VALUE_LIMIT: Final = 320  # what the report echoes of a raw value (a 1 MB value breaks CSV readers)


def truncated(values: Any) -> Any:
    """Values longer than REPORT_VALUE_LIMIT cut there, with an ellipsis."""
    long = pc.greater(pc.utf8_length(values), REPORT_VALUE_LIMIT)
    if not pc.any(long).as_py():
        return values
    cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(values, 0, REPORT_VALUE_LIMIT), pa.scalar("…"), "")
    return pc.if_else(long, cut, values)


__all__ = ["REPORT_SCHEMA", "FieldSpec", "RuleResult", "SegmentInput", "apply_rules", "content_hashes"]
