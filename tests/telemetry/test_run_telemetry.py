"""One demo-sized run through the stand-in host, with the app's telemetry captured in memory.

What an operator relies on in Application Insights: the run is ONE trace from the runs API
through the planner, every shard and the finaliser; its spans and logs say which export,
run, shard and account they belong to; the metrics add up to the run's own counts and to
the 429/503 answers ActiveCampaign really gave; and no contact email or key leaks.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from local.activecampaign_emulator.config import DEFAULT_API_KEY
from local.azurite import Azurite
from local.sample_data import SampleOptions
from shared.events import (
    EVENT_RUN_FINISHED,
    EVENT_RUN_STARTED,
    EVENT_SHARD_FINISHED,
    METRIC_AC_RESPONSES,
    METRIC_LANE_WAIT,
    METRIC_PROFILES,
    METRIC_RUN_DURATION,
    METRIC_SEND_RATE,
)
from shared.tracing import RUN_SPAN
from tests.e2e.stack import Stack, emulator_config
from tests.helpers import eventually
from tests.telemetry.conftest import Telemetry

pytestmark = [pytest.mark.azurite, pytest.mark.slow]
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# AC answers 429s: the account's budget in the emulator (0.1 x 50 = 5 requests/s, 5 at once) is far below the
# client's (250/s), and the shards start together.  And 503s on /import: with this seed the 9th and the 22nd
# /import requests get one.
FAULTY = {
    "config": emulator_config(general_rps=0.1, error_503_probability=0.05, fault_routes=["/import"], fault_seed=7),
}


async def emulator_answers(stack: Stack) -> Counter[tuple[str, int]]:
    counts = (await stack.inspect("requests"))["counts"]
    return Counter({(route, int(status)): n for route, by in counts.items() for status, n in by.items()})


@pytest.mark.parametrize("stack_options", [FAULTY])
async def test_a_run_is_one_trace_with_its_dimensions_metrics_and_no_contact_data(
    stack: Stack, otel: Telemetry
) -> None:
    await stack.connect()
    await stack.create_export("customers")
    sample, answer = await stack.write_sample(SampleOptions(profiles=3000, seed=21, partitions=3))
    before = await emulator_answers(stack)
    run = await stack.run("customers", timeout=120)
    assert run["status"] == "Succeeded", run
    host = stack.emulator.url.removeprefix("http://")
    shards = run["shards"]["total"]
    assert shards >= 5  # several shards, each a separate queue job

    # -- one trace per run ------------------------------------------------------------------------------
    def ours_ended() -> list[Any]:
        return [s for s in otel.spans if (s.attributes or {}).get("run") == run["id"]]

    # the run is final before its finaliser's (and maybe the last shard's) span ends; the finaliser runs once to
    # queue each bucket's commit, once per bucket, and once to end the run
    buckets = run["planning"]["buckets"]
    await eventually(lambda: sum(s.name in ("shard", "finalize") for s in ours_ended()) >= shards + 2 * buckets + 1)
    ours = ours_ended()
    by_name: dict[str, list[Any]] = {}
    for span in ours:
        by_name.setdefault(span.name, []).append(span)
    (root,) = by_name[RUN_SPAN]
    (plan,) = by_name["plan"]
    tasks = by_name["plan-task"]  # a split per partition, then a plan per bucket (queued again if a split was
    assert len(tasks) >= 3 + buckets  # quicker than the run's own message: a bucket already planned does nothing)
    task_ids = {t.context.span_id for t in tasks}
    trace_id = root.context.trace_id
    assert {s.context.trace_id for s in ours} == {trace_id}
    assert root.parent is None  # the run starts its own trace
    assert plan.parent is not None and plan.parent.span_id == root.context.span_id
    assert {t.parent.span_id for t in tasks} == {plan.context.span_id}  # via the plan messages
    assert {s.parent.span_id for s in by_name["shard"]} <= task_ids  # the bucket that cut them queued them
    assert by_name["finalize"] and {f.parent.span_id for f in by_name["finalize"]} <= task_ids
    assert all(s.status.is_ok for s in by_name["shard"]), [s.status for s in by_name["shard"]]
    assert len(by_name["shard"]) == shards
    assert {s.attributes["shard"] for s in by_name["shard"]} == set(range(shards))
    for span in ours:
        assert span.attributes["export"] == "customers"
    for span in by_name["shard"]:
        assert span.attributes["account_host"] == host
    # the Azure SDK's storage calls made for the run are in the same trace
    assert sum(1 for s in otel.spans if s.context.trace_id == trace_id and s not in ours) > shards

    # -- logs: the structured events, in the run's trace, with its dimensions -----------------------------
    events: dict[str, list[Any]] = {}
    for record in otel.logs:
        attributes = dict(record.log_record.attributes or {})
        if attributes.get("run") == run["id"] and "event" in attributes:
            events.setdefault(str(attributes["event"]), []).append(record.log_record)
    assert len(events[EVENT_RUN_STARTED]) == len(events[EVENT_RUN_FINISHED]) == 1
    assert len(events[EVENT_SHARD_FINISHED]) == shards
    for log in (r for records in events.values() for r in records):
        assert log.trace_id == trace_id
        assert log.attributes["export"] == "customers"
    for log in events[EVENT_SHARD_FINISHED]:
        assert log.attributes["account_host"] == host and log.attributes["shard"] in range(shards)
    (finished,) = events[EVENT_RUN_FINISHED]
    assert finished.attributes["status"] == "Succeeded" and finished.attributes["sent"] == run["counts"]["sent"]
    noisy = [r for r in otel.logs if r.instrumentation_scope and r.instrumentation_scope.name.startswith("azure.")]
    assert all(r.log_record.severity_number.value >= 13 for r in noisy)  # the SDKs only from WARNING

    # -- metrics --------------------------------------------------------------------------------------------
    counts = run["counts"]
    assert counts["profilesRead"] == answer.rows and counts["invalid"] == answer.invalid > 0
    for outcome, key in (
        ("read", "profilesRead"),
        ("sent", "sent"),
        ("confirmed", "confirmed"),
        ("rejected", "rejected"),
        ("invalid", "invalid"),
    ):
        assert otel.total(METRIC_PROFILES, outcome=outcome, export="customers") == counts[key], outcome
    assert otel.count(METRIC_RUN_DURATION, export="customers", status="Succeeded") == 1
    # every 429 and 503 the account answered is in the shards' metrics: the planner's one call (its list check)
    # is answered 200, before any shard starts; the shards' own list checks are in their metrics
    after = await emulator_answers(stack)
    seen: Counter[int] = Counter()
    for (_, status), n in (after - before).items():
        seen[status] += n
    assert seen[429] > 0 and seen[503] > 0, seen  # the faults happened
    for status in (429, 503):
        assert otel.total(METRIC_AC_RESPONSES, status_code=status, account_host=host) == seen[status], status
    for name in (METRIC_SEND_RATE, METRIC_LANE_WAIT):
        assert otel.count(name, export="customers", account_host=host) == shards, name
    assert otel.total(METRIC_SEND_RATE) > 0

    # -- no contact data, no keys ---------------------------------------------------------------------------
    texts = telemetry_texts(otel)
    emails = {str(e).strip().lower() for e in sample.table["Email"].to_pylist() if e and str(e).strip()}
    found = {m.lower() for text in texts for m in EMAIL.findall(text)}
    assert not found & emails, sorted(found & emails)[:5]
    assert not found, sorted(found)[:5]  # nothing email-shaped at all
    blob = "\n".join(texts).lower()
    leaked = [e for e in emails if "@" not in e and len(e) >= 6 and e in blob]  # invalid emails of the sample
    assert not leaked, leaked[:5]
    for secret in (stack.emulator.api_key, DEFAULT_API_KEY, storage_key(stack.azurite)):
        assert secret.lower() not in blob


def telemetry_texts(otel: Telemetry) -> list[str]:
    """Every string that would leave the process, plus every record the app's loggers made."""
    texts: list[str] = []

    def add(values: Any) -> None:
        for key, value in dict(values or {}).items():
            texts.append(f"{key}={value}")

    for span in otel.spans:
        texts.append(span.name)
        texts.append(span.status.description or "")
        add(span.attributes)
        for event in span.events:
            texts.append(event.name)
            add(event.attributes)
        for link in span.links:
            add(link.attributes)
    for record in otel.logs:
        texts.append(str(record.log_record.body))
        add(record.log_record.attributes)
    for app_record in otel.app_records:
        texts.append(app_record.getMessage())
        add({k: v for k, v in vars(app_record).items() if k not in ("msg", "args", "message")})
    assert len(texts) > 1000  # the capture worked
    return texts


