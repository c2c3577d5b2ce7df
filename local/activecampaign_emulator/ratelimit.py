"""AC's budgets as token buckets (capacity = the limit, continuous refill of limit per window).

Over any interval of length T a bucket admits at most `capacity + rate * T` requests, so "ceiling use"
is well defined: accepted / (capacity + rate * T).  Three buckets per account: the general 5 req/s budget,
and the bulk importer's 100 multi-contact and 20 single-contact requests per minute.  Every limit is
multiplied by `rate_scale`; `limits_enabled=False` admits everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from local.activecampaign_emulator.config import EmulatorConfig

BULK_WINDOW_S: Final = 60.0
_EPSILON: Final = 1e-9


class TokenBucket:
    """One bucket.  Full at first use; `take` returns 0.0 when a token was taken, else the wait for one."""

    __slots__ = ("_stamp", "_tokens")

    def __init__(self) -> None:
        self._tokens: float | None = None
        self._stamp = 0.0

    def level(self, now: float, capacity: float, rate: float) -> float:
        if self._tokens is None:
            return capacity
        return min(capacity, self._tokens + max(0.0, now - self._stamp) * rate)

    def take(self, now: float, capacity: float, rate: float) -> float:
        tokens = self.level(now, capacity, rate)
        self._stamp = now
        if tokens >= 1.0 - _EPSILON:
            self._tokens = max(0.0, tokens - 1.0)
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / rate


@dataclass(frozen=True)
class Budget:
    """A budget in effect: `capacity` requests at once, refilled at `rate` per second."""

    name: str
    limit: float
    window_s: float
    capacity: float
    rate: float

    @classmethod
    def of(cls, name: str, limit: float, window_s: float) -> Budget:
        return cls(name, limit, window_s, capacity=max(limit, 1.0), rate=limit / window_s)

    def allowed(self, interval_s: float) -> float:
        return self.capacity + self.rate * max(0.0, interval_s)

    def to_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "window_s": self.window_s, "capacity": self.capacity, "rate_per_s": self.rate}


def budgets_in_effect(config: EmulatorConfig) -> dict[str, Budget]:
    scale = config.rate_scale
    return {
        "general": Budget.of("general", config.general_rps * scale, 1.0),
        "bulk_multi": Budget.of("bulk_multi", config.bulk_multi_per_min * scale, BULK_WINDOW_S),
        "bulk_single": Budget.of("bulk_single", config.bulk_single_per_min * scale, BULK_WINDOW_S),
    }


def retry_after_seconds(wait_s: float) -> int:
    """Retry-After is whole seconds, at least 1."""
    return max(1, math.ceil(wait_s - _EPSILON))


class AccountBudgets:
    """The account's three buckets and the log of accepted bulk requests (times on the emulator clock)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self.reset()

    def reset(self) -> None:
        self._buckets = {"general": TokenBucket(), "bulk_multi": TokenBucket(), "bulk_single": TokenBucket()}
        self.accepted: dict[str, list[float]] = {"bulk_multi": [], "bulk_single": []}

    @property
    def enabled(self) -> bool:
        return self._config.limits_enabled and self._config.rate_scale > 0

    def take(self, name: str, now: float) -> float:
        """Take one request from budget `name`; 0.0 = admitted, else seconds until it would be."""
        if not self.enabled:
            return 0.0
        budget = budgets_in_effect(self._config)[name]
        return self._buckets[name].take(now, budget.capacity, budget.rate)

    def general_headers(self, now: float) -> tuple[str, str]:
        """(RateLimit-Limit, RateLimit-Remaining) for the general budget."""
        budget = budgets_in_effect(self._config)["general"]
        level = self._buckets["general"].level(now, budget.capacity, budget.rate)
        limit = int(budget.limit) if float(budget.limit).is_integer() else budget.limit
        return str(limit), str(max(0, math.floor(level + _EPSILON)))

    def record_accepted_bulk(self, now: float, *, single: bool) -> None:
        self.accepted["bulk_single" if single else "bulk_multi"].append(now)

    def snapshot(self, origin: float, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        """Limits in effect, accepted bulk request times (seconds since emulator start) and ceiling use:
        accepted / (capacity + rate * T), T from `since` (default: first accepted) to `until` (default: last)."""
        budgets = budgets_in_effect(self._config)
        out: dict[str, Any] = {
            "enabled": self.enabled,
            "rate_scale": self._config.rate_scale,
            "bulk_counts_toward_general": self._config.bulk_counts_toward_general,
            "budgets": {name: budget.to_json() for name, budget in budgets.items()},
        }
        for name in ("bulk_multi", "bulk_single"):
            times = [t - origin for t in self.accepted[name]]
            if since is not None:
                times = [t for t in times if t >= since]
            if until is not None:
                times = [t for t in times if t <= until]
            start = since if since is not None else (times[0] if times else 0.0)
            end = until if until is not None else (times[-1] if times else start)
            allowed = budgets[name].allowed(end - start)
            out[f"accepted_{name}"] = {
                "count": len(times),
                "first": times[0] if times else None,
                "last": times[-1] if times else None,
                "interval_s": end - start,
                "allowed": allowed,
                "ceiling_use": (len(times) / allowed) if times else None,
                "times": times,
            }
        return out
