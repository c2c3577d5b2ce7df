"""The reference model of the lifecycle test: what each emulated ActiveCampaign account's lists must hold.

It is written from the product's rules (README, shared/pipeline/diff.py), not from its code:
- what an export holds is kept per export id AND target (account, list): a new id or another target starts
  from nothing; a run to a target other than the one the export last committed to sends everyone;
- a contact is sent when it is new to the target's records, changed, or on a full run; AC drops it when it
  is excluded (rejected: its old record stays, so it goes again) or unsubscribed from the list (opted out:
  recorded, never sent again);
- someone we removed who comes back is re-subscribed; someone who unsubscribed themselves never is;
- mirror mode with leaverAction=unsubscribe removes the contacts we hold subscribed who left the segment,
  unless more than maxRemovalPercent of them would go and the run is not forced (Skipped, nothing sent);
- a dry run sends nothing; a run whose list does not exist fails and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

SUBSCRIBED, UNSUBSCRIBED = 1, 2  # AC's list statuses


class Held(IntEnum):
    """What an export's records say of a contact at a target (shared/pipeline/state.py's ListStatus)."""

    SUBSCRIBED = 1
    REMOVED = 2
    OPTED_OUT = 3


@dataclass
class Record:
    held: Held
    version: int  # of the values last confirmed


@dataclass(frozen=True)
class Target:
    connection: str
    account: str
    list_id: int


@dataclass
class ExportModel:
    id: str
    connection: str
    list_id: int
    segment: str
    mirror: bool
    max_removal_percent: float


@dataclass
class Expected:
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    list_gone: int | None = None  # the list a Failed run must name


@dataclass
class World:
    accounts: tuple[str, ...]
    connections: dict[str, str] = field(default_factory=dict)  # name -> account
    lists: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)  # account -> list -> email -> status
    next_list: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, set[str]] = field(default_factory=dict)
    opted_out: dict[str, dict[int, set[str]]] = field(default_factory=dict)  # who unsubscribed themselves
    segments: dict[str, dict[str, int]] = field(default_factory=dict)  # segment -> email -> version
    exports: dict[str, ExportModel] = field(default_factory=dict)  # by name
    records: dict[tuple[str, str, int], dict[str, Record]] = field(default_factory=dict)  # (id, account, list)
    last_target: dict[str, Target] = field(default_factory=dict)  # export id -> where it last committed

    def __post_init__(self) -> None:
        for account in self.accounts:
            self.lists[account] = {1: {}, 2: {}}
            self.next_list[account] = 3
            self.excluded[account] = set()
            self.opted_out[account] = {1: set(), 2: set()}

    def target_of(self, export: ExportModel) -> Target:
        return Target(export.connection, self.connections[export.connection], export.list_id)

    def held(self, export_id: str, account: str, list_id: int) -> dict[str, Record]:
        return self.records.setdefault((export_id, account, list_id), {})

    def removed_by_anyone(self, account: str, list_id: int, email: str) -> bool:
        """Some live export holds `email` as removed by us from this list (it would re-subscribe them)."""
        return any(
            self.records.get((e.id, account, list_id), {}).get(email, Record(Held.SUBSCRIBED, 0)).held is Held.REMOVED
            for e in self.exports.values()
        )

    def delete_export(self, name: str) -> None:
        gone = self.exports.pop(name)
        for key in [k for k in self.records if k[0] == gone.id]:
            del self.records[key]
        self.last_target.pop(gone.id, None)

    def run(self, name: str, *, full: bool, dry_run: bool, force: bool) -> Expected:
        """Apply a run of export `name` to the model; what the run must report."""
        export = self.exports[name]
        target = self.target_of(export)
        account, list_id = target.account, target.list_id
        members = self.lists[account].get(list_id)
        if members is None:
            return Expected("Failed", list_gone=list_id)
        rows = self.segments[export.segment]
        held = self.held(export.id, account, list_id)
        moved = export.id in self.last_target and self.last_target[export.id] != target
        full = full or moved
        leavers = (
            sorted(e for e, r in held.items() if r.held is Held.SUBSCRIBED and e not in rows) if export.mirror else []
        )
        subscribed = sum(1 for r in held.values() if r.held is Held.SUBSCRIBED)
        adds = [e for e in rows if e not in held]
        updates = [
            e
            for e, v in rows.items()
            if e in held and held[e].held is Held.SUBSCRIBED and (full or held[e].version != v)
        ]
        resubscribes = [e for e in rows if e in held and held[e].held is Held.REMOVED]
        known_out = [e for e in rows if e in held and held[e].held is Held.OPTED_OUT]
        unchanged = len(rows) - len(adds) - len(updates) - len(resubscribes) - len(known_out)
        planned = {
            "unchanged": unchanged,
            "toAdd": len(adds),
            "toSend": len(adds) + len(updates) + len(resubscribes),
            "toRemove": len(leavers),
        }
        if leavers and not force and subscribed and 100.0 * len(leavers) / subscribed > export.max_removal_percent:
            return Expected("Skipped", planned)
        if dry_run:
            return Expected("Succeeded", {**planned, "optedOut": len(known_out)})
        excluded = self.excluded[account]
        rejected = opted_out = removal_rejected = removal_opted_out = removed = 0
        for email in [*adds, *updates]:
            if email in excluded:
                rejected += 1  # AC dropped it after the 200: the old record stays, so it goes again
            elif members.get(email) == UNSUBSCRIBED:
                opted_out += 1  # bulk import cannot re-subscribe: they left the list, and stay out
                held[email] = Record(Held.OPTED_OUT, rows[email])
            else:
                members[email] = SUBSCRIBED
                held[email] = Record(Held.SUBSCRIBED, rows[email])
        for email in resubscribes:
            if email in excluded:
                rejected += 1
            else:
                members[email] = SUBSCRIBED
                held[email] = Record(Held.SUBSCRIBED, rows[email])
        for email in leavers:
            if members.get(email) == UNSUBSCRIBED:
                removal_opted_out += 1
                held[email] = Record(Held.OPTED_OUT, held[email].version)
            elif email in excluded:
                removal_rejected += 1
            else:
                removed += 1
                members[email] = UNSUBSCRIBED
                held[email] = Record(Held.REMOVED, held[email].version)
        self.last_target[export.id] = target
        status = "PartiallySucceeded" if rejected or removal_rejected else "Succeeded"
        counts = {
            **planned,
            "optedOut": len(known_out) + opted_out,
            "rejected": rejected,
            "confirmed": len(adds) + len(updates) + len(resubscribes) - rejected - opted_out,
            "removed": removed,
            "removalRejected": removal_rejected,
            "removalOptedOut": removal_opted_out,
        }
        return Expected(status, counts)
