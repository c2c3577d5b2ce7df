"""The run's per-row report: written in parts by the tasks that know the rows, composed into one CSV at the end.

Each planning and commit task writes the rows it reports (invalid, duplicate, field-skipped, opted-out,
rejected, not sent...) as an Arrow part (REPORT_SCHEMA) next to the run.  When the run ends, the parts are
turned into CSV one at a time and staged as the blocks of one block blob (`report.csv`): memory holds one
part, however many rows the report has.

Its cells echo customer data and ActiveCampaign's answers, and people open it in a spreadsheet: a text cell
that starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading single quote, so it is shown as
text and never evaluated (OWASP's CSV injection rule).  Text cells are always quoted.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Sequence
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobBlock
from azure.storage.blob.aio import ContainerClient

from shared.pipeline.rules import REPORT_SCHEMA
from shared.pipeline.shards import read_table, write_table

REPORT_NAME: Final = "report.csv"
REPORT_COLUMNS: Final = ("email", "outcome", "reason", "segment", "partition", "row")
FORMULA_START: Final = r"^([=+\-@\t\r])"
SAMPLE_SIZE: Final = 20


async def write_part(container: ContainerClient, blob: str, rows: pa.Table) -> None:
    await write_table(container, blob, rows.cast(REPORT_SCHEMA))


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """Every text cell that a spreadsheet would evaluate, prefixed with `'` (vectorised; nulls stay null)."""
    for index, column in enumerate(table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            safe = pc.replace_substring_regex(column, pattern=FORMULA_START, replacement="'\\1")
            table = table.set_column(index, table.field(index), safe)
    return table


def csv_bytes(table: pa.Table, *, header: bool) -> bytes:
    sink = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=header)
    # One chunk per column first: the regex kernel drops empty chunks, and pyarrow 26's CSV writer then reads
    # columns with different chunk layouts out of step (garbage bytes, found by tests/pipeline/test_report.py).
    table = table.select(list(REPORT_COLUMNS)).combine_chunks()
    pacsv.write_csv(neutralise_formulas(table), sink, write_options=options)
    data: bytes = sink.getvalue().to_pybytes()
    return data


async def compose(container: ContainerClient, blob: str, parts: Sequence[str]) -> None:
    """Write `blob` as the CSV of every part, in order (a missing part is skipped: nothing to report)."""
    client = container.get_blob_client(blob)
    blocks: list[BlobBlock] = []

    async def stage(data: bytes) -> None:
        block = base64.b64encode(f"{len(blocks):08d}".encode()).decode()
        await client.stage_block(block, data)
        blocks.append(BlobBlock(block))

    await stage(csv_bytes(REPORT_SCHEMA.empty_table(), header=True))
    for part in parts:
        try:
            table = await read_table(container, part)
        except ResourceNotFoundError:
            continue
        if table.num_rows:
            await stage(csv_bytes(table.cast(REPORT_SCHEMA), header=False))
    await client.commit_block_list(blocks)


async def delete_parts(container: ContainerClient, parts: Sequence[str]) -> None:
    for part in parts:
        with contextlib.suppress(ResourceNotFoundError):
            await container.delete_blob(part)


def rows_of(rows: pa.Table, outcome: str, reason: str | pa.ChunkedArray[Any]) -> pa.Table:
    """Report rows for contacts or state records (email first): no segment, partition or row."""
    n = rows.num_rows
    reasons = pa.repeat(pa.scalar(reason), n) if isinstance(reason, str) else reason
    return pa.table(
        {
            "email": rows["email"],
            "outcome": pa.repeat(pa.scalar(outcome), n),
            "reason": reasons,
            "segment": pa.nulls(n, pa.string()),
            "partition": pa.nulls(n, pa.string()),
            "row": pa.nulls(n, pa.int64()),
        }
    ).cast(REPORT_SCHEMA)


__all__ = [
    "REPORT_COLUMNS",
    "REPORT_NAME",
    "SAMPLE_SIZE",
    "compose",
    "csv_bytes",
    "delete_parts",
    "neutralise_formulas",
    "rows_of",
    "write_part",
]
