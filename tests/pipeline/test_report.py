"""The report CSV is the rows its parts hold, whatever the parts' chunk layout."""

from __future__ import annotations

import csv
import io

import pyarrow as pa

from shared.pipeline.report import REPORT_COLUMNS, csv_bytes, rows_of
from shared.pipeline.rules import REPORT_SCHEMA


def test_a_part_whose_first_chunk_is_empty_is_written_as_its_rows() -> None:
    # the shape the finaliser builds: an empty table, then each shard's rows with AC's reasons
    reasons = pa.chunked_array([["unsubscribed", "bounced"]])
    rows = rows_of(pa.table({"email": ["a@example.org", "=b@example.org"]}), "opted-out", reasons)
    part = pa.concat_tables([REPORT_SCHEMA.empty_table(), rows])
    assert part["email"].num_chunks == 2

    text = csv_bytes(part, header=False).decode("utf-8")  # as compose() writes every part

    found = list(csv.DictReader(io.StringIO(text), fieldnames=REPORT_COLUMNS))
    assert [(r["email"], r["outcome"], r["reason"]) for r in found] == [
        ("a@example.org", "opted-out", "unsubscribed"),
        ("'=b@example.org", "opted-out", "bounced"),
    ]
