"""What the emulator saw: request counts by route and status, arrival times, and every rate-limit answer.

Times are seconds on the emulator clock since the emulator started (or was reset), so a test can check
that no request arrived inside a Retry-After window.
"""

from __future__ import annotations

from typing import Any


class Metrics:
    def __init__(self, log_limit: int) -> None:
        self.log_limit = log_limit
        self.reset(0.0)

    def reset(self, origin: float) -> None:
        self.origin = origin
        self.counts: dict[str, dict[int, int]] = {}
        self.arrival_times: list[float] = []
        self.arrival_routes: list[str] = []
        self.arrival_status: list[int] = []  # 0 until answered (or forever, for resets and hangs)
        self._dropped = 0
        self.limited: list[dict[str, Any]] = []

    def arrive(self, now: float, route: str) -> int:
        if len(self.arrival_times) >= self.log_limit > 0:
            cut = max(1, self.log_limit // 10)
            del self.arrival_times[:cut], self.arrival_routes[:cut], self.arrival_status[:cut]
            self._dropped += cut
        self.arrival_times.append(now - self.origin)
        self.arrival_routes.append(route)
        self.arrival_status.append(0)
        return self._dropped + len(self.arrival_times) - 1

    def answer(self, ticket: int, route: str, status: int) -> None:
        by_status = self.counts.setdefault(route, {})
        by_status[status] = by_status.get(status, 0) + 1
        index = ticket - self._dropped
        if index >= 0:
            self.arrival_status[index] = status

    def rate_limited(
        self, now: float, route: str, status: int, retry_after: int | None, kind: str, wait_s: float | None = None
    ) -> None:
        """Log a rate-limit answer: `retry_after` as sent (None when the answer had no Retry-After), `kind`
        general | storm | bulk_multi | bulk_single, `wait_s` the exact time until the budget had room."""
        if len(self.limited) >= self.log_limit > 0:
            del self.limited[: max(1, self.log_limit // 10)]
        self.limited.append(
            {
                "t": now - self.origin,
                "route": route,
                "status": status,
                "retry_after": retry_after,
                "kind": kind,
                "wait_s": wait_s if wait_s is not None else retry_after,
            }
        )

    def request_counts(self) -> dict[str, dict[str, int]]:
        """route ("POST /import/bulk_import") -> status ("200") -> count."""
        return {route: {str(s): n for s, n in sorted(by.items())} for route, by in sorted(self.counts.items())}

    def arrivals(self, since: float | None = None) -> list[dict[str, Any]]:
        rows = zip(self.arrival_times, self.arrival_routes, self.arrival_status, strict=True)
        return [{"t": t, "route": r, "status": s} for t, r, s in rows if since is None or t >= since]

    def retry_after_violations(self, grace_s: float = 0.0) -> list[dict[str, Any]]:
        """Requests that arrived after a Retry-After answer (plus `grace_s` for requests already in flight)
        and before its window ended, account-wide."""
        windows = sorted((e["t"] + grace_s, e["t"] + e["retry_after"]) for e in self.limited if e["retry_after"])
        out: list[dict[str, Any]] = []
        if not windows:
            return out
        for t, route in zip(self.arrival_times, self.arrival_routes, strict=True):
            for start, end in windows:
                if start < t < end:
                    out.append({"t": t, "route": route, "window": [start - grace_s, end]})
                    break
        return out
