"""Applying an accepted bulk import batch to the account (at submit time).

Each contact is written unless it fails after the 200: excluded, bounced, new while the account is at its
contact limit, subscribing to a list it is unsubscribed from (bulk import cannot re-subscribe), or (per
switches) naming an unknown list or field.  Failed contacts are not written; they are listed on the batch.
"""

from __future__ import annotations

from typing import Any, Final

from local.activecampaign_emulator.batches import Batch
from local.activecampaign_emulator.bulk import Prepared
from local.activecampaign_emulator.config import EmulatorConfig
from local.activecampaign_emulator.model import SUBSCRIBED, UNSUBSCRIBED, Contact
from local.activecampaign_emulator.state import AccountState

EXCLUDED: Final = "excluded"
BOUNCED: Final = "bounced"
OVER_LIMIT: Final = "contact limit reached"
UNSUBSCRIBED_BEFORE: Final = "previously unsubscribed from list"
UNKNOWN_LIST: Final = "list does not exist"
UNKNOWN_FIELD: Final = "field does not exist"


def _fail(state: AccountState, batch: Batch, email: str, key: str, reason: str) -> None:
    batch.failures.append((email, reason))
    state.failed_sends[key] = state.failed_sends.get(key, 0) + 1


def _reason(
    state: AccountState, config: EmulatorConfig, item: dict[str, Any], prep: Prepared, contact: Contact | None
) -> str | None:
    """Why this contact fails after the 200, or None: it is written."""
    key, subscribe, _, unknown_list = prep
    if key in state.exclusions:
        return EXCLUDED
    if key in state.bounced:
        return BOUNCED
    if contact is None and state.at_contact_limit():
        return OVER_LIMIT
    if unknown_list and config.bulk_unknown_list == "fail_contacts":
        return UNKNOWN_LIST
    if contact is not None and any(acl.status_of(contact.id) == UNSUBSCRIBED for acl in subscribe):
        return UNSUBSCRIBED_BEFORE
    values = item.get("fields")
    if values and config.bulk_unknown_field == "fail_contacts":
        known = state.fields
        return UNKNOWN_FIELD if any(int(f.get("id", 0)) not in known for f in values) else None
    return None


def apply(
    state: AccountState,
    config: EmulatorConfig,
    payload: dict[str, Any],
    contacts: list[dict[str, Any]],
    prepared: list[Prepared],
    batch: Batch,
    *,
    wall: float,
) -> None:
    """Write the batch's contacts into the account (at submit time) and record the outcome on `batch`.

    The loop has a fast path for the common contact (no exclusions, bounces, contact limit or unknown
    ids in play, and no earlier unsubscribe); everything else goes through `_reason`."""
    by_email = state.by_email
    fields = state.fields
    pool_get = state.pool.get
    pooled = state.pooled
    slow_checks = bool(state.exclusions or state.bounced or config.contact_limit is not None)
    slow_checks = slow_checks or config.bulk_unknown_field == "fail_contacts"
    updated = batch.updated_ids
    top_exclude = bool(payload.get("exclude_automations"))
    first_new = state.next_contact_id
    excluded_automations = 0
    for item, prep in zip(contacts, prepared, strict=True):
        email: str = item["email"]
        key, subscribe, unsubscribe, unknown_list = prep
        contact = by_email.get(key)
        if slow_checks or unknown_list or (contact is not None and subscribe):
            reason = _reason(state, config, item, prep, contact)
            if reason is not None:
                _fail(state, batch, email, key, reason)
                continue
        if contact is None:
            contact = state.new_contact(email, key, wall)
        else:
            updated.append(contact.id)
            state.note_email(contact, email)
            contact.udate = wall
        value = item.get("first_name")
        if value is not None:
            contact.first_name = pool_get(value) or pooled(value)
        value = item.get("last_name")
        if value is not None:
            contact.last_name = pool_get(value) or pooled(value)
        value = item.get("phone")
        if value is not None:
            contact.phone = value if type(value) is str else str(value)
        values = item.get("fields")
        if values:
            for fv in values:
                field_id = int(fv.get("id", 0))
                if field_id in fields:
                    value = fv.get("value", "")
                    contact.set_field(field_id, pool_get(value) or pooled(value))
        tags = item.get("tags")
        if tags:
            contact.add_tags(state.tag_ids(tuple(str(t) for t in tags)))
        if top_exclude or item.get("exclude_automations"):
            excluded_automations += 1
        contact.writes += 1
        cid = contact.id
        for acl in subscribe:
            acl.set_status(cid, SUBSCRIBED)
        for acl in unsubscribe:
            acl.set_status(cid, UNSUBSCRIBED)
    batch.new_ids = range(first_new, state.next_contact_id)
    batch.exclude_automations = excluded_automations
