"""One line of live progress for a run, rewritten in place on a terminal (plain lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class RunProgress:
    def __init__(self, label: str, out: TextIO = sys.stdout) -> None:
        self.label = label
        self.out = out
        self.started = time.monotonic()
        self._last = ""
        self._tty = out.isatty()
        self._last_print = 0.0

    def __call__(self, run: dict[str, Any]) -> None:
        counts, shards = run["counts"], run["shards"]
        total = counts["toSend"] + counts["toRemove"]
        done = counts["confirmed"] + counts["rejected"] + counts["removed"] + counts["removalRejected"]
        bar = _bar(done, total, final=run["status"] in ("Succeeded", "PartiallySucceeded", "Skipped"))
        line = (
            f"  {self.label}: {run['status']:<11} {bar} {done:>9,}/{total:<9,} "
            f"shards {shards['done']}/{shards['total']}  {time.monotonic() - self.started:5.1f}s"
        )
        if line == self._last:
            return
        self._last = line
        if self._tty:
            self.out.write("\r" + line)
            self.out.flush()
        elif time.monotonic() - self._last_print > 2 or run["status"] not in ("Sending", "Planning", "Queued"):
            self.out.write(line + "\n")
            self._last_print = time.monotonic()

    def finish(self) -> None:
        if self._tty and self._last:
            self.out.write("\n")
            self.out.flush()


def _bar(done: int, total: int, *, final: bool, width: int = 24) -> str:
    filled = (width if final else 0) if total == 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "." * (width - filled) + "]"
