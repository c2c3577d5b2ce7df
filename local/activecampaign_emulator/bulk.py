"""POST /import/bulk_import up to acceptance: caps, parsing and whole-batch validation (bulk_apply.py writes).

Order of checks (the rate-limit step sits in routes_import): body bytes cap -> JSON -> no contacts ->
contacts cap -> (bulk budget) -> every contact's email syntax and list references (one bad contact refuses
the whole batch, listing every bad contact) -> accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from local.activecampaign_emulator.config import EmulatorConfig
from local.activecampaign_emulator.emails import is_valid_email
from local.activecampaign_emulator.model import AcList
from local.activecampaign_emulator.state import AccountState

VALIDATION_MESSAGE: Final = (
    "JSON payload did not pass validation. Please fix failure Reasons and retry. "
    "The import was not queued for processing."
)
BAD_EMAIL: Final = "Field\u2018 email\u2019 incorrect format"


@dataclass
class Refusal:
    """A bulk request answered with an error; `retry_after` adds a Retry-After header."""

    status: int
    body: dict[str, Any]
    retry_after: int | None = field(default=None)


def _failure(status: int, *reasons: Any) -> Refusal:
    return Refusal(status, {"success": 0, "message": VALIDATION_MESSAGE, "failureReasons": list(reasons)})


def check_size(config: EmulatorConfig, size: int) -> Refusal | None:
    if size > config.bulk_max_bytes:
        return _failure(
            config.bulk_cap_status,
            f"The request payload must be less than {config.bulk_max_bytes + 1} bytes "
            f"({config.bulk_max_bytes} bytes or less); this one has {size}.",
        )
    return None


def parse(config: EmulatorConfig, body: bytes) -> tuple[dict[str, Any], list[Any]] | Refusal:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _failure(400, "The request body is not valid JSON.")
    contacts = payload.get("contacts") if isinstance(payload, dict) else None
    if not isinstance(contacts, list) or not contacts:
        return _failure(400, "Field\u2018 contacts\u2019 is required and must contain at least one contact.")
    if len(contacts) > config.bulk_max_contacts:
        return _failure(
            config.bulk_cap_status,
            f"Up to {config.bulk_max_contacts} contacts may be included in a single request; "
            f"this one has {len(contacts)}.",
        )
    return payload, contacts


def rate_limited(config: EmulatorConfig, *, single: bool, limit: float, retry_after: int) -> Refusal:
    text = (
        f"Up to {limit:g} imports of a single contact may be requested per minute."
        if single
        else f"Up to {limit:g} imports may be requested per minute."
    )
    reason = text + "Please batch contacts into larger requests, or retry this request in a minute."
    body = {"success": 0, "message": "Rate limit exceeded.", "failureReasons": [reason]}
    status = config.bulk_rate_limit_status
    return Refusal(status, body, retry_after if status == 429 else None)


# One validated contact: (lowercased email key, lists to subscribe, lists to unsubscribe, names an unknown list).
# The key is the very email string when it was lowercase already.
Prepared = tuple[str, list[AcList], list[AcList], bool]
_NONE: Final[list[AcList]] = []  # shared, never mutated


_MALFORMED: Final = object()


class _Lists:
    """Resolves [{"listid": 1}, {"listid": "2"}] to lists, caching each raw id once per batch."""

    __slots__ = ("_cache", "_lists")

    def __init__(self, state: AccountState) -> None:
        self._lists = state.lists
        self._cache: dict[Any, Any] = {}

    def _one(self, raw: Any) -> Any:
        try:
            return self._cache[raw]
        except KeyError:
            pass
        except TypeError:  # unhashable
            return _MALFORMED
        try:
            found: Any = self._lists.get(int(raw))
        except (TypeError, ValueError):
            found = _MALFORMED
        self._cache[raw] = found
        return found

    def resolve(self, value: Any) -> tuple[list[AcList], list[Any]] | None:
        """(known lists, unknown raw ids); None when the value is malformed."""
        if type(value) is not list:
            return None
        found: list[AcList] = []
        missing: list[Any] = []
        cache = self._cache
        for entry in value:
            if type(entry) is not dict or "listid" not in entry:
                return None
            raw = entry["listid"]
            acl = cache[raw] if type(raw) is int and raw in cache else self._one(raw)
            if acl is None:
                missing.append(raw)
            elif acl is _MALFORMED:
                return None
            else:
                found.append(acl)
        return found, missing


def validate(state: AccountState, config: EmulatorConfig, contacts: list[Any]) -> list[Prepared] | Refusal:
    """Every contact prepared for `apply`, or the whole-batch 400 listing every bad contact."""
    base = config.bulk_failure_index_base
    reject_lists = config.bulk_unknown_list == "reject_batch"
    lists = _Lists(state)
    prepared: list[Prepared] = []
    reasons: list[dict[str, Any]] = []
    resolve = lists.resolve
    refused = {e.strip().lower() for e in config.bulk_refused_emails}
    for index, item in enumerate(contacts):
        email = item.get("email") if type(item) is dict else None
        if not is_valid_email(email) or (refused and email.lower() in refused):  # type: ignore[union-attr]
            reasons.append({"contact": index + base, "failureReason": BAD_EMAIL})
            continue
        key = email.lower()  # type: ignore[union-attr]
        chosen = [_NONE, _NONE]
        unknown = False
        for slot, name in ((0, "subscribe"), (1, "unsubscribe")):
            value = item.get(name)
            if value is None:
                continue
            result = resolve(value)
            if result is None:
                reasons.append({"contact": index + base, "failureReason": f"Field\u2018 {name}\u2019 incorrect format"})
                continue
            chosen[slot], missing = result
            if missing:
                unknown = True
                if reject_lists:
                    reasons.extend(
                        {"contact": index + base, "failureReason": f"List {raw} does not exist"} for raw in missing
                    )
        prepared.append((email if key == email else key, chosen[0], chosen[1], unknown))
    if reasons:
        return _failure(400, *reasons)
    return prepared
