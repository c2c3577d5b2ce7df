"""The incremental diff: what this run sends, given the rules' contacts and what AC holds from us.

- a contact not in the state is added; one whose hash changed is updated (all of them with full=true);
- one AC rejected last time was never committed to the state, so it counts as new and is retried;
- one we removed (mirror mode) and who came back is re-subscribed (bulk import cannot do it);
- one who opted out in AC is never sent again;
- in mirror mode with leaverAction=unsubscribe, contacts we subscribed who left every segment are leavers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shared.pipeline.state import ListStatus


@dataclass
class Diff:
    adds: pa.Table  # contacts rows (all rule columns), in read order
    updates: pa.Table
    resubscribes: pa.Table
    opted_out: pa.Table
    leavers: pa.Table  # state rows: email, hash, status
    unchanged: int

    @property
    def to_send(self) -> int:
        return self.adds.num_rows + self.updates.num_rows + self.resubscribes.num_rows


def _status_is(column: Any, status: ListStatus) -> Any:
    return pc.equal(column, pa.scalar(int(status), pa.int8()))


def compute_diff(contacts: pa.Table, state: pa.Table, *, full: bool, mirror: bool) -> Diff:
    indexed = contacts.append_column("_i", pa.array(range(contacts.num_rows), pa.int64()))
    known = state.rename_columns(["email", "_old_hash", "_status"])
    joined = indexed.join(known, keys="email", join_type="left outer", use_threads=False)
    joined = joined.sort_by("_i")
    status = joined["_status"]
    same = pc.fill_null(pc.equal(joined["hash"], joined["_old_hash"]), False)
    new = pc.is_null(status)
    subscribed = pc.fill_null(_status_is(status, ListStatus.SUBSCRIBED), False)
    removed = pc.fill_null(_status_is(status, ListStatus.REMOVED), False)
    opted_out = pc.fill_null(_status_is(status, ListStatus.OPTED_OUT), False)
    unchanged = pc.and_(pc.and_(subscribed, same), pa.scalar(not full))
    changed = pc.and_(subscribed, pc.invert(unchanged))
    drop = ["_i", "_old_hash", "_status"]

    leavers = state.slice(0, 0)
    if mirror and state.num_rows:
        gone = pc.invert(pc.is_in(state["email"], value_set=contacts["email"]))
        leavers = state.filter(pc.and_(gone, _status_is(state["status"], ListStatus.SUBSCRIBED)))
    return Diff(
        adds=joined.filter(new).drop_columns(drop),
        updates=joined.filter(changed).drop_columns(drop),
        resubscribes=joined.filter(removed).drop_columns(drop),
        opted_out=joined.filter(opted_out).drop_columns(drop),
        leavers=leavers,
        unchanged=int(pc.sum(unchanged).as_py() or 0),
    )


__all__ = ["Diff", "compute_diff"]
