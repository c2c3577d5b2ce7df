"""Small pyarrow helpers for the generator: typed results, arange, seeded uniform draws and picks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

import pyarrow as pa
import pyarrow.compute as pc

Column: TypeAlias = "pa.Array[Any]"
Chunked: TypeAlias = "pa.ChunkedArray[Any]"
AnyColumn: TypeAlias = "pa.Array[Any] | pa.ChunkedArray[Any]"


def as_column(value: object) -> Column:
    """pyarrow.compute results are typed loosely by the stubs; they are arrays here."""
    return cast(Column, value)


def arange(n: int, start: int = 0) -> Column:
    """start, start+1, ... as int64 (pyarrow has no arange)."""
    if n == 0:
        return pa.array([], pa.int64())
    return as_column(pc.add(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), start - 1))


def uniform(n: int, seed: int, stream: int, column: int) -> Column:
    """n reproducible draws in [0, 1); (seed, stream, column) picks an independent sequence."""
    if n == 0:
        return pa.array([], pa.float64())
    return as_column(pc.random(n, initializer=(seed * 1_000_003 + stream * 10_007 + column * 101) % 2**31))


def index(n: int, size: int, seed: int, stream: int, column: int) -> Column:
    """n reproducible integers in [0, size)."""
    return as_column(pc.cast(pc.floor(pc.multiply(uniform(n, seed, stream, column), size)), pa.int64()))


def pick(values: Sequence[str] | Column, n: int, seed: int, stream: int, column: int) -> Column:
    """n reproducible picks from `values`."""
    array = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    return as_column(pc.take(array, index(n, len(array), seed, stream, column)))


__all__ = ["AnyColumn", "Chunked", "Column", "arange", "as_column", "index", "pick", "uniform"]
