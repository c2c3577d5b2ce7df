"""A bulk import batch and its lifecycle, as GET /import/info reports it.

Contacts are applied to the account at submit time; the batch's reported status then follows the clock:
`false` for `initial_false_s`, then waiting -> claimed -> active (each a third of `processing_delay_s`),
then its outcome: `completed` (with `success` ids and `failure` emails) or, when the failure fault picked it,
`failed`/`interrupted` with nothing applied.  Both delays are fixed per batch when it is submitted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Final

TERMINAL: Final = frozenset({"completed", "failed", "interrupted"})


class Batch:
    __slots__ = (
        "contacts",
        "exclude_automations",
        "failures",
        "false_until",
        "id",
        "new_ids",
        "outcome",
        "ready_at",
        "submitted",
        "submitted_wall",
        "updated_ids",
    )

    def __init__(self, batch_id: str, contacts: int, submitted: float, submitted_wall: float) -> None:
        self.id = batch_id
        self.contacts = contacts
        self.submitted = submitted
        self.submitted_wall = submitted_wall
        self.false_until = submitted
        self.ready_at = submitted
        self.outcome = "completed"
        self.new_ids: range = range(0)
        self.updated_ids: list[int] = []
        self.failures: list[tuple[str, str]] = []  # (email as sent, reason)
        self.exclude_automations = 0  # how many of its contacts asked to skip automations

    def schedule(self, initial_false_s: float, processing_delay_s: float) -> None:
        self.false_until = self.submitted + initial_false_s
        self.ready_at = self.false_until + processing_delay_s

    def status(self, now: float) -> str | bool:
        if now < self.false_until:
            return False
        if now >= self.ready_at:
            return self.outcome
        stage = (now - self.false_until) / (self.ready_at - self.false_until)
        return "waiting" if stage < 1 / 3 else "claimed" if stage < 2 / 3 else "active"

    def info(self, now: float, *, include_updated: bool, failure_reasons: bool = False) -> dict[str, Any]:
        """The body of GET /import/info for this batch (`failure` as emails, or as {email, reason} objects)."""
        status = self.status(now)
        if status is False:
            return {"status": False}
        if status != "completed":
            return {"status": status, "success": [], "failure": []}
        ids: Iterable[int] = self.new_ids
        if include_updated and self.updated_ids:
            ids = sorted({*self.new_ids, *self.updated_ids})
        failure: list[Any] = (
            [{"email": email, "reason": reason} for email, reason in self.failures]
            if failure_reasons
            else [email for email, _ in self.failures]
        )
        return {"status": status, "success": [str(i) for i in ids], "failure": failure}

    def to_json(self, now: float, origin: float) -> dict[str, Any]:
        """The inspection view (GET /_emulator/batches)."""
        status = self.status(now)
        return {
            "batchId": self.id,
            "status": status,
            "outcome": self.outcome,
            "completed": status == "completed",
            "terminal": status in TERMINAL,
            "submitted_at": self.submitted - origin,
            "ready_at": self.ready_at - origin,
            "contacts": self.contacts,
            "created": len(self.new_ids),
            "updated": len(self.updated_ids),
            "failed": len(self.failures),
            "failures": [{"email": email, "reason": reason} for email, reason in self.failures],
            "exclude_automations": self.exclude_automations,
        }


def daily_aggregates(batches: Sequence[Batch], now: float, wall_now: float) -> dict[str, Any]:
    """GET /import/bulk_import: outstanding and recently completed (7 days) batches per day, counts as strings."""
    outstanding: dict[str, list[int]] = {}
    completed: dict[str, list[int]] = {}
    week_ago = wall_now - 7 * 86400
    for batch in batches:
        day = dt.datetime.fromtimestamp(batch.submitted_wall).date().isoformat()
        if batch.status(now) in TERMINAL:
            if batch.submitted_wall < week_ago:
                continue
            bucket = completed.setdefault(day, [0, 0])
        else:
            bucket = outstanding.setdefault(day, [0, 0])
        bucket[0] += 1
        bucket[1] += batch.contacts

    def rows(days: dict[str, list[int]]) -> list[dict[str, str]]:
        return [{"forDate": d, "batches": str(b), "contacts": str(c)} for d, (b, c) in sorted(days.items())]

    return {"outstanding": rows(outstanding), "recentlyCompleted": rows(completed)}
