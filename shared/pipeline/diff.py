"""The incremental diff: what this run sends, given the rules' contacts and what AC holds from us.

- a contact not in the state is added; one whose hash changed is updated (all of them with full=true);
- one AC rejected last time was never committed to the state, so it counts as new and is retried;
- one we removed (mirror mode) and who came back is re-subscribed (bulk import cannot do it);
- one who opted out in AC is never sent again;
- in mirror mode with leaverAction=unsubscribe, contacts we subscribed who left every segment are leavers.
Lookups use `index_in` + `take` (a hash of the state's emails), not a join: the contacts keep their order.
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


def _is(status: Any, value: ListStatus) -> Any:
    return pc.fill_null(pc.equal(status, pa.scalar(int(value), pa.int8())), False)


def compute_diff(contacts: pa.Table, state: pa.Table, *, full: bool, mirror: bool) -> Diff:
    position = pc.index_in(contacts["email"], value_set=state["email"].combine_chunks())
    status = state["status"].take(position)  # null where the contact is not in the state
    old_hash = state["hash"].take(position)
    new = pc.is_null(position)
    subscribed = _is(status, ListStatus.SUBSCRIBED)
    same = pc.fill_null(pc.equal(contacts["hash"], old_hash), False)
    unchanged = pc.and_(pc.and_(subscribed, same), pa.scalar(not full))
    changed = pc.and_(subscribed, pc.invert(unchanged))
    leavers = state.slice(0, 0)
    if mirror and state.num_rows:
        gone = pc.invert(pc.is_in(state["email"], value_set=contacts["email"].combine_chunks()))
        leavers = state.filter(pc.and_(gone, _is(state["status"], ListStatus.SUBSCRIBED)))
    return Diff(
        adds=contacts.filter(new),
        updates=contacts.filter(changed),
        resubscribes=contacts.filter(_is(status, ListStatus.REMOVED)),
        opted_out=contacts.filter(_is(status, ListStatus.OPTED_OUT)),
        leavers=leavers,
        unchanged=int(pc.sum(unchanged).as_py() or 0),
    )


__all__ = ["Diff", "compute_diff"]
