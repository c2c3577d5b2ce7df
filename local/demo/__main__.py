"""python -m local.demo [--profiles N] [--seed S] [--rate-scale X]  (make demo PROFILES=N RATE_SCALE=X)

With AC_HOSTNAME and AC_API_KEY set in the environment (and AC_LIST_ID, default 1), the demo
sends to that real ActiveCampaign account instead of the emulator, at AC's real limits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from local.demo.scenario import DemoOptions, run_demo


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__)
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate-scale", type=float, default=float(os.environ.get("RATE_SCALE", "20")))
    args = parser.parse_args(argv)
    if args.profiles < 1:
        parser.error("--profiles must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    hostname, key = os.environ.get("AC_HOSTNAME"), os.environ.get("AC_API_KEY")
    if bool(hostname) != bool(key):
        parser.error("set both AC_HOSTNAME and AC_API_KEY to use a real ActiveCampaign account, or neither")
    options = DemoOptions(
        profiles=args.profiles,
        seed=args.seed,
        rate_scale=args.rate_scale if not hostname else 1.0,
        ac_hostname=hostname or None,
        ac_api_key=key or None,
        list_id=int(os.environ.get("AC_LIST_ID", "1")),
    )
    try:
        return asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        print("demo: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
