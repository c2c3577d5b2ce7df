"""What we would send for a contact, as an 8-byte BLAKE2b: the incremental state keeps it to see changes.

The digest covers the export's fingerprint and every mapped value, joined with HASH_SEPARATOR (NULL_MARK for a
null).  State written by earlier runs holds these digests, so the way they are computed never changes: any
other digest would make every contact look changed and be sent again (tests/pipeline/test_rules.py pins it).
"""

from __future__ import annotations

import hashlib
from itertools import pairwise
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HASH_SEPARATOR: Final = "\x1f"
NULL_MARK: Final = "\x00"
HASH_CHUNK: Final = 131_072  # rows hashed at a time: bounds the Python strings alive at once


def content_hashes(contacts: pa.Table, fingerprint: str) -> pa.Array[Any]:
    """8-byte BLAKE2b of everything we would send for each contact (plus the export's fingerprint)."""
    digests: list[bytes] = []
    blake2b = hashlib.blake2b
    for start in range(0, contacts.num_rows, HASH_CHUNK):
        part = contacts.slice(start, HASH_CHUNK)
        columns = [part[name] for name in part.column_names]
        joined = pc.binary_join_element_wise(
            pa.scalar(fingerprint), *columns, HASH_SEPARATOR, null_handling="replace", null_replacement=NULL_MARK
        ).combine_chunks()
        # each row's UTF-8 bytes straight from Arrow's buffers: no str per row, no encode
        _, offsets_buffer, data_buffer = joined.buffers()
        assert offsets_buffer is not None  # a string array always has offsets
        width = np.int64 if pa.types.is_large_string(joined.type) else np.int32
        offsets = np.frombuffer(offsets_buffer, width)[joined.offset : joined.offset + len(joined) + 1].tolist()
        data = memoryview(data_buffer if data_buffer is not None else b"")
        digests.append(b"".join([blake2b(data[a:b], digest_size=8).digest() for a, b in pairwise(offsets)]))
    return pa.Array.from_buffers(pa.binary(8), contacts.num_rows, [None, pa.py_buffer(b"".join(digests))])


__all__ = ["HASH_CHUNK", "HASH_SEPARATOR", "NULL_MARK", "content_hashes"]
