"""ActiveCampaign failures, in the product's taxonomy, and the one status table.

`classify()` maps an answer (status code + parsed body) to what the client does.
The client is the only place that translates aiohttp exceptions and AC statuses
into these errors.  Messages name the account host, never the key, and never
carry contact data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from shared.errors import ExportError, FatalError, RetriableError


class Action(Enum):
    OK = "ok"
    RETRY = "retry"  # transient: back off (honouring Retry-After) and try again
    RATE_LIMITED = "rate_limited"  # the account's budget is spent: pause the whole account, then retry
    SPLIT = "split"  # a bulk validation 400: isolate the bad contacts, send the rest
    NOT_FOUND = "not_found"
    FATAL = "fatal"  # credentials, billing, permissions: stop now
    REJECTED = "rejected"  # any other 4xx: this request cannot succeed as sent


# The status table (tests/activecampaign/test_status_table.py covers every row).
STATUS_TABLE: Final[Mapping[int, Action]] = {
    200: Action.OK,
    201: Action.OK,
    202: Action.OK,
    400: Action.REJECTED,  # refined by the body: rate limit -> RATE_LIMITED, failureReasons -> SPLIT
    401: Action.FATAL,
    402: Action.FATAL,
    403: Action.FATAL,
    404: Action.NOT_FOUND,
    408: Action.RETRY,
    409: Action.REJECTED,
    422: Action.REJECTED,
    429: Action.RATE_LIMITED,
    500: Action.RETRY,
    502: Action.RETRY,
    503: Action.RETRY,
    504: Action.RETRY,
}

RATE_LIMIT_MESSAGE: Final = "rate limit exceeded"


def classify(status: int, body: Any) -> Action:
    """What to do with an answer.  `body` is the parsed JSON (or None)."""
    action = STATUS_TABLE.get(status)
    if action is None:
        if 200 <= status < 300:
            action = Action.OK
        elif status >= 500:
            action = Action.RETRY
        else:
            action = Action.REJECTED
    if status == 400 and isinstance(body, Mapping):
        message = str(body.get("message", "")).strip().lower()
        if message.startswith(RATE_LIMIT_MESSAGE):
            return Action.RATE_LIMITED  # the bulk budget's answer, documented as a 400
        reasons = body.get("failureReasons")
        if isinstance(reasons, list) and reasons:
            return Action.SPLIT
    return action


@dataclass(frozen=True)
class FailureReason:
    """One bulk validation failure: the contact's index in the request (when AC gives it) and AC's reason."""

    index: int | None
    reason: str


class AcTransientError(RetriableError):
    """AC was unavailable, slow or throttling, and retries ran out for now."""

    code = "activecampaign_unavailable"


class AcRateLimited(AcTransientError):
    code = "activecampaign_rate_limited"


class AcAuthError(FatalError):
    """401/402/403: the key is wrong or revoked, the account is unpaid, or the user lacks permission."""

    code = "activecampaign_auth_failed"

    def __init__(self, host: str, status: int) -> None:
        reason = {
            401: "refused the API key (401)",
            402: "refused the request because of the account's payment status (402)",
            403: "refused the API key or its permissions (403)",
        }.get(status, f"refused the request ({status})")
        super().__init__(
            f"ActiveCampaign account {host} {reason}. Check the connection's API key in ActiveCampaign under "
            "Settings > Developer, then update the connection."
        )
        self.ac_status = status


class AcHostRefused(FatalError):
    """The account's hostname resolved to a private or internal address (SSRF guard): nothing was sent."""

    code = "activecampaign_host_refused"

    def __init__(self, host: str) -> None:
        super().__init__(
            f"ActiveCampaign account {host} resolves to a private or internal address: the request was refused. "
            "Check the connection's REST endpoint hostname."
        )


class AcNotFound(ExportError):
    """AC says the resource does not exist (e.g. a list id)."""

    code = "activecampaign_not_found"
    status = 404


class AcRequestRejected(FatalError):
    """AC refused a request as sent (a 4xx other than auth, rate limit or bulk validation)."""

    code = "activecampaign_rejected"


class AcBatchInvalid(ExportError):
    """A bulk import failed validation as a whole (400 with failureReasons); nothing was queued."""

    code = "activecampaign_batch_invalid"
    status = 400

    def __init__(self, host: str, reasons: list[FailureReason]) -> None:
        super().__init__(f"ActiveCampaign account {host} refused a bulk import: {len(reasons)} contact(s) invalid")
        self.reasons = reasons


def parse_failure_reasons(body: Mapping[str, Any]) -> list[FailureReason]:
    """AC's two forms: [{"contact": i, "failureReason": "..."}] or a list of strings."""
    out: list[FailureReason] = []
    for item in body.get("failureReasons") or []:
        if isinstance(item, Mapping):
            raw = item.get("contact")
            index = int(raw) if isinstance(raw, (int, str)) and str(raw).lstrip("-").isdigit() else None
            out.append(FailureReason(index, str(item.get("failureReason", "invalid contact"))))
        else:
            out.append(FailureReason(None, str(item)))
    return out


__all__ = [
    "STATUS_TABLE",
    "AcAuthError",
    "AcBatchInvalid",
    "AcHostRefused",
    "AcNotFound",
    "AcRateLimited",
    "AcRequestRejected",
    "AcTransientError",
    "Action",
    "FailureReason",
    "classify",
    "parse_failure_reasons",
]
