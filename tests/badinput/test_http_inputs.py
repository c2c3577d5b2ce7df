"""Bad HTTP input over the wire, through the stand-in host: always a 4xx that names what to fix.

tests/api covers bodies that are not JSON objects, unknown fields, a 70 KB display name,
a declared Content-Length, and short odd names, calling the functions directly.  Here the
requests travel as bytes through aiohttp routing and URL decoding: wrong JSON types in every
export field, NaN and huge numbers, nested unknown fields, bodies too deep or not UTF-8,
names and run ids that are URL-encoded, Unicode, path traversal or 10 KB long, and bad
query values.  None may answer 500, and none may write anything.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from yarl import URL

from local.api_client import ADMIN
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="package")

VALID = {"connection": "ac", "listId": 1, "segments": ["Seg"], "mapping": {"email": "Email"}, "schedule": "manual"}


async def send(
    stack: Stack, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """`path` is sent exactly as written (no client-side normalisation of '..' or percent-escapes)."""
    assert stack.host.http_url is not None
    url = URL(f"{stack.host.http_url}/api/{path}", encoded=True)
    sent = {"X-MS-CLIENT-PRINCIPAL": ADMIN, **({"Content-Type": "application/json"} if body else {}), **(headers or {})}
    async with stack.http.request(method, url, data=body, headers=sent) as response:
        text = await response.text(errors="replace")
    try:
        return response.status, json.loads(text)
    except json.JSONDecodeError:
        return response.status, text


async def config_blobs(stack: Stack) -> list[str]:
    async with stack.container("config") as config:
        return sorted([b.name async for b in config.list_blobs()])


def fields(answer: Any) -> list[str]:
    return sorted(d["field"] for d in answer["error"]["details"])


def body(**changes: Any) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


@pytest.mark.parametrize(
    ("raw", "named", "words"),
    [
        pytest.param(b"null", ["body"], "must be a JSON object, not null", id="null"),
        pytest.param(b"true", ["body"], "not a boolean", id="boolean"),
        pytest.param(b"12", ["body"], "not a number", id="number"),
        pytest.param(
            body(listId="abc", segments="Seg", mapping=None, tags={}, schedule=5),
            ["listId", "mapping", "schedule", "segments", "tags"],
            "",
            id="types",
        ),
        pytest.param(body(listId=10**30), ["listId"], "", id="huge-list-id"),
        pytest.param(body(listId=1.5), ["listId"], "", id="fractional-list-id"),
        pytest.param(body(listId=0), ["listId"], "greater than 0", id="list-id-zero"),
        pytest.param(body()[:-1] + b', "maxRemovalPercent": NaN}', ["maxRemovalPercent"], "", id="NaN"),
        pytest.param(body()[:-1] + b', "maxRemovalPercent": -Infinity}', ["maxRemovalPercent"], "", id="-Infinity"),
        pytest.param(
            body(colour="red", mapping={"email": "Email", "colour": "red"}),
            ["colour", "mapping.colour"],
            "is not a known field",
            id="extras",
        ),
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, ["body"], "nested too deeply", id="nested-too-deeply"),
        pytest.param(b'{"connection": "\xff\xfe"}', ["body"], "is not UTF-8 text", id="not-utf8"),
        pytest.param(body(schedule="61 * * * *"), ["schedule"], "cron expression", id="bad-cron"),
        pytest.param(body(schedule="* * * * * *"), ["schedule"], "5-field", id="six-field-cron"),
        pytest.param(body(snapshotRoot="ci/../../config"), ["snapshotRoot"], "'..'", id="root-traversal"),
        pytest.param(body(segments=["a/b"]), ["segments"], "without '/'", id="segment-with-slash"),
        pytest.param(body(segments=["Seg", "SEG"]), ["segments"], "must not repeat", id="segments-repeat"),
        pytest.param(body(segments=[f"S{i}" for i in range(21)]), ["segments"], "", id="21-segments"),
        pytest.param(body(segments=[]), ["segments"], "", id="no-segment"),
        pytest.param(body(tags=["t" * 101]), ["tags"], "1-100 characters", id="long-tag"),
        pytest.param(body(mapping={"email": ""}), ["mapping.email"], "", id="empty-email-mapping"),
        pytest.param(body(connection="not a name"), ["connection"], "", id="connection-not-a-name"),
        pytest.param(
            body(mapping={"email": "Email", "customFields": [{"attribute": "A", "field": "1"}] * 2}),
            ["mapping"],
            "mapped only once",
            id="custom-field-twice",
        ),
    ],
)
async def test_a_bad_export_body_is_400_naming_each_field(
    bad_stack: Stack, raw: bytes, named: list[str], words: str
) -> None:
    before = await config_blobs(bad_stack)

    status, answer = await send(bad_stack, "PUT", "exports/h-body", raw)

    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_request"
    assert fields(answer) == named, answer
    assert words in json.dumps(answer)
    assert await config_blobs(bad_stack) == before


async def test_an_oversize_body_over_http_is_413_and_saves_nothing(bad_stack: Stack) -> None:
    status, answer = await send(bad_stack, "PUT", "exports/h-big", body(tags=["x" * 100] * 1000))
    assert status == 413 and answer["error"]["code"] == "payload_too_large", answer
    assert "exports/h-big.json" not in await config_blobs(bad_stack)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'{"full": "maybe"}', ["full"]),
        (b'{"dryRun": []}', ["dryRun"]),
        (b'{"force": 2}', ["force"]),
        (b'{"fast": true}', ["fast"]),
        (b"[true]", ["body"]),
    ],
)
async def test_bad_run_options_are_400_naming_the_option_and_start_nothing(
    bad_stack: Stack, raw: bytes, named: list[str]
) -> None:
    status, answer = await send(bad_stack, "PUT", "exports/h-runs", body(snapshotRoot="h/none"))
    assert status in (200, 201), answer

    status, answer = await send(bad_stack, "POST", "exports/h-runs/runs", raw)

    assert (status, fields(answer)) == (400, named), answer
    assert (await bad_stack.call("GET", "/exports/h-runs/runs"))[1]["items"] == []


ODD_NAMES = [
    pytest.param("a%2Fb", id="encoded-slash"),
    pytest.param("%2e%2e", id="encoded-dot-dot"),
    pytest.param("..", id="dot-dot"),
    pytest.param("..%2F..%2Fconnections%2Fac", id="encoded-traversal"),
    pytest.param("%00", id="nul"),
    pytest.param("x%00y", id="embedded-nul"),
    pytest.param("%C3%BCn%C3%AFcode", id="unicode"),
    pytest.param("%F0%9F%99%82", id="emoji"),
    pytest.param("%FF%FE", id="not-utf8"),
    pytest.param("a%20b", id="space"),
    pytest.param("-dash", id="leading-dash"),
    pytest.param("n" * 64, id="64-chars"),
    pytest.param("n" * 10_240, id="10-KB"),
]


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_odd_export_names_are_refused_without_touching_storage(bad_stack: Stack, name: str) -> None:
    before = await config_blobs(bad_stack)

    answers = [
        await send(bad_stack, "PUT", f"exports/{name}", body()),
        await send(bad_stack, "GET", f"exports/{name}"),
        await send(bad_stack, "DELETE", f"exports/{name}"),
        await send(bad_stack, "POST", f"exports/{name}/runs", b"{}"),
        await send(bad_stack, "GET", f"exports/ac/runs/{name}"),
        await send(bad_stack, "GET", f"exports/ac/runs/{name}/report"),
    ]

    for status, answer in answers:
        assert status in (400, 404), answer  # the app's 400 naming the parameter, or no such route at all
        if isinstance(answer, dict):
            assert answer["error"]["code"] in ("invalid_request", "not_found"), answer
    assert await config_blobs(bad_stack) == before


@pytest.mark.parametrize("limit", ["-1", "abc", "0", "101", "1e3", "%00", "9" * 400])
async def test_a_bad_query_value_is_400_naming_it(bad_stack: Stack, limit: str) -> None:
    status, answer = await send(bad_stack, "GET", f"exports/h-runs/runs?limit={limit}")
    assert (status, fields(answer)) == (400, ["limit"]), answer
