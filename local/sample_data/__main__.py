"""`python -m local.sample_data`: write a CI-format sample export to Blob Storage (Azurite by default).

Prints one JSON summary line: counts from the oracle, where it was written, and timings.
The connection string comes from --connection-string, else AzureWebJobsStorage, else Azurite's default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from azure.storage.blob.aio import BlobServiceClient

from local.sample_data.cache import cached_sample
from local.sample_data.generate import SampleOptions, generate
from local.sample_data.mutate import mutate
from local.sample_data.oracle import oracle
from local.sample_data.upload import DEFAULT_CONTAINER, DEFAULT_ROOT, write_snapshot
from shared.names import STORAGE_CONNECTION

DEFAULT_CACHE = Path(".local/sample-cache")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.sample_data", description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--segments", default="ActiveCustomers", help="comma-separated entity (segment) names")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per segment")
    parser.add_argument("--parquet", type=int, default=0, help="how many of the partitions are Parquet")
    parser.add_argument("--header", action="store_true", help="write a header row (CI's default is none)")
    parser.add_argument("--no-bom", action="store_true", help="no UTF-8 byte-order mark")
    parser.add_argument("--invalid-rate", type=float, default=0.01)
    parser.add_argument("--duplicate-rate", type=float, default=0.01)
    parser.add_argument("--mutations", type=int, default=0, help="then write this many mutated snapshots")
    parser.add_argument("--connection-string", default=None)
    parser.add_argument("--container", default=DEFAULT_CONTAINER)
    parser.add_argument("--root", default=DEFAULT_ROOT, help="CustomerInsights_<id>/<ExportName>")
    parser.add_argument("--location-style", choices=("blob", "dfs", "client"), default="blob")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--no-cache", action="store_true")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, object]:
    options = SampleOptions(
        profiles=args.profiles,
        seed=args.seed,
        segments=tuple(s.strip() for s in args.segments.split(",") if s.strip()),
        partitions=args.partitions,
        parquet_partitions=args.parquet,
        header=args.header,
        bom=not args.no_bom,
        invalid_rate=args.invalid_rate,
        duplicate_rate=args.duplicate_rate,
    )
    cache = None if args.no_cache else args.cache_dir
    started = time.perf_counter()
    sample = generate(options) if cache is None else cached_sample(options, cache)
    generated = time.perf_counter() - started
    answer = oracle(sample)
    connection = args.connection_string or os.environ.get(STORAGE_CONNECTION) or "UseDevelopmentStorage=true"
    async with BlobServiceClient.from_connection_string(connection) as service:
        container = service.get_container_client(args.container)
        written = await write_snapshot(
            container, sample, root=args.root, location_style=args.location_style, cache_dir=cache
        )
        changes = []
        for number in range(1, args.mutations + 1):
            step = mutate(sample, seed=number)
            sample = step.sample
            later = await write_snapshot(container, sample, root=args.root, location_style=args.location_style)
            changes.append(
                {
                    "changed": len(step.changed),
                    "added": len(step.added),
                    "removed": len(step.removed),
                    "folder_time": later.written_at.isoformat(),
                }
            )
    return {
        "container": args.container,
        "root": written.root,
        "segments": list(options.segments),
        "folder_time": written.written_at.isoformat(),
        "rows": answer.rows,
        "invalid": answer.invalid,
        "duplicates": answer.duplicates,
        "expected_unique": answer.expected_unique,
        "generate_s": round(generated, 3),
        "upload_s": round(written.upload_seconds, 3),
        "bytes": written.bytes_uploaded,
        "mutations": changes,
    }


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(asyncio.run(run(parse_args(argv)))))


if __name__ == "__main__":
    main()
