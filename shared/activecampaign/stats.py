"""What one ActiveCampaign client saw: requests, retries, rate-limit answers, statuses, transport errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ClientStats:
    """What one client saw; shards report these in their summary line and metrics."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0


__all__ = ["ClientStats"]
