"""The product's email check and the AC emulator's agree with each other, and with tests/data/email_corpus.json.

The two are written apart on purpose (pyarrow RE2 over Arrow columns; plain Python in the emulator), so
each catches the other's mistakes.  Both see the value as the product sends it: trimmed and lowercased.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from local.activecampaign_emulator import is_valid_email
from shared.models import AttributeMapping
from shared.pipeline.emails import normalise, reason_for, validity
from shared.pipeline.rules import SegmentInput, apply_rules
from shared.snapshot import SnapshotRows

CORPUS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "email_corpus.json").read_text())["cases"]


def as_sent(emails: list[str | None]) -> list[str]:
    return [str(e) for e in normalise(pa.chunked_array([pa.array(emails, pa.string())])).to_pylist()]


def test_the_product_and_the_emulator_give_every_corpus_address_its_expected_verdict() -> None:
    sent = as_sent([case["email"] for case in CORPUS])
    product = validity(pa.chunked_array([pa.array(sent, pa.string())])).to_pylist()
    wrong = [
        (case["email"], case["why"], {"expected": case["valid"], "product": ours, "emulator": is_valid_email(value)})
        for case, value, ours in zip(CORPUS, sent, product, strict=True)
        if not case["valid"] == ours == is_valid_email(value)
    ]
    assert wrong == []
    assert {case["valid"] for case in CORPUS} == {True, False}


@pytest.mark.parametrize("case", [c for c in CORPUS if not c["valid"]], ids=lambda c: c["why"][:60])
def test_the_reason_for_an_invalid_address_says_what_is_wrong_without_quoting_it(case: dict[str, Any]) -> None:
    [value] = as_sent([case["email"]])
    reason = reason_for(value)
    assert case["reason"] in reason
    if len(value) > 3:
        assert value not in reason


def test_one_unicode_space_costs_its_row_and_never_the_request() -> None:
    emails = [f"c{i}@example.com" for i in range(249)] + ["nb\u00a0sp@example.com"]
    table = pa.table({"Email": pa.array(emails, pa.string())})
    result = apply_rules([SegmentInput("S", SnapshotRows(table, len(emails)))], AttributeMapping(email="Email"), [], "")
    assert result.contacts.num_rows == 249 and result.invalid == 1
    [row] = result.report.to_pylist()
    assert (row["row"], row["outcome"]) == (250, "invalid")
    assert row["reason"] == "email contains a space or an invisible character (U+00A0)"
    assert all(is_valid_email(e) for e in result.contacts["email"].to_pylist())  # the emulator takes the rest
