"""Another process that holds an AC account's lane and spends the lane's whole general budget, through the
product's own Services, LaneRegistry and client: a stand-in for a long run's shards sending elsewhere.

    python -m tests.lane_holder SETTINGS_JSON HOSTNAME API_KEY WORKDIR

It writes WORKDIR/holding once it holds the lane, calls GET /users/me as fast as the lane's budget allows
until WORKDIR/stop exists, then leaves the lane and writes WORKDIR/left.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from shared.config import Secret, Settings
from shared.services import Services

WORKERS = 8


async def hold(settings_file: Path, hostname: str, api_key: str, workdir: Path) -> None:
    settings = Settings.from_env(json.loads(settings_file.read_text()))
    services = await Services(settings).ready()
    try:
        lane = await services.lanes.enter(hostname)
        (workdir / "holding").touch()
        client = services.ac_client(hostname, Secret(api_key))
        stop = workdir / "stop"

        async def spend() -> None:
            while not stop.exists():
                await client.verify_credentials()

        await asyncio.gather(*(spend() for _ in range(WORKERS)))
        await lane.leave()
    finally:
        await services.close()
        (workdir / "left").touch()


def main() -> None:
    settings_file, hostname, api_key, workdir = sys.argv[1:5]
    asyncio.run(hold(Path(settings_file), hostname, api_key, Path(workdir)))


if __name__ == "__main__":
    main()
