"""Produce the next snapshot of a sample: some profiles changed, some new, some gone, with exact change sets.

Only valid rows that no duplicate copies are changed or removed, so every change is visible
to a pipeline that keeps the first occurrence of an email: a changed row's email is held by
that row alone, and a removed row's email disappears from the snapshot.  Changes are a new
last name and/or a new phone number, always different from the old value.  New profiles are
valid, get fresh profile numbers (so fresh emails) and go to the end of a random segment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from local.sample_data.arrow import AnyColumn, Chunked, Column, arange, as_column, uniform
from local.sample_data.arrow import index as arrow_index
from local.sample_data.generate import COLUMNS, Sample, phones, profile_columns
from local.sample_data.kinds import DUPLICATE, VALID
from local.sample_data.names import LAST_NAMES, LAST_VOCAB
from local.sample_data.oracle import normalise


@dataclass(frozen=True)
class Mutation:
    sample: Sample
    changed: frozenset[str]  # normalised emails whose profile changed
    added: frozenset[str]  # normalised emails of new profiles
    removed: frozenset[str]  # normalised emails no longer in the snapshot


def mutate(
    sample: Sample, *, seed: int = 1, change_rate: float = 0.01, add_rate: float = 0.01, remove_rate: float = 0.01
) -> Mutation:
    table = sample.table
    n = table.num_rows
    key = hashlib.sha256(f"{sample.key}:{seed}:{change_rate}:{add_rate}:{remove_rate}".encode()).hexdigest()[:20]
    base = int(key[:7], 16)
    kinds = table.column("_kind")
    sources = pc.unique(table.filter(pc.equal(kinds, DUPLICATE)).column("_detail"))
    eligible = pc.and_(pc.equal(kinds, VALID), pc.invert(pc.is_in(table.column("CustomerId"), sources)))
    removed = pc.and_(eligible, pc.less(uniform(n, base, 1, 1), remove_rate))
    changed = pc.and_(pc.and_(eligible, pc.invert(removed)), pc.less(uniform(n, base, 1, 2), change_rate))
    what = uniform(n, base, 1, 3)
    new_last = _new_last_names(table.column("LastName"), base)
    new_phone = _different(table.column("Phone"), phones(n, base, 1))
    last = pc.if_else(pc.and_(changed, pc.less(what, 0.5)), new_last, table.column("LastName"))
    phone = pc.if_else(pc.and_(changed, pc.greater_equal(what, 0.4)), new_phone, table.column("Phone"))
    table = table.set_column(table.schema.get_field_index("LastName"), "LastName", last)
    table = table.set_column(table.schema.get_field_index("Phone"), "Phone", phone)
    changed_emails = table.filter(changed).column("Email")
    removed_emails = table.filter(removed).column("Email")
    kept = table.filter(pc.invert(removed))

    count = round(n * add_rate)
    ids = arange(count, sample.next_id)
    fresh = profile_columns(ids, base, stream=2, empty_rate=sample.options.empty_rate)
    segments = pc.cast(pc.floor(pc.multiply(uniform(count, base, 1, 4), len(sample.options.segments))), pa.int16())
    added = pa.table(
        {
            **{c: fresh[c] for c in COLUMNS},
            "_segment": segments,
            "_kind": pa.repeat(pa.scalar(VALID, pa.int8()), count),
            "_detail": pa.nulls(count, pa.string()),
        }
    )
    combined = pa.concat_tables([kept, added])
    ordered = combined.take(pc.sort_indices(combined, sort_keys=[("_segment", "ascending")]))  # a stable sort
    return Mutation(
        sample=Sample(sample.options, ordered, next_id=sample.next_id + count, key=key),
        changed=_emails(changed_emails),
        added=_emails(added.column("Email")),
        removed=_emails(removed_emails),
    )


def _new_last_names(old: Chunked, seed: int) -> Column:
    """A random last name per row, never the row's current one (the next name in the list instead)."""
    index = arrow_index(len(old), len(LAST_NAMES), seed, 1, 5)
    drawn = pc.take(LAST_VOCAB, index)
    same = pc.fill_null(pc.equal(old, drawn), False)
    return as_column(pc.if_else(same, pc.take(LAST_VOCAB, pc.modulo(pc.add(index, 1), len(LAST_NAMES))), drawn))


def _different(old: Chunked, new: Column) -> Column:
    """`new`, except where it equals `old` (about 1 in 10^10 for phones): there `new` + "-2"."""
    same = pc.fill_null(pc.equal(old, new), False)
    return as_column(pc.if_else(same, pc.binary_join_element_wise(new, "-2", ""), new))


def _emails(values: AnyColumn) -> frozenset[str]:
    return frozenset(str(v) for v in normalise(values).to_pylist() if v is not None)


__all__ = ["Mutation", "mutate"]
