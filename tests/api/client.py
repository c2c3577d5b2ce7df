"""Calls the REAL function_app entry points with hand-built func.HttpRequest objects.

`ApiClient.call("PUT", "connections/crm", as_=ADMIN, json={...})` finds the route in the
routes table, the function of that name in `function_app.app.get_functions()`, and
calls its user function with a `func.HttpRequest` and an `Out` per output binding.
Every response and queue message goes into the leak ledger.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import azure.functions as func

import function_app
from shared.api import ROUTES, Route
from shared.security import PRINCIPAL_HEADER, encode_principal
from tests.api.leaks import Ledger

T = TypeVar("T")

ADMIN = encode_principal("alice", "Admin", user_id="u-alice")
ADMIN_2 = encode_principal("bob", "Admin", user_id="u-bob")
CONTRIBUTOR = encode_principal("carol", "Contributor", user_id="u-carol")
VIEWER = encode_principal("victor", "Viewer", user_id="u-victor")
NO_ROLE = encode_principal("nora", user_id="u-nora")


class Out(func.Out[T], Generic[T]):
    def __init__(self) -> None:
        self.value: T | None = None

    def set(self, val: T) -> None:
        self.value = val

    def get(self) -> T:
        assert self.value is not None
        return self.value


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    queue_messages: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        body = self.json()
        assert set(body) == {"error"}, body
        error: dict[str, Any] = body["error"]
        return error

    @property
    def fields(self) -> list[str]:
        return [d["field"] for d in self.error["details"]]

    def header(self, name: str) -> str | None:
        lowered = {k.lower(): v for k, v in self.headers.items()}
        return lowered.get(name.lower())


def _pattern(route: Route) -> re.Pattern[str]:
    parts = [f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in route.path.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


def allow_reindexing(app: func.FunctionApp) -> None:
    """Forget the names of an earlier get_functions().

    azure-functions 1.26 remembers every name it indexed, so a second get_functions() on the same
    app (this suite, then the stand-in host) reports every function as a duplicate.  The real host
    indexes once per process; in one pytest process several parties index function_app.app.
    """
    app.functions_bindings = {}


@functools.cache
def app_functions() -> dict[str, Any]:
    """function_app's indexed functions by name (indexed once for the suite)."""
    allow_reindexing(function_app.app)  # another suite's host may have indexed it in this process
    try:
        return {f.get_function_name(): f for f in function_app.app.get_functions()}
    finally:
        allow_reindexing(function_app.app)


class ApiClient:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.functions = app_functions()
        self.routes = [(route, _pattern(route)) for route in ROUTES]

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route, pattern in self.routes:
            match = pattern.match(path)
            if match and route.method == method:
                return route, match.groupdict()
        raise AssertionError(f"no route for {method} {path}")

    async def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        route, params = self.resolve(method, path)
        function = self.functions[route.function_name]
        sent = dict(headers or {})
        if as_ is not None:
            sent[PRINCIPAL_HEADER] = as_
        raw = body if body is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        request = func.HttpRequest(
            method, f"http://127.0.0.1:7071/api/{path}", headers=sent, params=query or {}, route_params=params, body=raw
        )
        outs: dict[str, Out[str]] = {
            b.name: Out() for b in function.get_bindings() if int(b.direction) == 1 and b.type == "queue"
        }
        response = await function.get_user_function()(req=request, **outs)
        assert isinstance(response, func.HttpResponse)
        reply = Reply(response.status_code, dict(response.headers), response.get_body() or b"")
        reply.queue_messages = [out.value for out in outs.values() if out.value is not None]
        self.ledger.record_response(f"{method} {path}", reply.status, reply.headers, reply.body)
        self.ledger.messages.extend(reply.queue_messages)
        return reply


__all__ = [
    "ADMIN",
    "ADMIN_2",
    "CONTRIBUTOR",
    "NO_ROLE",
    "VIEWER",
    "ApiClient",
    "Out",
    "Reply",
    "allow_reindexing",
    "app_functions",
]
