"""The generator's own answer key: which rows are valid, invalid or duplicates, and where they are.

Built from what the generator did (hidden columns), never from an email validator, so the
demo and the tests can check the product's validator and dedupe against it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from local.sample_data.arrow import AnyColumn, Column
from local.sample_data.generate import Sample
from local.sample_data.kinds import DUPLICATE, INVALID, VALID


@dataclass(frozen=True)
class Oracle:
    rows: int
    invalid: int
    duplicates: int
    expected_emails: Column  # unique valid emails, trimmed and lowercased, unordered
    invalid_rows: pa.Table  # CustomerId, segment, partition, row, kind
    duplicate_rows: pa.Table  # CustomerId, segment, partition, row, duplicate_of (a CustomerId)

    @property
    def expected_unique(self) -> int:
        return len(self.expected_emails)

    def expected_set(self) -> frozenset[str]:
        """The expected emails as a Python set (fine for tests; for 1M rows prefer `expected_emails`)."""
        return frozenset(str(v) for v in self.expected_emails.to_pylist())


def partition_bounds(rows: int, partitions: int) -> list[tuple[int, int]]:
    """[start, stop) of each partition when `rows` rows are split as evenly as possible."""
    return [(p * rows // partitions, (p + 1) * rows // partitions) for p in range(partitions)]


def normalise(emails: AnyColumn) -> AnyColumn:
    """Trim spaces, lowercase: how the product matches emails (product.md 5)."""
    return cast(AnyColumn, pc.utf8_lower(pc.utf8_trim(emails, " ")))


def oracle(sample: Sample) -> Oracle:
    table = sample.table
    kinds = table.column("_kind")
    valid = table.filter(pc.equal(kinds, VALID))
    expected = pc.unique(normalise(valid.column("Email")))
    if len(expected) != valid.num_rows:
        raise AssertionError("the generator made two valid rows with the same email")
    return Oracle(
        rows=table.num_rows,
        invalid=int(pc.sum(pc.equal(kinds, INVALID)).as_py() or 0),
        duplicates=int(pc.sum(pc.equal(kinds, DUPLICATE)).as_py() or 0),
        expected_emails=expected,
        invalid_rows=_located(sample, INVALID, "kind"),
        duplicate_rows=_located(sample, DUPLICATE, "duplicate_of"),
    )


def _located(sample: Sample, kind: int, detail_name: str) -> pa.Table:
    """Rows of one kind with their segment name, 1-based partition and 1-based row within the partition."""
    out: dict[str, list[object]] = {"CustomerId": [], "segment": [], "partition": [], "row": [], detail_name: []}
    for index, name in enumerate(sample.options.segments):
        part = sample.segment_table(index)
        bounds = partition_bounds(part.num_rows, sample.options.partitions)
        starts = [b[0] for b in bounds]
        positions = pc.indices_nonzero(pc.equal(part.column("_kind"), kind)).to_pylist()
        if not positions:
            continue
        picked = part.select(["CustomerId", "_detail"]).take(positions).to_pylist()
        for position, row in zip(positions, picked, strict=True):
            p = bisect.bisect_right(starts, position) - 1
            out["CustomerId"].append(row["CustomerId"])
            out["segment"].append(name)
            out["partition"].append(p + 1)
            out["row"].append(position - starts[p] + 1)
            out[detail_name].append(row["_detail"])
    return pa.table(
        {
            "CustomerId": pa.array(out["CustomerId"], pa.string()),
            "segment": pa.array(out["segment"], pa.string()),
            "partition": pa.array(out["partition"], pa.int32()),
            "row": pa.array(out["row"], pa.int64()),
            detail_name: pa.array(out[detail_name], pa.string()),
        }
    )


__all__ = ["Oracle", "normalise", "oracle", "partition_bounds"]
