"""A local cache of generated samples and their rendered files, keyed by the sample's content key.

`<cache_dir>/<key>/sample.arrow` holds the sample (rows and hidden columns; options, key and
next_id in the schema metadata) and `<cache_dir>/<key>/files/<Entity>/<Entity>_<n>.<ext>` its
partitions, finished by a `files.json` marker.  Benchmarks generate 1M profiles once and
upload from the files afterwards.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa

from local.sample_data.generate import Sample, SampleOptions, generate
from local.sample_data.render import PartitionFile, write_partitions

SAMPLE_FILE = "sample.arrow"
FILES_DIR = "files"
FILES_MARKER = "files.json"


def cached_sample(options: SampleOptions, cache_dir: Path) -> Sample:
    """The sample for `options`, from the cache when present (else generated and cached)."""
    path = cache_dir / options.key() / SAMPLE_FILE
    if path.exists():
        return load_sample(path)
    sample = generate(options)
    save_sample(sample, path)
    return sample


def save_sample(sample: Sample, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"options": json.dumps(asdict(sample.options)), "key": sample.key, "next_id": str(sample.next_id)}
    table = sample.table.replace_schema_metadata(meta)
    partial = path.with_suffix(".partial")
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    partial.replace(path)


def load_sample(path: Path) -> Sample:
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    raw = json.loads(meta["options"])
    options = SampleOptions(**{**raw, "segments": tuple(raw["segments"])})
    return Sample(options, table.replace_schema_metadata(None), next_id=int(meta["next_id"]), key=meta["key"])


def rendered_files(sample: Sample, cache_dir: Path) -> list[tuple[PartitionFile, Path]]:
    """The sample's partition files in the cache (written now if they are not there yet)."""
    base = cache_dir / sample.key
    marker = base / FILES_MARKER
    if marker.exists():
        entries = json.loads(marker.read_text())
        return [(PartitionFile(e["entity"], e["index"], e["parquet"]), base / FILES_DIR / e["path"]) for e in entries]
    files = write_partitions(sample, base / FILES_DIR)
    entries = [{"entity": p.entity, "index": p.index, "parquet": p.parquet, "path": p.relative} for p, _ in files]
    marker.write_text(json.dumps(entries))
    return files


__all__ = ["cached_sample", "load_sample", "rendered_files", "save_sample"]
