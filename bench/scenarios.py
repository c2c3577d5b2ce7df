"""The benchmark scenarios (product.md §10).  Each returns its figures and the checks against the targets."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from bench.harness import BenchStack, Monitor
from local.sample_data import Sample, SampleOptions, cached_sample, mutate, oracle

CACHE: Final = Path(__file__).resolve().parent / ".cache"
LIFTED: Final = {
    "AC_RATE_PER_SECOND": "100000",
    "AC_BULK_PER_MINUTE": "10000000",
    "AC_BULK_SINGLE_PER_MINUTE": "1000000",
    "AC_POLL_INTERVAL_SECONDS": "0.05",
}
LIFTED_EMULATOR: Final = ["--no-limits-enabled", "--initial-false-s", "0", "--processing-delay-s", "0"]
EXPORT_BODY: Final = {
    "connection": "bench",
    "listId": 1,
    "segments": ["ActiveCustomers"],
    "mapping": {"email": "Email", "firstName": "FirstName", "lastName": "LastName", "phone": "Phone"},
    "schedule": "manual",
    "excludeAutomations": True,
}
OUR_PROCESSES: Final = ("planner", "workers", "finaliser")


@dataclass
class Check:
    figure: str
    target: str
    measured: str
    ok: bool


@dataclass
class Result:
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def check(self, figure: str, target: str, measured: str, ok: bool) -> None:
        self.checks.append(Check(figure, target, measured, ok))


def sample(profiles: int) -> Sample:
    return cached_sample(SampleOptions(profiles=profiles, seed=7, partitions=4), CACHE)


async def _prepare(stack: BenchStack, data: Sample) -> None:
    await stack.write_snapshot(data, CACHE)
    assert stack.emulator is not None
    hostname = stack.emulator.url.removeprefix("http://")
    await stack.api.put_connection("bench", hostname=hostname, api_key=stack.emulator.api_keys[0])
    await stack.api.put_export("bench", EXPORT_BODY)


async def _timed_run(stack: BenchStack, log: Callable[[str], None], **options: Any) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    run_id = await stack.api.start_run("bench", **options)
    last = [0.0]

    def progress(run: dict[str, Any]) -> None:
        if time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            c = run["counts"]
            log(
                f"    {run['status']:<11} confirmed {c['confirmed']:,}/{c['toSend']:,} "
                f"shards {run['shards']['done']}/{run['shards']['total']}  {time.monotonic() - started:.0f}s"
            )

    # polled once a second, as the console polls a live run; the wall time is the run record's own, from queued
    # to finished (not when the poll noticed)
    run = await stack.api.wait_run("bench", run_id, timeout=7200, interval=1.0, progress=progress)
    timings = run["timings"]
    queued, finished = (datetime.fromisoformat(timings[k]) for k in ("queuedAt", "finishedAt"))
    return run, (finished - queued).total_seconds()


async def ceiling(log: Callable[[str], None], profiles: int = 100_000) -> Result:
    """At AC's default limits: how close the bulk rate gets to what the account's budget allows."""
    result = Result()
    stack = await BenchStack({}, []).start()  # AC's limits in the emulator and in the client
    try:
        await _prepare(stack, sample(profiles))
        run, wall = await _timed_run(stack, log)
        budgets = await stack.inspect("budgets")
        bulk = budgets["accepted_bulk_multi"]
        limited = len((await stack.inspect("requests"))["rate_limited"])
    finally:
        await stack.stop()
    use = float(bulk["ceiling_use"] or 0.0)
    capacity, rate_per_s = 100.0, 100.0 / 60.0
    implied = (4000 / max(use, 1e-9) - capacity) / rate_per_s / 60.0
    result.figures = {
        "profiles": profiles,
        "status": run["status"],
        "bulk_requests": bulk["count"],
        "sending_window_s": round(bulk["interval_s"], 1),
        "allowed": round(bulk["allowed"], 1),
        "use": round(use, 4),
        "rate_limited": limited,
        "wall_s": round(wall, 1),
        "implied_1m_minutes": round(implied, 1),
    }
    result.check("ceiling.use", ">= 0.97", f"{use:.4f}", use >= 0.97)
    result.check("ceiling.rate_limited", "0", str(limited), limited == 0)
    result.check("ceiling.status", "Succeeded", run["status"], run["status"] == "Succeeded")
    return result


async def full_and_incremental(
    log: Callable[[str], None], profiles: int = 1_000_000, names: tuple[str, str] = ("full_1m", "incremental_1pct")
) -> tuple[Result, Result]:
    """`profiles` profiles with AC's limits lifted, then the same profiles with 1% changed."""
    full, incremental = Result(), Result()
    full_name, incremental_name = names
    data = sample(profiles)
    stack = await BenchStack(dict(LIFTED), list(LIFTED_EMULATOR)).start()
    try:
        await _prepare(stack, data)
        stats = stack.processes()
        async with Monitor(stats) as monitor:
            run, wall = await _timed_run(stack, log)
        full.figures = {"profiles": profiles, **_run_figures(run, wall, monitor)}
        expected = set(oracle(data).expected_set())
        await _full_checks(full_name, full, stack, run, wall, monitor, expected, profiles)

        change = mutate(data, seed=11, change_rate=0.01, add_rate=0.0, remove_rate=0.0)
        await stack.write_snapshot(change.sample, CACHE)
        async with Monitor(stats) as monitor2:
            run2, wall2 = await _timed_run(stack, log)
        sent = run2["counts"]["sent"]
        incremental.figures = {**_run_figures(run2, wall2, monitor2), "sent": sent, "changed": len(change.changed)}
        incremental.check(
            f"{incremental_name}.sent",
            f"== {len(change.changed):,} changed",
            f"{sent:,}",
            sent == len(change.changed) and run2["status"] == "Succeeded",
        )
        limit = 20 * profiles / 1_000_000
        incremental.check(f"{incremental_name}.wall_s", f"<= {limit:.0f}", f"{wall2:.1f}", wall2 <= limit)
        _memory_checks(incremental_name, incremental, monitor2)
    finally:
        await stack.stop()
    return full, incremental


