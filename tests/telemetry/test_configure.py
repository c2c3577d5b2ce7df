"""function_app configures Azure Monitor only with APPLICATIONINSIGHTS_CONNECTION_STRING, and then exports
what the alerts need.

Each case imports function_app in a fresh Python process (telemetry is per process and
cannot be undone), with the connection string's ingestion and live endpoints on a local
fake of Application Insights; a socket guard in the child refuses any address but
127.0.0.1, so nothing can leave the machine.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from local.azurite import REPO_ROOT

CHILD = r"""
import json, logging, socket, sys

refused = []
_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo

def _local(host):
    return str(host) in ("127.0.0.1", "localhost", "::1")

def connect(self, address, *args):
    if isinstance(address, tuple) and not _local(address[0]):
        refused.append(str(address[0]))
        raise OSError("tests: only 127.0.0.1")
    return _connect(self, address, *args)

def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _local(host):
        refused.append(str(host))
        raise socket.gaierror("tests: only 127.0.0.1")
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo

import function_app  # configures telemetry from the environment, as the worker's import does
from opentelemetry import _logs, metrics, trace
from shared import telemetry
from shared.metrics import record_ac_responses
from shared.tracing import run_trace

with run_trace("probe-export", "probe-run", new_trace=False):
    trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
    logging.getLogger("functions.probe").info("probe event", extra={"event": "probe.logged"})
    logging.getLogger("shared.probe").info("plain app line")
    logging.getLogger("azure.core.probe").info("sdk chatter")
    logging.getLogger("azure.core.probe").warning("sdk warning")
    logging.getLogger("some.library").info("library chatter")
record_ac_responses("probe-export", "probe.api-us1.com", {429: 3, 200: 9})
for provider in (trace.get_tracer_provider(), _logs.get_logger_provider(), metrics.get_meter_provider()):
    if hasattr(provider, "force_flush"):
        provider.force_flush()
print(json.dumps({
    "configured": telemetry._configured,
    "app_registered": len(function_app.app.get_functions()),
    "tracer_provider": type(trace.get_tracer_provider()).__name__,
    "trace_id": trace_id,
    "refused": sorted(set(refused)),
}))
"""


async def fake_ingestion(aiohttp_server: Any) -> tuple[Any, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    async def track(request: web.Request) -> web.Response:
        if not request.path.endswith("/v2.1/track"):  # live metrics pings
            return web.json_response({})
        raw = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        items = json.loads(raw)
        received.extend(items)
        return web.json_response({"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", track)
    return await aiohttp_server(app), received


async def run_child(tmp_path: Path, connection_string: str | None) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),  # the exporter's retry files, if any
        "PYTHONPATH": str(REPO_ROOT),
        # Microsoft's own telemetry about the SDK and its remote configuration: off (nothing leaves the machine)
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "APPLICATIONINSIGHTS_SDKSTATS_DISABLED": "true",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel",  # no Azure VM metadata call
    }
    if connection_string is not None:
        env["APPLICATIONINSIGHTS_CONNECTION_STRING"] = connection_string
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        cwd=str(REPO_ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode(errors="replace")[-3000:]
    result = dict(json.loads(stdout.decode().strip().splitlines()[-1]))
    result["stderr"] = stderr.decode(errors="replace")
    return result


def of_type(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [i for i in items if i["data"]["baseType"] == kind]


async def test_with_a_connection_string_the_app_exports_its_spans_events_and_metrics(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    server, received = await fake_ingestion(aiohttp_server)
    endpoint = f"http://127.0.0.1:{server.port}/"
    connection = (
        f"InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint={endpoint};LiveEndpoint={endpoint}"
    )
    child = await run_child(tmp_path, connection)
    assert child["configured"] is True and child["app_registered"] > 0
    assert child["tracer_provider"] == "TracerProvider"
    assert child["refused"] == []  # nothing tried to reach anything but 127.0.0.1

    messages = {m["data"]["baseData"]["message"]: m for m in of_type(received, "MessageData")}
    # the app's records, from functions.* too (not only shared.*), with the event and the span's run dimensions
    probe = messages["probe event"]
    assert probe["data"]["baseData"]["properties"]["event"] == "probe.logged"
    assert probe["data"]["baseData"]["properties"]["run"] == "probe-run"
    assert probe["tags"]["ai.operation.id"] == child["trace_id"]
    assert messages["plain app line"]["data"]["baseData"]["properties"]["export"] == "probe-export"
    # other libraries only from WARNING
    assert "sdk warning" in messages
    assert "sdk chatter" not in messages and "library chatter" not in messages

    spans = [i for i in received if i["data"]["baseType"] in ("RemoteDependencyData", "RequestData")]
    (run_span,) = [s for s in spans if s["data"]["baseData"]["name"] == "run.start"]
    assert run_span["tags"]["ai.operation.id"] == child["trace_id"]
    assert run_span["data"]["baseData"]["properties"]["run"] == "probe-run"

    metrics = [
        m
        for m in of_type(received, "MetricData")
        if m["data"]["baseData"]["metrics"][0]["name"] == "ac_export.ac.responses"
    ]
    assert len(metrics) == 1  # the 200s are not counted
    assert metrics[0]["data"]["baseData"]["metrics"][0]["value"] == 3
    assert metrics[0]["data"]["baseData"]["properties"]["status_code"] == "429"


async def test_without_a_connection_string_nothing_is_configured_and_the_app_still_loads(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    child = await run_child(tmp_path, None)
    assert child["configured"] is False and child["app_registered"] > 0
    assert child["tracer_provider"] == "ProxyTracerProvider"  # the no-op API: spans cost nothing
    assert child["refused"] == []
    assert "telemetry is off" not in child["stderr"]  # not configuring is normal, not an error


async def test_a_connection_string_azure_monitor_refuses_turns_telemetry_off_but_the_app_loads(
    tmp_path: Path,
) -> None:
    child = await run_child(tmp_path, "IngestionEndpoint=http://127.0.0.1:9/")  # no instrumentation key
    assert child["configured"] is False and child["app_registered"] > 0
    assert child["refused"] == []
    assert "telemetry is off: Azure Monitor could not be configured (ValueError)" in child["stderr"]
