"""python -m local.host: the local equivalent of `func start` (see local/host/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import sys
from pathlib import Path

import azure.functions as func

from local.host.config import HostConfig, load_app_settings
from local.host.host import StandInHost
from local.host.logs import configure as configure_logging

REPO_ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.host", description=__doc__)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--settings", type=Path, default=REPO_ROOT / "local.settings.json")
    parser.add_argument("--host-json", type=Path, default=REPO_ROOT / "host.json")
    parser.add_argument("--functions", default="", help="comma-separated function names to run (default: all)")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-timers", action="store_true", help="index timers but fire them only on request")
    parser.add_argument("--message-lease", type=float, default=600.0, help="seconds a running message stays hidden")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def load_app(ref: str) -> func.FunctionApp:
    module_name, _, attr = ref.partition(":")
    sys.path.insert(0, str(REPO_ROOT))
    app = getattr(importlib.import_module(module_name), attr or "app")
    if not isinstance(app, func.FunctionApp):
        raise SystemExit(f"{ref} is not an azure.functions.FunctionApp")
    return app


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    configure_logging(args.log_level)
    settings = load_app_settings(args.settings)
    os.environ.update(settings)  # before import: the app may read settings while it is indexed
    host = StandInHost(
        load_app(args.app),
        settings,
        HostConfig.load(args.host_json),
        functions=[f for f in args.functions.split(",") if f] or None,
        http_port=args.port,
        enable_http=not args.no_http,
        enable_timers=not args.no_timers,
        message_lease_s=args.message_lease,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await host.start()
    if host.http_url:
        print(f"stand-in host: HTTP API on {host.http_url}/{host.config.route_prefix}/", flush=True)
    print(f"stand-in host: running {', '.join(sorted(host.specs))}", flush=True)
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await host.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
