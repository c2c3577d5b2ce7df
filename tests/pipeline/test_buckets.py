"""Buckets: an email's bucket depends on the email alone, and a bucket splits exactly into two at one more bit."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.pipeline.buckets import bits_for, buckets_of, email_hashes, in_bucket

EMAILS = st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=50)


@settings(deadline=None)  # no timing threshold: a loaded CI machine is slow, never wrong
@given(EMAILS, st.integers(min_value=0, max_value=49))
def test_an_emails_hash_does_not_depend_on_its_neighbours_or_chunking(emails: list[str], cut: int) -> None:
    array = pa.array(emails, pa.string())
    whole = email_hashes(array)
    cut = min(cut, len(emails))
    chunked = email_hashes(pa.chunked_array([array.slice(0, cut), array.slice(cut)], pa.string()))
    alone = np.array([email_hashes(pa.array([e], pa.string()))[0] for e in emails], np.uint64)
    assert (whole == chunked).all() and (whole == alone).all()
    reversed_ = email_hashes(pa.array(emails[::-1], pa.string()))[::-1]
    assert (whole == reversed_).all()


@settings(deadline=None)
@given(EMAILS, st.integers(min_value=0, max_value=10))
def test_a_bucket_is_exactly_its_two_children(emails: list[str], bits: int) -> None:
    hashes = email_hashes(pa.array(emails, pa.string()))
    for bucket in range(2**bits):
        parent = in_bucket(hashes, bits, bucket)
        children = in_bucket(hashes, bits + 1, 2 * bucket) | in_bucket(hashes, bits + 1, 2 * bucket + 1)
        assert (parent == children).all()


def test_buckets_are_balanced_even_for_patterned_emails() -> None:
    emails = pa.array([f"john.smith.{i:07d}@gmail.com" for i in range(64_000)], pa.string())
    counts = np.bincount(buckets_of(email_hashes(emails), 6), minlength=64)
    assert counts.min() > 0.85 * 1000 and counts.max() < 1.15 * 1000


def test_different_emails_rarely_share_a_hash() -> None:
    emails = [hashlib.sha256(str(i).encode()).hexdigest()[:20] + "@example.com" for i in range(50_000)]
    assert len(set(email_hashes(pa.array(emails, pa.string())).tolist())) == len(emails)


def test_the_bucket_count_follows_the_segment_size() -> None:
    assert [bits_for(n) for n in (0, 250_000, 250_001, 1_000_000, 10_000_000)] == [0, 0, 1, 2, 6]


def test_an_emails_hash_never_changes_between_releases() -> None:
    # state on disk is split by these hashes (shared/pipeline/state.py): a new hash would put every saved contact
    # in the wrong bucket, so the function is pinned (short, 16-byte and long emails, and the empty one)
    emails = ["", "a", "a@example.com", "sixteen.chars@xy", "a.rather.long.address.of.someone@example.org"]

    hashes = email_hashes(pa.array(emails, pa.string()))

    assert [hex(int(h)) for h in hashes] == [
        "0xe220a8397b1dcdaf",
        "0xca63435e79c000e0",
        "0x827e047ed31d4ab9",
        "0x4abe79b232bd8387",
        "0x56e21a748b08b263",
    ]
    assert buckets_of(hashes, 12).tolist() == [3618, 3238, 2087, 1195, 1390]
    assert buckets_of(hashes, 0).tolist() == [0] * 5


def test_the_bucket_count_is_capped_at_4096() -> None:
    assert bits_for(250_000 * 4096) == 12
    assert bits_for(250_000 * 4097) == 12
    assert bits_for(10**13) == 12
    assert bits_for(1000, rows_per_bucket=100) == 4


def test_no_emails_have_no_hashes_and_empty_ones_hash_alike() -> None:
    assert len(email_hashes(pa.chunked_array([], pa.string()))) == 0
    assert len(email_hashes(pa.array([], pa.string()))) == 0
    assert [hex(int(h)) for h in email_hashes(pa.array(["", ""], pa.string()))] == ["0xe220a8397b1dcdaf"] * 2
