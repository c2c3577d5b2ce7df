"""Email rules (product.md §5, activecampaign-api.md §7.5), vectorised over pyarrow arrays.

Emails are trimmed, then lowercased for matching and sending (AC treats case as
the same address).  An address AC would refuse is reported and never sent: one bad
email makes AC reject the whole bulk request.  AC's rules: one `@` with at least
one character before it; none of `" ( ) , : ; < > @ [ \\ ]` (nor whitespace) in the
address; a domain of letters, digits and hyphens with a `.` and a final part of
at least two letters.
"""

from __future__ import annotations

import re
from typing import Any, Final, cast

import pyarrow as pa
import pyarrow.compute as pc

MAX_EMAIL_LENGTH: Final = 254
_SPECIALS: Final = r'"(),:;<>\[\\\]\s\x00-\x1f\x7f'
VALID: Final = rf"^[^@{_SPECIALS}]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{{2,}}$"

# The first matching check names the reason (only computed for the few invalid rows).
_REASONS: Final = (
    (re.compile(r"^$"), "email is empty"),
    (re.compile(r"^[^@]*$"), "email has no @"),
    (re.compile(r"@.*@"), "email has more than one @"),
    (re.compile(r"^@"), "email has nothing before the @"),
    (re.compile(rf"[{_SPECIALS}]"), 'email contains a space or one of " ( ) , : ; < > [ \\ ]'),
    (re.compile(r"@[^.]*$"), "email domain has no '.'"),
)
_TLD: Final = re.compile(r"\.[a-z]{2,}$")


def normalise(raw: pa.ChunkedArray[Any]) -> pa.ChunkedArray[Any]:
    """Trim and lowercase; a missing value becomes ''."""
    return cast("pa.ChunkedArray[Any]", pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(raw, ""))))


def validity(normalised: pa.ChunkedArray[Any]) -> pa.ChunkedArray[Any]:
    ok = pc.match_substring_regex(normalised, VALID)
    short = pc.less_equal(pc.utf8_length(normalised), pa.scalar(MAX_EMAIL_LENGTH))
    return cast("pa.ChunkedArray[Any]", pc.and_(ok, short))


def reason_for(email: str) -> str:
    """Why one (normalised) email is invalid."""
    if len(email) > MAX_EMAIL_LENGTH:
        return f"email is longer than {MAX_EMAIL_LENGTH} characters"
    for pattern, reason in _REASONS:
        if pattern.search(email):
            return reason
    if not _TLD.search(email):
        return "email domain must end in a '.' and at least two letters"
    return "email domain may only contain letters, digits, '-' and '.'"


__all__ = ["MAX_EMAIL_LENGTH", "VALID", "normalise", "reason_for", "validity"]
