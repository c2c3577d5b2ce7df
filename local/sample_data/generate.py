"""Generate CI-style profile rows, vectorised with pyarrow compute, reproducible by seed.

Every row knows what it is (hidden columns, never written): `_kind` 0 = valid, 1 = invalid
email, 2 = duplicate of an earlier row's email (different case and/or surrounding spaces),
`_detail` = the kind of invalid email or the CustomerId of the row it duplicates, `_segment` =
the index of its segment.  Rows are in export reading order: segment by segment, and a
duplicate always comes after the row it copies, so "first occurrence wins" picks the original.

Valid emails are unique after trim + lowercase by construction (the digits before `@` are a
bijection of the profile number, and names contribute letters only), so the oracle needs no
email validator of its own.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from local.sample_data.arrow import Column, arange, as_column, index, pick, uniform
from local.sample_data.kinds import DUPLICATE, VALID, assign_kinds, duplicate_variant, invalid_email
from local.sample_data.names import (
    BIRTH_SPAN_DAYS,
    BIRTH_VOCAB,
    DIGITS_3,
    DIGITS_4,
    DOMAINS,
    EMPTIES,
    FIRST_NAMES,
    FIRST_PARTS,
    FIRST_VOCAB,
    INTEREST_VOCAB,
    LAST_NAMES,
    LAST_SLUGS,
    LAST_VOCAB,
    PHONE_STYLES,
    SEPARATORS,
    TIER_VOCAB,
)

COLUMNS: Final = ("CustomerId", "Email", "FirstName", "LastName", "Phone", "BirthDate", "Tier", "Interests")
OPTIONAL: Final = ("FirstName", "LastName", "Phone", "BirthDate", "Tier", "Interests")
HIDDEN: Final = ("_segment", "_kind", "_detail")
EMAIL_NUMBER_MODULUS: Final = 100_000_000  # x -> (7919x + 12345) mod 10^8 is a bijection (7919 is coprime to 10)


@dataclass(frozen=True)
class SampleOptions:
    profiles: int = 100_000
    seed: int = 42
    segments: tuple[str, ...] = ("ActiveCustomers",)
    partitions: int = 4  # per segment
    parquet_partitions: int = 0  # how many of each segment's partitions are Parquet (the last ones)
    header: bool = False
    bom: bool = True
    invalid_rate: float = 0.01
    duplicate_rate: float = 0.01
    empty_rate: float = 0.03  # per optional field: about this share missing, a fifth of it "" (empty string)

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Sample:
    options: SampleOptions
    table: pa.Table  # COLUMNS + HIDDEN, in reading order
    next_id: int  # the profile number the next new profile gets
    key: str = field(default="")  # identifies the content (cache key)

    def segment_table(self, segment: int) -> pa.Table:
        return self.table.filter(pc.equal(self.table.column("_segment"), segment))


def generate(options: SampleOptions) -> Sample:
    if options.profiles < 1 or not options.segments or options.partitions < 1:
        raise ValueError("need at least one profile, one segment and one partition")
    if not 0 <= options.parquet_partitions <= options.partitions:
        raise ValueError("parquet_partitions must be between 0 and partitions")
    n = options.profiles
    ids = arange(n)
    columns = profile_columns(ids, options.seed, stream=1, empty_rate=options.empty_rate)
    kinds, details, sources = assign_kinds(n, options.seed, options.invalid_rate, options.duplicate_rate)
    # A duplicate is the same person again: it copies its source's names (and email, varied), not its CustomerId.
    is_duplicate = pc.equal(kinds, DUPLICATE)
    source_index = pc.replace_with_mask(ids, is_duplicate, pa.array(list(sources.values()), pa.int64()))
    for name in ("FirstName", "LastName"):
        columns[name] = as_column(pc.take(columns[name], source_index))
    positions = sorted(details)
    if positions:
        rng = random.Random(options.seed * 7 + 3)
        wanted = sorted(set(sources.values()))
        taken = pc.take(columns["Email"], pa.array(wanted, pa.int64())).to_pylist()
        originals = dict(zip(wanted, taken, strict=True))
        parts = pc.take(columns["_parts"], pa.array(positions, pa.int64())).to_pylist()
        replaced = [
            duplicate_variant(originals[sources[i]], rng) if i in sources else invalid_email(details[i], part, rng)
            for i, part in zip(positions, parts, strict=True)
        ]
        columns["Email"] = as_column(
            pc.replace_with_mask(columns["Email"], pc.not_equal(kinds, VALID), pa.array(replaced, pa.string()))
        )
    segment = pc.cast(pc.divide(pc.multiply(ids, len(options.segments)), n), pa.int16())
    detail = pc.replace_with_mask(
        pa.nulls(n, pa.string()), pc.not_equal(kinds, VALID), pa.array([details[i] for i in positions], pa.string())
    )
    table = pa.table({**{c: columns[c] for c in COLUMNS}, "_segment": segment, "_kind": kinds, "_detail": detail})
    return Sample(options, table, next_id=n, key=options.key())


def profile_columns(ids: Column, seed: int, *, stream: int, empty_rate: float) -> dict[str, Column]:
    """Valid profiles for profile numbers `ids`, plus `_parts` (the email before styling)."""
    n = len(ids)
    first_i = index(n, len(FIRST_NAMES), seed, stream, 1)
    last_i = index(n, len(LAST_NAMES), seed, stream, 2)
    use_initial = pc.cast(pc.less(uniform(n, seed, stream, 3), 0.2), pa.int64())
    number = pc.cast(pc.modulo(pc.add(pc.multiply(ids, 7_919), 12_345), EMAIL_NUMBER_MODULUS), pa.string())
    plain = as_column(
        pc.binary_join_element_wise(
            pc.take(FIRST_PARTS, pc.add(first_i, pc.multiply(use_initial, len(FIRST_NAMES)))),
            pick(SEPARATORS, n, seed, stream, 4),
            pc.take(LAST_SLUGS, last_i),
            number,
            "@",
            pick(DOMAINS, n, seed, stream, 5),
            "",
        )
    )
    customer = pc.utf8_replace_slice(pc.cast(pc.add(ids, 1_000_000_000), pa.string()), 0, 1, "CUST-")
    draw = [uniform(n, seed, stream, 20 + i) for i in range(len(OPTIONAL))]
    birth = index(n, BIRTH_SPAN_DAYS, seed, stream, 7)
    columns = {
        "CustomerId": as_column(customer),
        "Email": _styled(plain, uniform(n, seed, stream, 6)),
        "FirstName": _vocab_take(FIRST_VOCAB, first_i, draw[0], empty_rate),
        "LastName": _vocab_take(LAST_VOCAB, last_i, draw[1], empty_rate),
        "Phone": _with_empties(phones(n, seed, stream), draw[2], empty_rate),
        "BirthDate": _vocab_take(BIRTH_VOCAB, birth, draw[3], empty_rate),
        "Tier": _vocab_take(TIER_VOCAB, index(n, len(TIER_VOCAB) - 2, seed, stream, 8), draw[4], empty_rate),
        "Interests": _vocab_take(
            INTEREST_VOCAB, index(n, len(INTEREST_VOCAB) - 2, seed, stream, 9), draw[5], empty_rate
        ),
    }
    return {**columns, "_parts": plain}


def phones(n: int, seed: int, stream: int) -> Column:
    """Phone numbers in a few common North American formats."""
    style = index(n, len(PHONE_STYLES), seed, stream, 30)
    return as_column(
        pc.binary_join_element_wise(
            pc.take(pa.array([s[0] for s in PHONE_STYLES]), style),
            pc.cast(pc.add(index(n, 800, seed, stream, 31), 200), pa.string()),
            pc.take(pa.array([s[1] for s in PHONE_STYLES]), style),
            pc.take(DIGITS_3, index(n, 1000, seed, stream, 32)),
            pc.take(pa.array([s[2] for s in PHONE_STYLES]), style),
            pc.take(DIGITS_4, index(n, 10_000, seed, stream, 33)),
            "",
        )
    )


def _styled(emails: Column, u: Column) -> Column:
    """About 3% capitalised, 1% upper case, 0.5% with surrounding spaces (still valid after trim + lowercase)."""
    mask = pc.or_(pc.less(u, 0.03), pc.greater(u, 0.985))
    positions = pc.indices_nonzero(mask)
    if len(positions) == 0:
        return emails
    values = pc.take(emails, positions).to_pylist()
    draws = pc.take(u, positions).to_pylist()
    styled = [
        e.capitalize() if d < 0.03 else e.upper() if d > 0.99 else f" {e}  " for e, d in zip(values, draws, strict=True)
    ]
    return as_column(pc.replace_with_mask(emails, mask, pa.array(styled, pa.string())))


def _vocab_take(vocab: Column, positions: Column, u: Column, empty_rate: float) -> Column:
    """vocab[positions], except about `empty_rate` missing (vocab[-2] is null) and a fifth of that "" (vocab[-1])."""
    size = len(vocab) - 2
    positions = pc.if_else(pc.greater(u, 1 - empty_rate), size, positions)
    positions = pc.if_else(pc.less(u, empty_rate / 5), size + 1, positions)
    return as_column(pc.take(vocab, positions))


def _with_empties(values: Column, u: Column, empty_rate: float) -> Column:
    empty = pc.take(EMPTIES, pc.cast(pc.less(u, empty_rate / 5), pa.int64()))
    return as_column(pc.if_else(pc.or_(pc.greater(u, 1 - empty_rate), pc.less(u, empty_rate / 5)), empty, values))


__all__ = [
    "COLUMNS",
    "HIDDEN",
    "OPTIONAL",
    "Sample",
    "SampleOptions",
    "generate",
    "phones",
    "profile_columns",
]
