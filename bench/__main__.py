"""make bench [SCENARIO=ceiling|full_1m|incremental_1pct|growth|all]: measure the product against AC's ceiling.

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
SCENARIOS = ("ceiling", "full_1m", "incremental_1pct", "growth")


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
    if "growth" in selected:
        log("growth: 100,000, 300,000 and 1,000,000 profiles with the limits lifted")
        results["growth"] = await growth(log, (100_000, 300_000, 1_000_000), reuse)
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
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "elapsed_s": round(time.monotonic() - started, 1),
        **{name: r.figures for name, r in results.items()},
        "checks": [c.__dict__ for c in rows],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2))
    print(f"\nwrote {RESULTS / 'latest.json'} ({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
