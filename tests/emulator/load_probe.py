"""Load probe (not a test): push N bulk imports of 250 contacts through a real emulator process and report
its CPU seconds, peak RSS and the wall time.

    .venv/bin/python -m tests.emulator.load_probe --requests 4000 --concurrency 8

The emulator runs as `python -m local.activecampaign_emulator` with limits lifted; the probe is the client.
Contacts are ~200 bytes each (email, names, phone, one custom field, subscribe to list 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import aiohttp
import orjson
import psutil

from local.activecampaign_emulator import EmulatorProcess

FIRST = [f"Firstname{i}" for i in range(5000)]
LAST = [f"Lastname{i}" for i in range(5000)]


def body(request_no: int, size: int) -> bytes:
    start = request_no * size
    contacts = [
        {
            "email": f"person.{n:07d}@example-{n % 97}.com",
            "first_name": FIRST[n * 7 % 5000],
            "last_name": LAST[n * 13 % 5000],
            "phone": f"+1-555-{n:07d}",
            "fields": [{"id": 1, "value": f"segment value {n % 1000}"}],
            "subscribe": [{"listid": 1}],
            "exclude_automations": True,
        }
        for n in range(start, start + size)
    ]
    return orjson.dumps({"contacts": contacts})


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return psutil.Process(pid).memory_info().rss / 2**20


async def drive(
    url: str, key: str, requests: int, size: int, concurrency: int, *, inspect: bool = False
) -> tuple[int, dict[int, int]]:
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)
    headers = {"Api-Token": key, "Content-Type": "application/json"}
    sent_bytes = 0

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/_emulator/fields", json={"title": "Segment", "type": "text"}) as resp:
            resp.raise_for_status()

        async def worker() -> None:
            nonlocal sent_bytes
            while not queue.empty():
                n = queue.get_nowait()
                data = body(n, size)
                sent_bytes += len(data)
                async with session.post(f"{url}/api/3/import/bulk_import", data=data, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        async with session.get(f"{url}/_emulator/lists/1/members", params={"limit": "0"}) as resp:
            members = (await resp.json())["subscribed"]
        if inspect:
            for path in ("lists/1/members?compact=1", "writes?min=2", "batches?details=0", "lists/1/members"):
                t0 = time.perf_counter()
                async with session.get(f"{url}/_emulator/{path}") as resp:
                    got = len(await resp.read())
                print(f"inspect {path}: {resp.status}, {got / 2**20:.1f} MB in {time.perf_counter() - t0:.1f} s")
    print(
        f"sent {requests} requests, {sent_bytes / requests:.0f} bytes each ({sent_bytes / requests / size:.0f}/contact)"
    )
    return members, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--size", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--url", help="drive an emulator that is already running (e.g. under py-spy)")
    parser.add_argument("--api-key", default="emulator-api-key")
    parser.add_argument("--inspect", action="store_true", help="also time the inspection routes afterwards")
    args = parser.parse_args()
    if args.url:
        t0 = time.perf_counter()
        members, statuses = asyncio.run(drive(args.url, args.api_key, args.requests, args.size, args.concurrency))
        print(f"statuses {statuses}; list 1 subscribed members: {members}; wall {time.perf_counter() - t0:.1f} s")
        return
    flags = ["--no-limits-enabled", "--initial-false-s", "0", "--processing-delay-s", "0"]
    with EmulatorProcess(flags) as proc:
        emulator = psutil.Process(proc.pid)
        cpu0 = sum(emulator.cpu_times()[:2])
        t0 = time.perf_counter()
        members, statuses = asyncio.run(
            drive(proc.url, proc.api_keys[0], args.requests, args.size, args.concurrency, inspect=args.inspect)
        )
        wall = time.perf_counter() - t0
        cpu = sum(emulator.cpu_times()[:2]) - cpu0
        rss = peak_rss_mb(proc.pid)
    print(f"statuses {statuses}; list 1 subscribed members: {members}")
    print(f"wall {wall:.1f} s; emulator CPU {cpu:.1f} s; emulator peak RSS {rss:.0f} MB; probe pid {os.getpid()}")


if __name__ == "__main__":
    main()
