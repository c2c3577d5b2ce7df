"""Which rows are invalid or duplicates, and how their emails are spoiled or varied.

Invalid emails break one of ActiveCampaign's syntax rules (activecampaign-api.md 7.5): no `@`,
a space, no TLD, a special character, two `@`, nothing before `@`, a one-letter TLD, or no
value at all (empty string, missing, blank).  A duplicate copies an earlier valid row's email,
usually with different case and/or surrounding spaces, so it matches only after trim + lowercase.
"""

from __future__ import annotations

import random
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from local.sample_data.arrow import Column, arange, uniform

VALID, INVALID, DUPLICATE = 0, 1, 2
INVALID_KINDS: Final = (
    "missing_at", "space", "no_tld", "special_char", "double_at", "no_local_part", "short_tld", "empty", "missing",
    "blank",
)  # fmt: skip
SPECIAL_CHARS: Final = '"(),:;<>[\\]'
MAX_SOURCE_DRAWS: Final = 20


def assign_kinds(
    n: int, seed: int, invalid_rate: float, duplicate_rate: float
) -> tuple[Column, dict[int, str], dict[int, int]]:
    """Kind per row; detail by row (invalid kind, or the source's CustomerId); duplicate row -> source row.

    A duplicate's source is an earlier row that is neither invalid nor itself a duplicate.
    """
    invalid = pc.less(uniform(n, seed, 2, 1), invalid_rate)
    duplicate = pc.and_(pc.less(uniform(n, seed, 2, 2), duplicate_rate), pc.invert(invalid))
    invalid_rows = set(pc.indices_nonzero(invalid).to_pylist())
    rng = random.Random(seed * 7 + 1)
    details: dict[int, str] = {i: rng.choice(INVALID_KINDS) for i in sorted(invalid_rows)}
    sources: dict[int, int] = {}
    for row in pc.indices_nonzero(duplicate).to_pylist():
        for _ in range(MAX_SOURCE_DRAWS):
            candidate = rng.randrange(row) if row else -1
            if candidate >= 0 and candidate not in invalid_rows and candidate not in sources:
                sources[row] = candidate
                details[row] = f"CUST-{candidate:09d}"
                break
    kinds = pc.replace_with_mask(
        pc.cast(invalid, pa.int8()),
        pc.is_in(arange(n), pa.array(list(sources), pa.int64())),
        pa.array([DUPLICATE] * len(sources), pa.int8()),
    )
    return kinds, details, sources


def invalid_email(kind: str, plain: str, rng: random.Random) -> str | None:
    """An email of `kind` made from a valid "local@domain"."""
    local, _, domain = plain.partition("@")
    cut = rng.randrange(1, len(local))
    base = domain.split(".")[0]
    return {
        "missing_at": f"{local}.{domain}",
        "space": f"{local[:cut]} {local[cut:]}@{domain}",
        "no_tld": f"{local}@{base}",
        "special_char": f"{local[:cut]}{rng.choice(SPECIAL_CHARS)}{local[cut:]}@{domain}",
        "double_at": f"{local[:cut]}@{local[cut:]}@{domain}",
        "no_local_part": f"@{domain}",
        "short_tld": f"{local}@{base}.{rng.choice('cdeiou')}",
        "empty": "",
        "missing": None,
        "blank": "   ",
    }[kind]


def duplicate_variant(email: str, rng: random.Random) -> str:
    """`email` in another case and/or with surrounding spaces (sometimes unchanged)."""
    local, _, domain = email.strip().partition("@")
    return rng.choice(
        (
            email.upper(),
            f"{local.capitalize()}@{domain.upper()}",
            f" {email}",
            f"{email}  ",
            f"  {local.title()}@{domain} ",
            email.swapcase(),
            email,
        )
    )


__all__ = [
    "DUPLICATE",
    "INVALID",
    "INVALID_KINDS",
    "VALID",
    "assign_kinds",
    "duplicate_variant",
    "invalid_email",
]
