"""The plan of a run: counts, the per-row report so far, and the shards to send (pure computation).

The mass-removal guard lives here: in mirror mode, if more than maxRemovalPercent of
the contacts we hold subscribed would be removed, the run is Skipped with the
numbers and nothing is sent, unless the run was forced.  An empty snapshot never
removes anyone unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from shared.models import Export, LeaverAction, RunCounts, RunOptions, SyncMode
from shared.pipeline.diff import Diff, compute_diff
from shared.pipeline.outcomes import OPTED_OUT_REASON
from shared.pipeline.rules import REPORT_SCHEMA, RuleResult
from shared.pipeline.shards import Op
from shared.pipeline.state import STATE_SCHEMA, ExportState, ListStatus

SAMPLE_SIZE: Final = 20


@dataclass
class Plan:
    counts: RunCounts
    report: pa.Table
    shards: list[tuple[Op, pa.Table]] = field(default_factory=list)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    state_updates: pa.Table = field(default_factory=STATE_SCHEMA.empty_table)  # applied when the run ends


def plan_diff(rules: RuleResult, state: ExportState, export: Export, options: RunOptions) -> Diff:
    mirror = export.sync_mode is SyncMode.MIRROR and export.leaver_action is LeaverAction.UNSUBSCRIBE
    return compute_diff(rules.contacts, state.table, full=options.full, mirror=mirror)


def make_plan(
    rules: RuleResult,
    state: ExportState,
    export: Export,
    options: RunOptions,
    shard_size: int,
    diff: Diff,
    unsubscribed: frozenset[str] = frozenset(),
) -> Plan:
    """`unsubscribed`: who AC shows unsubscribed from the list now.  A leaver among them unsubscribed
    themselves: they are recorded as opted out (never re-subscribed), not removed by us."""
    leavers = diff.leavers
    self_unsubscribed = leavers.slice(0, 0)
    if unsubscribed and leavers.num_rows:
        already = pc.is_in(leavers["email"], value_set=pa.array(sorted(unsubscribed), pa.string()))
        self_unsubscribed = leavers.filter(already)
        leavers = leavers.filter(pc.invert(already))
    notes: list[str] = []
    skipped: str | None = None
    if leavers.num_rows and rules.contacts.num_rows == 0 and not options.force:
        notes.append(f"the snapshot is empty: nobody was removed ({leavers.num_rows} would have been); use force")
        leavers = leavers.slice(0, 0)
    if rules.rows_read == 0 and not leavers.num_rows:
        skipped = "no data: the segment snapshot is empty, so nothing was sent"
    subscribed = state.subscribed
    if leavers.num_rows and not options.force and subscribed:
        share = 100.0 * leavers.num_rows / subscribed
        if share > export.max_removal_percent:
            skipped = (
                f"mass-removal guard: {leavers.num_rows} of {subscribed} contacts ({share:.1f}%) would be removed, "
                f"more than maxRemovalPercent={export.max_removal_percent:g}%; nothing was sent. "
                "Run again with force=true to proceed."
            )
    counts = RunCounts(
        profiles_read=rules.rows_read,
        invalid=rules.invalid,
        duplicates=rules.duplicates,
        unchanged=diff.unchanged,
        opted_out=diff.opted_out.num_rows,
        to_add=diff.adds.num_rows,
        to_update=diff.updates.num_rows,
        to_resubscribe=diff.resubscribes.num_rows,
        to_send=diff.to_send,
        to_remove=leavers.num_rows,
        value_errors=rules.value_errors,
    )
    reports = [
        rules.report,
        _rows(diff.opted_out, "opted-out", OPTED_OUT_REASON),
        _rows(self_unsubscribed, "opted-out", "left the segment; had already unsubscribed in ActiveCampaign"),
    ]
    if options.dry_run:
        reports += [
            _rows(diff.adds.slice(0, SAMPLE_SIZE), "would-add", "sample: new to the list"),
            _rows(diff.updates.slice(0, SAMPLE_SIZE), "would-update", "sample: values changed"),
            _rows(diff.resubscribes.slice(0, SAMPLE_SIZE), "would-resubscribe", "sample: came back after removal"),
            _rows(leavers.slice(0, SAMPLE_SIZE), "would-remove", "sample: left every segment"),
        ]
    opted = pa.table(
        {
            "email": self_unsubscribed["email"],
            "hash": self_unsubscribed["hash"],
            "status": pa.repeat(pa.scalar(int(ListStatus.OPTED_OUT), pa.int8()), self_unsubscribed.num_rows),
        }
    ).cast(STATE_SCHEMA)
    plan = Plan(counts=counts, report=pa.concat_tables(reports), skipped=skipped, notes=notes, state_updates=opted)
    if skipped or options.dry_run:
        return plan
    upserts = pa.concat_tables([diff.adds, diff.updates]) if diff.updates.num_rows else diff.adds
    for op, rows in ((Op.UPSERT, upserts), (Op.RESUBSCRIBE, diff.resubscribes), (Op.UNSUBSCRIBE, leavers)):
        for start in range(0, rows.num_rows, shard_size):
            plan.shards.append((op, rows.slice(start, shard_size)))
    return plan


def _rows(rows: pa.Table, outcome: str, reason: str) -> pa.Table:
    n = rows.num_rows
    return pa.table(
        {
            "email": rows["email"],
            "outcome": pa.repeat(pa.scalar(outcome), n),
            "reason": pa.repeat(pa.scalar(reason), n),
            "segment": pa.nulls(n, pa.string()),
            "row": pa.nulls(n, pa.int64()),
        }
    ).cast(REPORT_SCHEMA)


__all__ = ["Plan", "make_plan", "plan_diff"]
