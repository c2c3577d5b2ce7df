"""python -m local.activecampaign_emulator: run the emulator until Ctrl-C or SIGTERM.

Prints the URL and the API keys, and with --ready-file writes {"url", "pid", "api_keys"} there once it listens
(handy with --port 0).  Every EmulatorConfig field is a flag; see --help.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from pathlib import Path

import orjson

from local.activecampaign_emulator.config_io import ConfigError, add_config_flags, config_from_args
from local.activecampaign_emulator.server import EmulatorServer


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.activecampaign_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8899, help="0 picks a free port")
    parser.add_argument("--ready-file", type=Path, default=None)
    parser.add_argument("--log-level", default="WARNING")
    add_config_flags(parser)
    return parser.parse_args(argv)


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_args(args)
    except (ConfigError, OSError, orjson.JSONDecodeError) as exc:
        print(f"activecampaign emulator: {exc}", file=sys.stderr)
        return 2
    gc.set_threshold(10_000, 10, 10)  # fewer young collections while big request bodies are parsed
    server = EmulatorServer(config, host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"activecampaign emulator: listening on {server.url} (API under {server.url}/api/3)", flush=True)
    print(f"activecampaign emulator: api keys: {', '.join(config.api_keys)}", flush=True)
    if args.ready_file is not None:
        info = {"url": server.url, "pid": os.getpid(), "api_keys": config.api_keys}
        args.ready_file.write_bytes(orjson.dumps(info))
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await server.stop()
    print("activecampaign emulator: stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
