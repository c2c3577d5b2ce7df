"""Give freed memory back to the operating system between the big stages of a run.

Arrow allocates through glibc's malloc here (its system pool), not its default mimalloc:
planning runs in worker threads, and mimalloc kept ~300 MB of their freed pages for the
life of the process (measured: the planner process peaked at 584 MB with mimalloc and
416 MB with the system pool for 1M profiles).  glibc keeps freed pages too, until
malloc_trim, which release_memory() calls between stages.  Only the young garbage generations are
collected: a stage's tables go by reference counting, and a full collection of a large process
cost 0.1 s or more per stage (measured in the test process, 160k objects).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

import pyarrow as pa

logger = logging.getLogger(__name__)
pa.set_memory_pool(pa.system_memory_pool())
_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name) if _libc_name else None


def release_memory() -> None:
    gc.collect(1)
    pa.default_memory_pool().release_unused()
    trim = getattr(_libc, "malloc_trim", None) if _libc is not None else None
    if trim is not None:
        trim(0)


__all__ = ["release_memory"]
