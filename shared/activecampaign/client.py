"""The production ActiveCampaign client: one aiohttp session, per-account budgets, one error boundary.

Every request goes through `_call`, which waits for the account's budget, sends
once, classifies the answer with the status table and retries what is retriable
(tenacity: exponential backoff with jitter, Retry-After honoured and clamped).
aiohttp's exceptions are translated here and nowhere else.  Redirects are never
followed (a key must not travel to another host).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import orjson
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from shared.activecampaign.budget import AccountBudget, RequestKind
from shared.activecampaign.errors import (
    AcAuthError,
    AcBatchInvalid,
    AcHostRefused,
    AcNotFound,
    AcRateLimited,
    AcRequestRejected,
    Action,
    AcTransientError,
    classify,
    parse_failure_reasons,
)
from shared.activecampaign.models import AcField, AcList, AcUser, ImportInfo
from shared.activecampaign.stats import ClientStats
from shared.config import AcLimits, Secret
from shared.retry_after import retry_after_seconds
from shared.security.resolver import PrivateAddressRefused

logger = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
DEFAULT_RATE_LIMIT_PAUSE_S = 5.0  # when AC's rate-limit answer carries no Retry-After
PAGE_SIZE = 100
MAX_UNKNOWN_POLLS = 8  # import/info answers in a row that do not know a batch (404, 400, false) before giving up
BACKOFF = wait_exponential_jitter(multiplier=0.25, max=20.0, jitter=0.5)  # 0.25, 0.5, 1, 2 ... 20 s (+ jitter)


class ActiveCampaignClient:
    """Operations on one AC account.  Cheap to create: the session and budget are shared."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        host: str,
        base_url: str,
        api_key: Secret,
        budget: AccountBudget,
        limits: AcLimits,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.host = host
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Api-Token": api_key.reveal(), "Accept": "application/json"}
        self._budget = budget
        self._limits = limits
        self._sleep = sleep
        self._timeout = aiohttp.ClientTimeout(total=limits.timeout_s)
        self.stats = ClientStats()

    # -- operations ---------------------------------------------------------------------------

    async def verify_credentials(self) -> AcUser:
        """GET /users/me: the cheapest call that proves the key works for this account."""
        _, body = await self._call("GET", "/users/me")
        user = _get(body, "user", {})
        return AcUser(id=str(user.get("id", "")), username=str(user.get("username", "")))

    async def get_list(self, list_id: str | int) -> AcList:
        status, body = await self._call("GET", f"/lists/{int(list_id)}")
        if status == 404 or not isinstance(body, Mapping) or "list" not in body:
            raise AcNotFound(f"list {list_id} does not exist in ActiveCampaign account {self.host}")
        raw = body["list"]
        return AcList(id=str(raw.get("id", list_id)), name=str(raw.get("name", "")))

    async def fields(self) -> list[AcField]:
        """Every custom field of the account (paginated by 100)."""
        found: list[AcField] = []
        offset = 0
        while True:
            _, body = await self._call("GET", "/fields", params={"limit": PAGE_SIZE, "offset": offset})
            page = _get(body, "fields", [])
            found.extend(AcField.from_json(f) for f in page)
            total = _int(_get(_get(body, "meta", {}), "total", None), len(found))
            offset += len(page)
            if not page or offset >= total:
                return found

    async def lists(self) -> list[AcList]:
        """Every list of the account (paginated by 100), for the console's list picker."""
        found: list[AcList] = []
        while True:
            _, body = await self._call("GET", "/lists", params={"limit": PAGE_SIZE, "offset": len(found)})
            page = _get(body, "lists", [])
            found.extend(AcList(id=str(raw.get("id", "")), name=str(raw.get("name", ""))) for raw in page)
            if not page or len(found) >= _int(_get(_get(body, "meta", {}), "total", None), len(found)):
                return found

    async def bulk_import(self, body: bytes, contact_count: int) -> str:
        """POST /import/bulk_import; returns the batchId.  Raises AcBatchInvalid on a validation 400."""
        kind = RequestKind.BULK_MULTI if contact_count > 1 else RequestKind.BULK_SINGLE
        _, answer = await self._call("POST", "/import/bulk_import", body=body, kind=kind)
        batch_id = _get(answer, "batchId", None)
        if not batch_id:
            raise AcTransientError(f"ActiveCampaign account {self.host} accepted a bulk import without a batchId")
        return str(batch_id)

    async def import_info(self, batch_id: str) -> ImportInfo:
        """The batch's state; `unknown` holds AC's answer when it does not know the batch (404 or 400)."""
        params = {"batchId": batch_id}
        status, body = await self._call("GET", "/import/info", params=params, kind=RequestKind.POLL, accept={400})
        if status in (400, 404):
            return ImportInfo(status=None, unknown=str(status))
        return ImportInfo.from_json(body)

    async def wait_for_batch(self, batch_id: str) -> ImportInfo:
        """Poll import/info, from one poll interval after the import on, until the batch is completed, failed or
        interrupted (or the poll timeout).

        A batch that import/info does not know, MAX_UNKNOWN_POLLS answers in a row (404, 400 or a lasting
        `status: false`; AC documents `false` only for the first second), is given up: the answer has `lost`
        set, and its contacts are unconfirmed.  With the default 2 s interval and its backoff that is about a
        minute and a half; the same every time, whatever the timing.
        """
        deadline = time.monotonic() + self._limits.poll_timeout_s
        delay = self._limits.poll_interval_s
        unknown = 0
        while True:
            await self._sleep(delay)  # AC answers `status: false` for about a second after the import
            delay = min(max(delay * 1.5, 0.05), 30.0)
            info = await self.import_info(batch_id)
            if info.done:
                return info
            unknown = unknown + 1 if info.status is None else 0
            if unknown >= MAX_UNKNOWN_POLLS:
                answer = f"answered {info.unknown}" if info.unknown else "answered status false"
                return ImportInfo(status=None, lost=f"its import/info {answer} {unknown} times in a row")
            if time.monotonic() >= deadline:
                raise AcTransientError(
                    f"ActiveCampaign account {self.host} has not finished a bulk import after "
                    f"{self._limits.poll_timeout_s:.0f}s"
                )

    async def unsubscribed_page(self, list_id: str | int, after_id: int = 0) -> tuple[list[str], int, int]:
        """One page (100, by id) of the list's unsubscribed members (status 2) with ids above `after_id`:
        (lowercased emails, the last id, how many there are from `after_id` on: AC's meta.total)."""
        params = {"listid": int(list_id), "status": 2, "limit": PAGE_SIZE, "orders[id]": "ASC", "id_greater": after_id}
        _, body = await self._call("GET", "/contacts", params=params)
        page = _get(body, "contacts", [])
        emails = [str(c.get("email", "")).strip().lower() for c in page]
        last = max((_int(c.get("id"), after_id) for c in page), default=after_id)
        return emails, last, _int(_get(_get(body, "meta", {}), "total", None), len(page))

    async def find_contact_id(self, email: str) -> str | None:
        _, body = await self._call("GET", "/contacts", params={"email": email})
        contacts = _get(body, "contacts", [])
        return str(contacts[0]["id"]) if contacts else None

    async def list_status(self, contact_id: str, list_id: str | int) -> int | None:
        """The contact's status on the list (1 subscribed, 2 unsubscribed), or None if not a member."""
        _, body = await self._call("GET", f"/contacts/{int(contact_id)}/contactLists")
        for item in _get(body, "contactLists", []):
            if str(item.get("list")) == str(list_id):
                return _int(item.get("status"), 0)
        return None

    async def set_list_status(self, contact_id: str, list_id: str | int, status: int) -> None:
        """POST /contactLists: 1 subscribes (and re-subscribes someone we removed), 2 unsubscribes."""
        payload = {"contactList": {"list": int(list_id), "contact": int(contact_id), "status": status}}
        if status == 1:
            payload["contactList"]["sourceid"] = 4
        code, _ = await self._call("POST", "/contactLists", body=orjson.dumps(payload))
        if code == 404:
            raise AcNotFound(f"list {list_id} or the contact does not exist in ActiveCampaign account {self.host}")

    # -- the one request path -----------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        kind: RequestKind = RequestKind.GENERAL,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> tuple[int, Any]:
        """(status, parsed body) of a request AC answered OK, 404, or with a refusal status in `accept`."""
        retrying = AsyncRetrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type(AcTransientError),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, params, body, kind, accept)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        kind: RequestKind,
        accept: frozenset[int] | set[int],
    ) -> tuple[int, Any]:
        await self._budget.acquire(kind)
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.stats.requests += 1
        try:
            async with self._session.request(
                method,
                self._base + path,
                params=params,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                raw = await response.read()
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, PrivateAddressRefused):
                raise AcHostRefused(self.host) from None
            self.stats.transport_errors += 1
            raise AcTransientError(
                f"ActiveCampaign account {self.host} did not answer ({type(exc).__name__})"
            ) from None
        self.stats.by_status[status] += 1
        parsed = _json(raw)
        if 300 <= status < 400:
            raise AcRequestRejected(
                f"ActiveCampaign account {self.host} answered {method} {path} with a redirect ({status}); "
                "redirects are not followed. Check the connection's REST endpoint hostname."
            )
        action = classify(status, parsed)
        if action is Action.OK or action is Action.NOT_FOUND:
            return status, parsed
        if action is Action.RATE_LIMITED:
            self.stats.rate_limited += 1
            wanted = retry_after if retry_after is not None else DEFAULT_RATE_LIMIT_PAUSE_S
            pause = min(wanted, self._limits.max_retry_after_s)
            self._budget.pause(pause)
            logger.info("activecampaign %s rate limited (%d); pausing the account %.1fs", self.host, status, pause)
            raise AcRateLimited(f"ActiveCampaign account {self.host} is rate limiting requests", retry_after=0.0)
        if action is Action.RETRY:
            raise AcTransientError(
                f"ActiveCampaign account {self.host} answered {status} to {method} {path}", retry_after=retry_after
            )
        if action is Action.FATAL:
            raise AcAuthError(self.host, status)
        if status in accept:
            return status, parsed
        if action is Action.SPLIT and isinstance(parsed, Mapping):
            raise AcBatchInvalid(self.host, parse_failure_reasons(parsed))
        raise AcRequestRejected(f"ActiveCampaign account {self.host} refused {method} {path} ({status})")

    def _stop(self, state: RetryCallState) -> bool:
        """Stop after max_attempts failures.  Rate-limit answers are pacing, not failures: they only
        stop the call once it has spent longer than the poll timeout waiting for the account."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, AcRateLimited):
            return (state.seconds_since_start or 0.0) > self._limits.poll_timeout_s
        return bool(stop_after_attempt(self._limits.max_attempts)(state))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, AcRateLimited):
            return 0.0  # the account-wide pause already holds every request back
        if isinstance(exc, AcTransientError) and exc.retry_after is not None:
            return min(exc.retry_after, self._limits.max_retry_after_s)
        backoff: float = BACKOFF(state)
        return backoff

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # AC sometimes answers 403 with no content type or body


def _get(body: Any, key: str, default: Any) -> Any:
    """body[key] when AC answered a JSON object that has it; otherwise `default`."""
    return body.get(key, default) if isinstance(body, Mapping) else default


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


__all__ = ["ActiveCampaignClient", "ClientStats"]
