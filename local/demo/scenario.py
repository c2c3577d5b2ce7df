"""The demo's steps: a first full run, then an incremental mirror-mode refresh, each checked against the emulator."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Final

from azure.storage.blob.aio import ContainerClient

from local.demo.progress import RunProgress
from local.sample_data import Oracle, Sample, SampleOptions, generate, mutate, oracle, write_snapshot
from local.stack import LocalStack, StackOptions, scaled_limits

EXPORT: Final = "demo-segment"
CONNECTION: Final = "demo-ac"
SNAPSHOT_ROOT: Final = "CustomerInsights_demo/segments"
SEGMENT: Final = "ActiveCustomers"


@dataclass
class DemoOptions:
    profiles: int = 100_000
    seed: int = 42
    rate_scale: float = 20.0
    ac_hostname: str | None = None
    ac_api_key: str | None = None
    list_id: int = 1
    timeout_s: float = 1800.0


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def stack_options(opts: DemoOptions) -> StackOptions:
    settings = {
        "REFRESH_SCHEDULE": "*/3 * * * * *",  # the scheduled refresh, every 3 s for the demo
        "SNAPSHOT_ROOT": SNAPSHOT_ROOT,
        "LOCAL_SECRETS_FILE": ".local/demo-secrets.json",
    }
    emulator_args: list[str] = []
    if opts.ac_hostname is None:
        settings.update(scaled_limits(opts.rate_scale))
        emulator_args = [
            "--rate-scale",
            f"{opts.rate_scale:g}",
            "--initial-false-s",
            "0.3",
            "--processing-delay-s",
            "0.6",
        ]
    return StackOptions(
        settings=settings, emulator_args=emulator_args, ac_hostname=opts.ac_hostname, ac_api_key=opts.ac_api_key
    )


async def run_demo(opts: DemoOptions) -> int:
    started = time.monotonic()
    real = opts.ac_hostname is not None
    async with LocalStack(stack_options(opts)) as stack:
        target = f"ActiveCampaign account {opts.ac_hostname}" if real else f"the AC emulator at {stack.ac_hostname}"
        print(
            f"demo: Azurite on {stack.azurite.blob_port if stack.azurite else '?'}, {target}, "
            f"stand-in host at {stack.host.http_url if stack.host else '?'}"
        )
        if not real:
            print(
                f"demo: AC's limits x{opts.rate_scale:g} (5 req/s and 100 bulk imports/min in reality; "
                "RATE_SCALE=1 runs at AC's real ceiling)"
            )
        sample = await _snapshot(stack, generate(SampleOptions(profiles=opts.profiles, seed=opts.seed)))
        answer = oracle(sample)
        print(
            f"demo: wrote a Customer Insights export of {answer.rows:,} profiles "
            f"({answer.invalid:,} invalid emails, {answer.duplicates:,} duplicates)"
        )
        await stack.api.put_connection(CONNECTION, hostname=stack.ac_hostname, api_key=stack.ac_api_key)
        await stack.api.put_export(EXPORT, _export_body(opts.list_id))
        print("demo: created the connection and a mirror-mode export; waiting for the scheduled refresh")
        print(f"demo: watch the run in the console: {stack.console_url}exports/{EXPORT} (sign in with any name)")
        first = await _next_run(stack, None, "full run", opts.timeout_s)
        _summary("first run", first)
        check = Check()
        writes_before: dict[str, int] = {}
        if not real:
            writes_before = await _first_checks(stack, first, answer, check)
        change = mutate(sample, seed=opts.seed + 1)
        await _snapshot(stack, change.sample)
        print(
            f"demo: new snapshot: {len(change.changed):,} changed, {len(change.added):,} new, "
            f"{len(change.removed):,} gone"
        )
        second = await _next_run(stack, first["id"], "refresh", opts.timeout_s)
        _summary("refresh", second)
        if not real:
            await _second_checks(stack, second, oracle(change.sample), change, writes_before, check)
        else:
            check.expect(second["status"] in ("Succeeded", "PartiallySucceeded"), f"refresh ended {second['status']}")
    elapsed = time.monotonic() - started
    if check.problems:
        for problem in check.problems:
            print(f"demo: PROBLEM: {problem}")
        print(f"demo: FAILED ({len(check.problems)} problems) after {elapsed:.1f}s")
        return 1
    c1, c2 = first["counts"], second["counts"]
    print(
        f"demo: OK {c1['profilesRead']:,} profiles: {c1['confirmed']:,} in the list, {c1['invalid']:,} invalid, "
        f"{c1['duplicates']:,} duplicates; the refresh sent {c2['sent']:,} changes and removed {c2['removed']:,} "
        f"leavers; {elapsed:.1f}s"
    )
    return 0


def _export_body(list_id: int) -> dict[str, Any]:
    return {
        "connection": CONNECTION,
        "listId": list_id,
        "segments": [SEGMENT],
        "mapping": {"email": "Email", "firstName": "FirstName", "lastName": "LastName", "phone": "Phone"},
        "tags": ["customer-insights"],
        "schedule": "refresh",
        "syncMode": "mirror",
        "leaverAction": "unsubscribe",
        "excludeAutomations": True,
    }


async def _snapshot(stack: LocalStack, sample: Sample) -> Sample:
    assert stack.azurite is not None
    container_name = stack.settings["SNAPSHOT_CONTAINER"]
    async with ContainerClient.from_connection_string(stack.azurite.connection_string, container_name) as container:
        await write_snapshot(container, sample, root=SNAPSHOT_ROOT)
    return sample


async def _next_run(stack: LocalStack, after: str | None, label: str, timeout_s: float) -> dict[str, Any]:
    """Wait for the timer to start a run newer than `after`, then follow it to the end."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs = await stack.api.runs(EXPORT)
        if runs and runs[0]["id"] != after:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the scheduled refresh did not start a run")
        await asyncio.sleep(0.5)
    progress = RunProgress(label)
    try:
        return await stack.api.wait_run(EXPORT, runs[0]["id"], timeout=timeout_s, interval=0.25, progress=progress)
    finally:
        progress.finish()


