"""Sample Customer Insights segment exports for the demo, the tests and the benchmarks.

    sample = generate(SampleOptions(profiles=100_000, seed=7))      # or cached_sample(options, cache_dir)
    answer = oracle(sample)                                           # what the product should conclude
    written = await write_snapshot(container, sample, root=ROOT)      # CSV/Parquet partitions + model.json
    nxt = mutate(sample, seed=1)                                      # ~1% changed, ~1% new, ~1% gone
    await write_snapshot(container, nxt.sample, root=ROOT)            # a newer snapshot of the same segments

`python -m local.sample_data --help` does the same from the command line.
"""

from local.sample_data.cache import cached_sample, load_sample, rendered_files, save_sample
from local.sample_data.generate import COLUMNS, Sample, SampleOptions, generate
from local.sample_data.kinds import DUPLICATE, INVALID, INVALID_KINDS, VALID
from local.sample_data.mutate import Mutation, mutate
from local.sample_data.oracle import Oracle, normalise, oracle, partition_bounds
from local.sample_data.render import PartitionFile, model_document, partitions, write_partitions
from local.sample_data.upload import (
    DEFAULT_CONTAINER,
    DEFAULT_ROOT,
    LocationStyle,
    WrittenSnapshot,
    ensure_container,
    location_url,
    write_snapshot,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_CONTAINER",
    "DEFAULT_ROOT",
    "DUPLICATE",
    "INVALID",
    "INVALID_KINDS",
    "VALID",
    "LocationStyle",
    "Mutation",
    "Oracle",
    "PartitionFile",
    "Sample",
    "SampleOptions",
    "WrittenSnapshot",
    "cached_sample",
    "ensure_container",
    "generate",
    "load_sample",
    "location_url",
    "model_document",
    "mutate",
    "normalise",
    "oracle",
    "partition_bounds",
    "partitions",
    "rendered_files",
    "save_sample",
    "write_partitions",
    "write_snapshot",
]
