"""make bench [SCENARIO=name|all]: measure the product against AC's ceiling and at 1M and 10M profiles.

Scenarios: ceiling, full_1m, incremental_1pct, full_10m, incremental_10m_1pct, growth (1M, 3M, 10M).

Prints a table (figure, target, measured, pass/fail) and writes bench/results/latest.json.  Generated
inputs are cached in bench/.cache.  Exit code 0 even when a target is missed: the figures are the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.scenarios import Result, ceiling, full_and_incremental, growth

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = ("ceiling", "full_1m", "incremental_1pct", "full_10m", "incremental_10m_1pct", "growth")


def log(line: str) -> None:
    print(line, flush=True)


async def run(selected: list[str]) -> dict[str, Result]:
    results: dict[str, Result] = {}
    if "ceiling" in selected:
        log("ceiling: 100,000 profiles at ActiveCampaign's default limits (about 4 minutes)")
        results["ceiling"] = await ceiling(log)
    reuse: dict[int, dict[str, Any]] = {}
    if "full_1m" in selected or "incremental_1pct" in selected:
        log("full_1m: 1,000,000 profiles with the limits lifted, then incremental_1pct: 1% changed")
        full, incremental = await full_and_incremental(log)
        results["full_1m"], results["incremental_1pct"] = full, incremental
        reuse[1_000_000] = full.figures
    if "full_10m" in selected or "incremental_10m_1pct" in selected:
        log("full_10m: 10,000,000 profiles with the limits lifted, then incremental_10m_1pct: 1% changed")
        full, incremental = await full_and_incremental(log, 10_000_000, ("full_10m", "incremental_10m_1pct"))
        results["full_10m"], results["incremental_10m_1pct"] = full, incremental
        reuse[10_000_000] = full.figures
    if "growth" in selected:
        log("growth: 1,000,000, 3,000,000 and 10,000,000 profiles with the limits lifted")
        results["growth"] = await growth(log, (1_000_000, 3_000_000, 10_000_000), reuse)
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scenario", default="all", help=f"one of {', '.join(SCENARIOS)} or all")
    args = parser.parse_args(argv)
    selected = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    if any(s not in SCENARIOS for s in selected):
        parser.error(f"unknown scenario {args.scenario!r}")
    started = time.monotonic()
    results = asyncio.run(run(selected))
    rows = [c for r in results.values() for c in r.checks]
    width = max((len(c.figure) for c in rows), default=10)
    print()
    print(f"{'figure':<{width}}  {'target':<34}  {'measured':<28}  result")
    for c in rows:
        print(f"{c.figure:<{width}}  {c.target:<34}  {c.measured:<28}  {'pass' if c.ok else 'FAIL'}")
    RESULTS.mkdir(exist_ok=True)
    latest = RESULTS / "latest.json"
    document: dict[str, Any] = json.loads(latest.read_text()) if latest.exists() else {}  # other scenarios stay
    checks = [c for c in document.get("checks", []) if c["figure"].split(".")[0] not in results]
    document.update(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
            "elapsed_s": round(time.monotonic() - started, 1),
            **{
                name: {**r.figures, "date": datetime.now(UTC).isoformat(timespec="seconds")}
                for name, r in results.items()
            },
            "checks": checks + [c.__dict__ for c in rows],
        }
    )
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2))
    print(f"\nwrote {RESULTS / 'latest.json'} ({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
