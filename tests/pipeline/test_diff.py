"""The incremental diff (shared/pipeline/diff.py) on small tables: each contact lands in exactly one outcome."""

from __future__ import annotations

import pyarrow as pa

from shared.pipeline.diff import Diff, compute_diff
from shared.pipeline.state import STATE_SCHEMA, ListStatus

SUB, REM, OUT = ListStatus.SUBSCRIBED, ListStatus.REMOVED, ListStatus.OPTED_OUT


def h(n: int) -> bytes:
    return n.to_bytes(8, "big")


def contacts(*rows: tuple[str, int]) -> pa.Table:
    return pa.table(
        {
            "email": pa.array([e for e, _ in rows], pa.string()),
            "hash": pa.array([h(n) for _, n in rows], pa.binary(8)),
            "first_name": pa.array([e.upper() for e, _ in rows], pa.string()),
        }
    )


def state(*rows: tuple[str, int, ListStatus]) -> pa.Table:
    return pa.table(
        {
            "email": pa.array([e for e, _, _ in rows], pa.string()),
            "hash": pa.array([h(n) for _, n, _ in rows], pa.binary(8)),
            "status": pa.array([int(s) for _, _, s in rows], pa.int8()),
        },
        schema=STATE_SCHEMA,
    )


def emails(table: pa.Table) -> list[str]:
    return table["email"].to_pylist()


def outcome(diff: Diff) -> dict[str, list[str] | int]:
    return {
        "adds": emails(diff.adds),
        "updates": emails(diff.updates),
        "resubscribes": emails(diff.resubscribes),
        "opted_out": emails(diff.opted_out),
        "leavers": emails(diff.leavers),
        "unchanged": diff.unchanged,
    }


MIXED_CONTACTS = contacts(("new2@x.io", 1), ("same@x.io", 2), ("changed@x.io", 30), ("back@x.io", 4), ("out@x.io", 5))
MIXED_STATE = state(
    ("gone@x.io", 9, SUB),
    ("same@x.io", 2, SUB),
    ("changed@x.io", 3, SUB),
    ("back@x.io", 4, REM),
    ("out@x.io", 5, OUT),
    ("gone-removed@x.io", 7, REM),
    ("gone-out@x.io", 8, OUT),
)


def test_each_contact_gets_the_outcome_its_state_calls_for() -> None:
    diff = compute_diff(MIXED_CONTACTS, MIXED_STATE, full=False, mirror=False)

    assert outcome(diff) == {
        "adds": ["new2@x.io"],
        "updates": ["changed@x.io"],
        "resubscribes": ["back@x.io"],  # same hash: re-subscribed all the same
        "opted_out": ["out@x.io"],  # same hash, and never sent
        "leavers": [],  # not mirroring
        "unchanged": 1,
    }
    assert diff.to_send == 3
    assert diff.adds.column_names == MIXED_CONTACTS.column_names  # every rule column travels with the contact
    assert diff.updates["first_name"].to_pylist() == ["CHANGED@X.IO"]


def test_a_full_run_sends_every_subscribed_contact_again() -> None:
    diff = compute_diff(MIXED_CONTACTS, MIXED_STATE, full=True, mirror=False)

    assert outcome(diff) == {
        "adds": ["new2@x.io"],
        "updates": ["same@x.io", "changed@x.io"],
        "resubscribes": ["back@x.io"],
        "opted_out": ["out@x.io"],
        "leavers": [],
        "unchanged": 0,
    }
    assert diff.to_send == 4


def test_mirror_mode_names_only_subscribed_contacts_who_left_as_leavers() -> None:
    diff = compute_diff(MIXED_CONTACTS, MIXED_STATE, full=False, mirror=True)

    assert emails(diff.leavers) == ["gone@x.io"]  # not the ones we removed or who opted out
    assert diff.leavers.column_names == ["email", "hash", "status"]
    assert diff.leavers["hash"].to_pylist() == [h(9)]
    assert diff.to_send == 3  # leavers are not sent as contacts


def test_with_an_empty_state_everyone_is_new_and_nobody_leaves() -> None:
    rows = contacts(("b@x.io", 1), ("a@x.io", 2), ("c@x.io", 3))

    diff = compute_diff(rows, state(), full=False, mirror=True)

    assert outcome(diff) == {
        "adds": ["b@x.io", "a@x.io", "c@x.io"],  # in read order
        "updates": [],
        "resubscribes": [],
        "opted_out": [],
        "leavers": [],
        "unchanged": 0,
    }
    assert isinstance(diff.unchanged, int)


def test_when_nothing_changed_nothing_is_sent_and_every_contact_is_counted_unchanged() -> None:
    rows = contacts(("a@x.io", 1), ("b@x.io", 2))

    diff = compute_diff(rows, state(("a@x.io", 1, SUB), ("b@x.io", 2, SUB)), full=False, mirror=True)

    assert outcome(diff) == {
        "adds": [],
        "updates": [],
        "resubscribes": [],
        "opted_out": [],
        "leavers": [],
        "unchanged": 2,
    }
    assert diff.to_send == 0


def test_with_no_contacts_every_subscribed_contact_leaves_in_mirror_mode() -> None:
    diff = compute_diff(contacts(), state(("a@x.io", 1, SUB), ("b@x.io", 2, REM)), full=False, mirror=True)

    assert emails(diff.leavers) == ["a@x.io"]
    assert diff.to_send == 0
    assert diff.unchanged == 0
