"""Stage timings and memory for one long operation, reported in its summary log record."""

from __future__ import annotations

import resource
import time
from pathlib import Path


def resident_mb() -> float:
    """This process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stages:
    """stages.mark("read") after each stage; stages.fields() for the log record's extra."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.memory: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 3)
        self.memory[name] = round(resident_mb(), 1)
        self._last = now

    def fields(self) -> dict[str, float]:
        out = {f"{k}_s": v for k, v in self.timings.items()}
        out.update({f"{k}_rss_mb": v for k, v in self.memory.items()})
        out["peak_rss_mb"] = round(peak_mb(), 1)
        return out


__all__ = ["Stages", "peak_mb", "resident_mb"]
