"""Buckets: the slices of an export's contacts that planning, state and commits work on independently.

A contact's bucket is the top `bits` bits of a 64-bit hash of its normalised email, so every row of one email,
in whatever segment or partition, lands in the same bucket (duplicates always meet), and a bucket at `bits`
is exactly two buckets at `bits + 1`: state written with one bucket count is read with another by taking the
parent bucket's rows (or the children's) and keeping those whose hash falls in range.

The hash is computed on Arrow's string buffers with numpy (splitmix64 over the length and the bytes at both ends),
about twenty times faster than hashing row by row in Python; it only places rows, it is never stored.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import pyarrow as pa

MAX_BITS: Final = 12  # at most 4,096 buckets
ROWS_PER_BUCKET: Final = 250_000  # what one bucket job holds in memory at most, give or take skew
CHUNK_ROWS: Final = 16_384  # rows hashed at a time (bounds the temporary arrays)
WINDOW: Final = 16  # bytes hashed from each end of an email
_PAD: Final = np.zeros(WINDOW, np.uint8)
_EMPTY: Final = np.zeros(0, np.uint8)
_STEPS: Final = np.arange(WINDOW, dtype=np.int32)
_MULTIPLIERS: Final = np.array(  # odd 64-bit constants (the golden ratio's and splitmix64's)
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93, 0xCA5A826395121157],
    dtype=np.uint64,
)


def bits_for(rows: int, *, rows_per_bucket: int = ROWS_PER_BUCKET) -> int:
    """How many bits of the email hash choose the bucket for about `rows` rows (0: one bucket)."""
    if rows <= rows_per_bucket:
        return 0
    return min(MAX_BITS, math.ceil(math.log2(rows / rows_per_bucket)))


def email_hashes(emails: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A well-mixed 64-bit hash of each (normalised, non-null) email."""
    if isinstance(emails, pa.ChunkedArray):
        parts = [email_hashes(chunk) for chunk in emails.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, np.uint64)
    out = np.empty(len(emails), np.uint64)
    for start in range(0, len(emails), CHUNK_ROWS):
        out[start : start + CHUNK_ROWS] = _hash_chunk(emails.slice(start, CHUNK_ROWS))
    return out


def _hash_chunk(chunk: pa.Array[Any]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """Mix each email's length with its first and last WINDOW bytes (all of it for most emails): gathering a
    fixed window per row keeps this a handful of vectorised passes.  Two emails that differ only further than
    WINDOW bytes from both ends share a bucket, which costs balance, never correctness."""
    n = len(chunk)
    if n == 0:
        return np.zeros(0, np.uint64)
    _, offsets_buffer, data_buffer = chunk.buffers()
    assert offsets_buffer is not None  # a string array always has offsets
    offsets = np.frombuffer(memoryview(offsets_buffer), dtype=np.int32)[chunk.offset : chunk.offset + n + 1]
    first = int(offsets[0])
    raw = _EMPTY
    if data_buffer is not None and data_buffer.size:
        raw = np.frombuffer(memoryview(data_buffer), dtype=np.uint8)[first : int(offsets[-1])]
    local = np.concatenate([_PAD, raw, _PAD])  # indices below never leave it
    starts = (offsets[:-1] - first + WINDOW).astype(np.int32)
    ends = (offsets[1:] - first + WINDOW).astype(np.int32)
    head = starts[:, None] + _STEPS
    tail = ends[:, None] - WINDOW + _STEPS
    words = local[head] * (head < ends[:, None])  # bytes past the email's end are zeros, whoever they belong to
    tails = local[tail] * (tail >= starts[:, None])
    lanes = np.concatenate([words, tails], axis=1).view(np.uint64)  # 2 * WINDOW // 8 words per row
    with np.errstate(over="ignore"):
        h = (ends - starts).astype(np.uint64) * _MULTIPLIERS[0]
        for i in range(lanes.shape[1]):
            h ^= lanes[:, i] * _MULTIPLIERS[i + 1]
    return _splitmix(h)


def _splitmix(x: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def buckets_of(hashes: np.ndarray[Any, np.dtype[np.uint64]], bits: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each hash's bucket at `bits` (all 0 for bits=0)."""
    if bits == 0:
        return np.zeros(len(hashes), np.int64)
    return (hashes >> np.uint64(64 - bits)).astype(np.int64)


def in_bucket(hashes: np.ndarray[Any, np.dtype[np.uint64]], bits: int, bucket: int) -> np.ndarray[Any, Any]:
    """A mask of the hashes that fall in `bucket` at `bits`."""
    return np.asarray(buckets_of(hashes, bits) == bucket)


__all__ = ["MAX_BITS", "ROWS_PER_BUCKET", "bits_for", "buckets_of", "email_hashes", "in_bucket"]