def _run_figures(run: dict[str, Any], wall: float, monitor: Monitor) -> dict[str, Any]:
    cpu = monitor.cpu()
    ours = round(sum(cpu[name] for name in OUR_PROCESSES), 1)
    confirmed = run["counts"]["confirmed"]
    profiles_read = run["counts"]["profilesRead"]
    return {
        "status": run["status"],
        "confirmed": confirmed,
        "wall_s": round(wall, 1),
        "planning_s": run["timings"]["planningS"],
        "buckets": (run.get("planning") or {}).get("buckets"),
        "cpu_s": {**cpu, "product": ours},
        "product_cpu_s_per_million": round(ours / (profiles_read / 1_000_000), 1) if profiles_read else None,
        "peak_rss_mb": monitor.peak_rss_mb(),
        "contacts_per_cpu_s": round(confirmed / ours) if ours else None,
    }


def _memory_checks(name: str, result: Result, monitor: Monitor) -> None:
    for role in OUR_PROCESSES:
        peak = monitor.peak_rss_mb()[role]
        result.check(f"{name}.peak_rss_mb.{role}", "<= 512", f"{peak:.0f}", peak <= 512)


async def _full_checks(
    name: str,
    result: Result,
    stack: BenchStack,
    run: dict[str, Any],
    wall: float,
    monitor: Monitor,
    expected: set[str],
    profiles: int,
) -> None:
    confirmed = run["counts"]["confirmed"]
    members = await stack.list_members(1)  # every valid unique contact, checked in the emulator
    exact = members == expected
    result.check(
        f"{name}.status",
        f"Succeeded, {len(expected):,} confirmed, the list exact",
        f"{run['status']}, {confirmed:,}, {'exact' if exact else 'NOT exact'}",
        run["status"] == "Succeeded" and confirmed == len(expected) and exact,
    )
    limit = 60 * profiles / 1_000_000
    result.check(f"{name}.wall_s", f"<= {limit:.0f}", f"{wall:.1f}", wall <= limit)
    per_million = result.figures["product_cpu_s_per_million"] or 0.0
    result.check(f"{name}.cpu_s_per_million", "<= 25", f"{per_million:.1f}", per_million <= 25)
    _memory_checks(name, result, monitor)


async def growth(log: Callable[[str], None], sizes: tuple[int, ...], reuse: dict[int, dict[str, Any]]) -> Result:
    """Full runs of several sizes (limits lifted): time per profile and worker memory as the segment grows."""
    result = Result()
    rows: dict[str, dict[str, Any]] = {}
    for size in sizes:
        if size in reuse:
            figures = reuse[size]
        else:
            log(f"  growth: {size:,} profiles")
            data = sample(size)
            stack = await BenchStack(dict(LIFTED), list(LIFTED_EMULATOR)).start()
            try:
                await _prepare(stack, data)
                async with Monitor(stack.processes()) as monitor:
                    run, wall = await _timed_run(stack, log)
                figures = _run_figures(run, wall, monitor)
            finally:
                await stack.stop()
        rows[str(size)] = {
            "wall_s": figures["wall_s"],
            "s_per_100k": round(figures["wall_s"] / (size / 100_000), 2),
            "peak_rss_mb": figures["peak_rss_mb"],
        }
    result.figures = rows
    per = [r["s_per_100k"] for r in rows.values()]
    first, last = per[0], per[-1]
    drift = abs(last - first) / first
    result.check(
        "growth.s_per_100k",
        f"largest within ±20% of smallest ({', '.join(f'{s:,}' for s in sizes)})",
        f"{', '.join(f'{p:.2f}' for p in per)} ({drift:+.0%})",
        drift <= 0.20,
    )
    for role in OUR_PROCESSES:
        peaks = [r["peak_rss_mb"][role] for r in rows.values()]
        result.check(
            f"growth.peak_rss_mb.{role}",
            "<= 512 at every size",
            ", ".join(f"{p:.0f}" for p in peaks),
            max(peaks) <= 512,
        )
    return result
