"""JSON-ready views of the emulator for assertions: served under /_emulator/ and callable in process."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from local.activecampaign_emulator.batches import TERMINAL
from local.activecampaign_emulator.emulator import Emulator
from local.activecampaign_emulator.model import AcList, Contact


def contact_view(emu: Emulator, contact: Contact) -> dict[str, Any]:
    state = emu.state
    return {
        "id": contact.id,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": contact.phone,
        "fields": {str(k): v for k, v in contact.field_values().items()},
        "tags": state.tag_names(contact),
        "lists": {str(acl.id): st for acl, st in state.memberships(contact.id)},
        "writes": contact.writes,
        "contact_list_writes": state.contact_list_writes.get(contact.id, 0),
    }


def list_summary(acl: AcList) -> dict[str, Any]:
    return {
        "id": acl.id,
        "name": acl.name,
        "stringid": acl.stringid,
        "member_count": len(acl),
        "subscribed": acl.counts[1],
        "unsubscribed": acl.counts[2],
    }


def member_rows(
    emu: Emulator, acl: AcList, *, status: int | None = None, offset: int = 0, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """Full member rows (contact view + "status") in contact id order."""
    contacts = emu.state.contacts
    end = None if limit is None else offset + limit
    for cid, st in itertools.islice(acl.members(status), offset, end):
        row = contact_view(emu, contacts[cid])  # type: ignore[arg-type]
        row["status"] = st
        yield row


def members_view(
    emu: Emulator,
    acl: AcList,
    *,
    status: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    compact: bool = False,
) -> dict[str, Any]:
    """Members of a list in contact id order (all of them unless offset/limit): full rows under "members",
    or with compact=True only {"statuses": {email: status}}."""
    out = list_summary(acl)
    out["total"] = acl.count(status)
    if compact:
        contacts = emu.state.contacts
        end = None if limit is None else offset + limit
        chosen = itertools.islice(acl.members(status), offset, end)
        out["statuses"] = {contacts[cid].email: st for cid, st in chosen}  # type: ignore[union-attr]
    else:
        out["members"] = list(member_rows(emu, acl, status=status, offset=offset, limit=limit))
    return out


def writes_view(emu: Emulator, *, minimum: int = 1, email: str | None = None) -> dict[str, Any]:
    """Accepted contact writes per email (lowercased), failed sends inside accepted batches, contactLists writes."""
    state = emu.state
    if email is not None:
        key = email.lower()
        contact = state.by_email.get(key)
        return {
            "email": key,
            "writes": contact.writes if contact else 0,
            "failed": state.failed_sends.get(key, 0),
            "contact_list_writes": state.contact_list_writes.get(contact.id, 0) if contact else 0,
        }
    counts = [c.writes for c in state.by_email.values()]
    return {
        "summary": {
            "contacts": len(counts),
            "total_writes": sum(counts),
            "max_writes": max(counts, default=0),
            "written_more_than_once": sum(1 for n in counts if n > 1),
            "failed_sends": sum(state.failed_sends.values()),
        },
        "writes": state.write_counts(minimum),
        "failed": {k: n for k, n in state.failed_sends.items() if n >= minimum},
        "contact_list_writes": {
            c.email.lower(): n for cid, n in state.contact_list_writes.items() if (c := state.contacts[cid]) is not None
        },
    }


def batches_view(emu: Emulator, *, status: str | None = None, details: bool = True) -> dict[str, Any]:
    now = emu.clock()
    rows = []
    counts: dict[str, int] = {}
    for batch in emu.state.batches.values():
        current = batch.status(now)
        label = "false" if current is False else str(current)
        counts[label] = counts.get(label, 0) + 1
        if status is not None and label != status:
            continue
        row = batch.to_json(now, emu.origin)
        if not details:
            row.pop("failures")
        rows.append(row)
    return {
        "now": now - emu.origin,
        "counts": counts,
        "all_terminal": all(b.status(now) in TERMINAL for b in emu.state.batches.values()),
        "batches": rows,
    }


def requests_view(emu: Emulator) -> dict[str, Any]:
    return {
        "now": emu.since_start(),
        "counts": emu.metrics.request_counts(),
        "total": sum(sum(by.values()) for by in emu.metrics.counts.values()),
        "rate_limited": emu.metrics.limited,
    }


def faults_view(emu: Emulator) -> dict[str, Any]:
    now = emu.clock()
    window = emu.faults.storm_window
    storm = None
    if window is not None:
        storm = {
            "kind": emu.config.storm_kind,
            "starts_at": window[0] - emu.origin,
            "ends_at": window[1] - emu.origin,
            "active": emu.faults.storm(now) is not None,
        }
    return {
        "now": now - emu.origin,
        "storm": storm,
        "stall_bulk_after": emu.config.stall_bulk_after,
        "stall_accepted": emu.faults.stall_accepted,
        "stalled": emu.faults.stalled,
        "hold_bulk_answer_after": emu.config.hold_bulk_answer_after,
        "hold_accepted": emu.faults.hold_accepted,
        "held": emu.faults.held,
        "held_batches": list(emu.faults.held_batches),
        "revoked_keys": list(emu.config.revoked_keys),
    }
