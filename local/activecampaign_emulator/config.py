"""EmulatorConfig: every switch for AC behaviour that is not confirmed, every limit and every fault.

One mutable dataclass, set from CLI flags at start (`python -m local.activecampaign_emulator --help`)
and patched at run time (`POST /_emulator/config` with a JSON object of field -> value, or
`Emulator.patch_config()` in process).  Each field's `metadata["doc"]` is its documentation; the
defaults follow activecampaign-api.md (the documented value where there is one, else the most
plausible guess, marked UNCONFIRMED there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_KEY = "emulator-api-key"


def _opt(default: Any, doc: str, *, choices: tuple[Any, ...] = ()) -> Any:
    return field(default=default, metadata={"doc": doc, "choices": choices})


def _doc(doc: str) -> dict[str, Any]:
    return {"doc": doc, "choices": ()}


@dataclass
class EmulatorConfig:
    # --- account and keys -------------------------------------------------------------------
    api_keys: list[str] = field(
        default_factory=lambda: [DEFAULT_API_KEY],
        metadata=_doc("API keys; all belong to ONE account and share its budgets."),
    )
    revoked_keys: list[str] = field(
        default_factory=list, metadata=_doc("Keys answered with 403 from now on (revoke at run time).")
    )
    forbidden_body: str = _opt('{"message":"Forbidden"}', "403 body for a missing/unknown key; '' = no body.")
    default_lists: list[str] = field(
        default_factory=lambda: ["Email Subscription"],
        metadata=_doc("Lists the account has after start/reset (ids 1..n)."),
    )
    contact_limit: int | None = _opt(None, "Plan's contact limit: new contacts beyond it fail (None = unlimited).")
    # --- rate limits (token buckets: capacity = limit, continuous refill of limit per window) --
    limits_enabled: bool = _opt(True, "False lifts every rate limit.")
    rate_scale: float = _opt(1.0, "Multiplies every limit (benchmarks lift them, tests speed them up).")
    general_rps: float = _opt(5.0, "Requests per second per account, all keys together.")
    bulk_multi_per_min: float = _opt(100.0, "Bulk import requests with more than one contact, per minute.")
    bulk_single_per_min: float = _opt(20.0, "Bulk import requests with exactly one contact, per minute.")
    bulk_counts_toward_general: bool = _opt(True, "Bulk import requests also take from the 5 req/s budget.")
    ratelimit_headers: str = _opt(
        "all",
        "Where RateLimit-Limit/-Remaining appear: every response, only on 429, or never.",
        choices=("all", "429_only", "none"),
    )
    rate_limit_body: str = _opt('{"message":"Too Many Requests"}', "Body of a general 429; '' = no body.")
    bulk_rate_limit_status: int = _opt(
        400, "HTTP status of the bulk 'Rate limit exceeded.' answer.", choices=(400, 429)
    )
    limit_over_max: str = _opt(
        "cap", "limit > 100 on collections: cap silently, or answer 400.", choices=("cap", "error")
    )
    # --- bulk import ------------------------------------------------------------------------
    bulk_max_contacts: int = _opt(250, "Most contacts in one bulk import request.")
    bulk_max_bytes: int = _opt(399_999, "Most bytes in one bulk import request body.")
    bulk_cap_status: int = _opt(400, "HTTP status when a bulk request exceeds the contacts or bytes cap.")
    bulk_failure_index_base: int = _opt(0, "Base of failureReasons[].contact (0- or 1-based).", choices=(0, 1))
    bulk_success_key: str = _opt("Success", "Key casing of the accepted answer.", choices=("Success", "success"))
    bulk_unknown_list: str = _opt(
        "fail_contacts",
        "Bulk subscribe/unsubscribe to a list that does not exist (e.g. deleted mid-run): the contact fails "
        "after the 200 (listed in failure, not written), or the list is ignored and the contact written, or the "
        "whole batch is refused with a validation 400.",
        choices=("fail_contacts", "ignore", "reject_batch"),
    )
    bulk_refused_emails: list[str] = field(
        default_factory=list,
        metadata=_doc(
            "Emails (any case) a bulk import refuses as invalid, like a malformed one (the whole batch answers 400 "
            "with failureReasons naming each), although they pass the email check: AC's validation may refuse "
            "addresses ours accepts.",
        ),
    )
    bulk_unknown_field: str = _opt(
        "ignore",
        "Bulk fields[] with an unknown field id: ignored, or the contact fails.",
        choices=("ignore", "fail_contacts"),
    )
    initial_false_s: float = _opt(1.0, "GET /import/info answers status false for this long after submit.")
    processing_delay_s: float = _opt(1.0, "Then waiting -> claimed -> active (thirds of this), then completed.")
    info_success_includes_updated: bool = _opt(False, "import/info success lists updated contacts too.")
    unknown_batch_response: str = _opt(
        "404",
        "GET /import/info for an unknown batchId: 404, 200 with status false, or 400.",
        choices=("404", "false", "400"),
    )
    info_failure_reasons: bool = _opt(
        False,
        "import/info `failure` items are objects {email, reason} (reason: excluded, bounced, contact limit "
        "reached, previously unsubscribed from list, list does not exist, field does not exist) instead of "
        "emails. UNCONFIRMED: AC documents a list of emails only.",
    )
    info_forgets_batches: bool = _opt(
        False,
        "GET /import/info does not know accepted batches (as if AC lost their records) and answers them as "
        "unknown_batch_response says; their contacts are applied all the same.",
    )
    batch_failure_probability: float = _opt(0.0, "Chance that an accepted batch ends failed (nothing applied).")
    batch_failure_status: str = _opt("failed", "Terminal status of such batches.", choices=("failed", "interrupted"))
    # --- contacts -----------------------------------------------------------------------------
    email_case: str = _opt(
        "first",
        "Stored email case: as first written, as last written, or lowercased.",
        choices=("first", "last", "lower"),
    )
    sync_update_status: int = _opt(201, "POST /contact/sync status when it updates a contact.", choices=(200, 201))
    contact_lists_missing_status: int = _opt(
        404,
        "POST /contactLists status for an unknown list/contact (errors[].code related_missing).",
        choices=(400, 404, 422),
    )
    # --- faults ---------------------------------------------------------------------------------
    fault_seed: int | None = _opt(None, "Seed of the fault RNG (reproducible injection); None = random.")
    error_500_probability: float = _opt(0.0, "Chance of a 500 per /api/3 request.")
    error_502_probability: float = _opt(0.0, "Chance of a 502 per /api/3 request.")
    error_503_probability: float = _opt(0.0, "Chance of a 503 per /api/3 request.")
    reset_probability: float = _opt(0.0, "Chance of a connection reset (no response) per /api/3 request.")
    reset_phase: str = _opt(
        "before",
        "Reset before handling (request lost) or after (applied, response lost).",
        choices=("before", "after"),
    )
    fault_routes: list[str] = field(
        default_factory=list,
        metadata=_doc(
            "Routes the 5xx/reset faults hit, as '/path-prefix' or 'METHOD /path-prefix' relative to /api/3; "
            "empty = all.",
        ),
    )
    latency_ms: float = _opt(0.0, "Added latency per /api/3 request, milliseconds.")
    latency_jitter_ms: float = _opt(0.0, "Plus a uniform random 0..jitter milliseconds.")
    latency_routes: list[str] = field(
        default_factory=list, metadata=_doc("Routes that get the latency (same form as fault_routes); empty = all.")
    )
    storm_kind: str | None = _opt(None, "A storm window: every /api/3 request gets 429 or 503.", choices=("429", "503"))
    storm_start_after_s: float = _opt(0.0, "The storm starts this long after it is set.")
    storm_duration_s: float = _opt(0.0, "The storm lasts this long.")
    storm_503_retry_after: bool = _opt(False, "503 storm answers carry Retry-After too.")
    stall_bulk_after: int | None = _opt(
        None,
        "Bulk imports after the Nth accepted one (counted from when this is set) hang, unanswered and not "
        "applied, until this is cleared (then they proceed) or their client disconnects.",
    )
    hold_bulk_answer_after: int | None = _opt(
        None,
        "Bulk imports after the Nth accepted one (counted from when this is set) are applied, then their answer is "
        "withheld until this is cleared (then they are answered) or their client disconnects: AC has the batch, "
        "the client never learns its batchId (the instant a crashed worker cannot checkpoint).",
    )
    # --- logs -------------------------------------------------------------------------------------
    log_limit: int = _opt(2_000_000, "Most arrival/rate-limit log entries kept (oldest dropped).")
