"""Give freed memory back to the operating system between the big stages of a run.

pyarrow's allocator (mimalloc) and glibc's malloc both keep freed pages for reuse; in a
long-lived Functions worker that memory would count against the instance for good.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

import pyarrow as pa

logger = logging.getLogger(__name__)
_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name) if _libc_name else None


def release_memory() -> None:
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = getattr(_libc, "malloc_trim", None) if _libc is not None else None
    if trim is not None:
        trim(0)


__all__ = ["release_memory"]