def _summary(label: str, run: dict[str, Any]) -> None:
    c, t = run["counts"], run["timings"]
    print(f"  {label}: {run['status']} in {t['durationS']:.1f}s (planning {t['planningS'] or 0:.1f}s)")
    print(
        f"    read {c['profilesRead']:,} | invalid {c['invalid']:,} | duplicates {c['duplicates']:,} | "
        f"unchanged {c['unchanged']:,} | to send {c['toSend']:,} (new {c['toAdd']:,}, changed {c['toUpdate']:,})"
    )
    print(
        f"    sent {c['sent']:,} | confirmed {c['confirmed']:,} | rejected {c['rejected']:,} | "
        f"removed {c['removed']:,} | rate-limit answers {run['rateLimited']} | retries {run['retries']}"
    )
    if run.get("reason"):
        print(f"    note: {run['reason']}")
    if run.get("error"):
        print(f"    error: {run['error']['message']}")


async def _first_checks(stack: LocalStack, run: dict[str, Any], answer: Oracle, check: Check) -> dict[str, int]:
    statuses = (await stack.inspect("lists/1/members?compact=1"))["statuses"]
    subscribed = {e for e, s in statuses.items() if s == 1}
    expected = answer.expected_set()
    check.expect(run["status"] == "Succeeded", f"the first run ended {run['status']}")
    check.expect(not (expected - subscribed), f"{len(expected - subscribed):,} expected contacts are missing")
    check.expect(not (subscribed - expected), f"{len(subscribed - expected):,} unexpected contacts are in the list")
    c = run["counts"]
    check.expect(c["invalid"] == answer.invalid, f"invalid {c['invalid']} != {answer.invalid} expected")
    check.expect(c["duplicates"] == answer.duplicates, f"duplicates {c['duplicates']} != {answer.duplicates}")
    outcomes = sum(c[k] for k in ("invalid", "duplicates", "unchanged", "optedOut", "confirmed", "rejected", "notSent"))
    check.expect(outcomes == c["profilesRead"], f"outcomes add up to {outcomes}, not {c['profilesRead']} rows read")
    writes: dict[str, int] = (await stack.inspect("writes"))["writes"]
    check.expect(max(writes.values(), default=1) == 1, "some contact was written more than once")
    return writes


async def _second_checks(
    stack: LocalStack, run: dict[str, Any], answer: Oracle, change: Any, before: dict[str, int], check: Check
) -> None:
    statuses = (await stack.inspect("lists/1/members?compact=1"))["statuses"]
    subscribed = {e for e, s in statuses.items() if s == 1}
    removed = {e for e, s in statuses.items() if s == 2}
    check.expect(run["status"] == "Succeeded", f"the refresh ended {run['status']}")
    check.expect(subscribed == answer.expected_set(), "the list's subscribers differ from the new snapshot's emails")
    check.expect(removed == set(change.removed), "the unsubscribed contacts are not exactly the leavers")
    writes: dict[str, int] = (await stack.inspect("writes"))["writes"]
    touched = {e for e, n in writes.items() if n != before.get(e, 0)}
    expected = set(change.changed) | set(change.added) | set(change.removed)
    check.expect(
        touched == expected, f"the refresh wrote {len(touched):,} contacts, expected exactly {len(expected):,}"
    )