def storage_key(azurite: Azurite) -> str:
    return next(p.split("=", 1)[1] for p in azurite.connection_string.split(";") if p.startswith("AccountKey="))


async def test_one_timer_tick_that_starts_two_runs_gives_each_run_its_own_trace(stack: Stack, otel: Telemetry) -> None:
    await stack.connect()
    await stack.create_export("first", segments=["A"], schedule="refresh")
    await stack.create_export("second", segments=["B"], schedule="refresh")
    await stack.write_sample(SampleOptions(profiles=600, seed=4, segments=("A", "B"), partitions=1))
    assert await stack.host.run_function("refresh_timer")

    def runs_of(export: str) -> dict[str, list[Any]]:
        spans: dict[str, list[Any]] = {}
        for span in otel.spans:
            if (span.attributes or {}).get("export") == export and "run" in (span.attributes or {}):
                spans.setdefault(span.name, []).append(span)
        return spans

    await eventually(lambda: all("finalize" in runs_of(e) for e in ("first", "second")), timeout=60)
    (tick,) = [s for s in otel.spans if s.name == "refresh"]
    traces = set()
    for export in ("first", "second"):
        spans = runs_of(export)
        (root,) = spans[RUN_SPAN]
        assert root.parent is None  # not a child of the tick: a trace of its own ...
        assert [link.context.span_id for link in root.links] == [tick.context.span_id]  # ... linked to it
        assert {s.context.trace_id for named in spans.values() for s in named} == {root.context.trace_id}
        assert {"plan", "shard", "finalize"} <= set(spans)
        traces.add(root.context.trace_id)
    assert len(traces) == 2 and tick.context.trace_id not in traces
