"""A small client of the product's HTTP API (as served by the stand-in host), for the demo, tests and benchmarks.

It sends the X-MS-CLIENT-PRINCIPAL header that Easy Auth would add; the host runs with
LOCAL_TRUST_PRINCIPAL_HEADER=true, the only case where the app trusts a header it did not get from Easy Auth.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Callable
from typing import Any, Final

import aiohttp

from shared.events import FINAL_STATUSES
from shared.security import encode_principal

ADMIN: Final = encode_principal("admin@example.test", "Admin")


class ApiError(AssertionError):
    """An unexpected answer from the API (status and body in the message)."""


class LocalApi:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, principal: str | None = ADMIN) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.principal = principal

    async def call(
        self, method: str, path: str, body: Any = None, *, principal: str | object | None = ...
    ) -> tuple[int, Any]:
        who = self.principal if principal is ... else principal
        headers = {"X-MS-CLIENT-PRINCIPAL": str(who)} if who else {}
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.http.request(method, self.base_url + path, data=data, headers=headers) as response:
            text = await response.text()
        try:
            return response.status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return response.status, text

    async def expect(self, statuses: tuple[int, ...], method: str, path: str, body: Any = None) -> Any:
        status, answer = await self.call(method, path, body)
        if status not in statuses:
            raise ApiError(f"{method} {path} answered {status}: {answer}")
        return answer

    async def put_connection(self, name: str, *, hostname: str, api_key: str, usable_by: str = "admins") -> Any:
        body = {
            "displayName": f"ActiveCampaign ({hostname})",
            "hostname": hostname,
            "apiKey": api_key,
            "usableBy": usable_by,
            "consent": True,
        }
        return await self.expect((200, 201), "PUT", f"/connections/{name}", body)

    async def put_export(self, name: str, body: dict[str, Any]) -> Any:
        return await self.expect((200, 201), "PUT", f"/exports/{name}", body)

    async def get_export(self, name: str) -> dict[str, Any]:
        return dict(await self.expect((200,), "GET", f"/exports/{name}"))

    async def start_run(self, export: str, **options: Any) -> str:
        answer = await self.expect((202,), "POST", f"/exports/{export}/runs", options or {})
        return str(answer["id"])

    async def get_run(self, export: str, run_id: str) -> dict[str, Any]:
        return dict(await self.expect((200,), "GET", f"/exports/{export}/runs/{run_id}"))

    async def runs(self, export: str) -> list[dict[str, Any]]:
        return list((await self.expect((200,), "GET", f"/exports/{export}/runs"))["items"])

    async def wait_run(
        self,
        export: str,
        run_id: str,
        *,
        timeout: float = 600.0,
        interval: float = 0.1,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, run = await self.call("GET", f"/exports/{export}/runs/{run_id}")
            if status == 503 and time.monotonic() < deadline:  # storage busy: the API says to try again
                await asyncio.sleep(max(interval, 1.0))
                continue
            if status != 200:
                raise ApiError(f"GET /exports/{export}/runs/{run_id} answered {status}: {run}")
            if progress is not None:
                progress(run)
            if run["status"] in FINAL_STATUSES:
                return dict(run)
            if time.monotonic() > deadline:
                raise ApiError(f"run {run_id} is still {run['status']} after {timeout:.0f}s")
            await asyncio.sleep(interval)

    async def report(self, export: str, run_id: str) -> list[dict[str, str]]:
        status, text = await self.call("GET", f"/exports/{export}/runs/{run_id}/report")
        if status != 200:
            raise ApiError(f"report of {run_id} answered {status}: {text}")
        return list(csv.DictReader(io.StringIO(str(text))))


__all__ = ["ADMIN", "FINAL_STATUSES", "ApiError", "LocalApi"]
