"""Email rules (product.md §5, activecampaign-api.md §7.5), vectorised over pyarrow arrays.

Emails are trimmed (Unicode whitespace at both ends), then lowercased for matching and sending
(AC treats case as the same address).  An address AC might refuse is reported and never sent:
one bad email makes AC refuse the whole bulk request, so a doubtful address is refused here.

AC documents: one `@` with at least one character before it; none of " ( ) , : ; < > @ [ \\ ]
elsewhere; a domain with a `.` followed by at least two letters, without special characters.
Our reading where AC is silent (README "Email rules"; the emulator applies the same, written apart):
- printable ASCII only: no Unicode space or separator, control, format (zero-width) or other
  non-ASCII character anywhere, so an international domain must come in its xn-- form;
- before the `@`: RFC 5322 atoms (letters, digits, ! # $ % & ' * + - / = ? ^ _ ` { | } ~) joined
  by single dots, 1-64 characters; no quoted local part;
- the domain: labels of letters, digits and inner hyphens (1-63 characters each), the last one
  2-63 letters; at most 254 characters in all.
A reason names what is wrong (and the offending code point), never the address itself.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final, cast

import pyarrow as pa
import pyarrow.compute as pc

MAX_EMAIL_LENGTH: Final = 254
MAX_LOCAL_LENGTH: Final = 64
MAX_LABEL_LENGTH: Final = 63
MIN_TOP_LENGTH: Final = 2  # AC: "a . followed by at least two letters"
_ATOM: Final = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL: Final = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
VALID: Final = rf"^{_ATOM}(\.{_ATOM})*@({_LABEL}\.)+[a-z]{{2,63}}$"
LOCAL_LENGTH: Final = rf"^[^@]{{1,{MAX_LOCAL_LENGTH}}}@"
SPECIALS: Final = '"(),:;<>[\\]'
ATOM_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
LABEL_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# Default-ignorable and blank-looking code points outside the Z and C categories.
_BLANKS: Final = frozenset(
    ["\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u2800", "\u3164", "\uffa0"]
    + [chr(c) for c in (*range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))]
)


def normalise(raw: pa.ChunkedArray[Any]) -> pa.ChunkedArray[Any]:
    """Trim and lowercase; a missing value becomes ''."""
    return cast("pa.ChunkedArray[Any]", pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(raw, ""))))


def validity(normalised: pa.ChunkedArray[Any]) -> pa.ChunkedArray[Any]:
    ok = pc.match_substring_regex(normalised, VALID)
    local = pc.match_substring_regex(normalised, LOCAL_LENGTH)
    short = pc.less_equal(pc.utf8_length(normalised), pa.scalar(MAX_EMAIL_LENGTH))
    return cast("pa.ChunkedArray[Any]", pc.and_(pc.and_(ok, local), short))


def reason_for(email: str) -> str:
    """Why one (normalised) email is invalid: the first rule it breaks."""
    if not email:
        return "email is empty"
    if len(email) > MAX_EMAIL_LENGTH:
        return f"email is longer than {MAX_EMAIL_LENGTH} characters"
    if "@" not in email:
        return "email has no @"
    if email.count("@") > 1:
        return "email has more than one @"
    local, _, domain = email.partition("@")
    if not local:
        return "email has nothing before the @"
    for char in email:
        if is_invisible(char):
            return f"email contains a space or an invisible character ({code_point(char)})"
    for char in email:
        if char in SPECIALS:
            return f'email contains {char} ({code_point(char)}); AC refuses " ( ) , : ; < > [ \\ ]'
    return _local_reason(local) or _domain_reason(domain) or "email is not a valid address"


def _local_reason(local: str) -> str | None:
    odd = next((c for c in local if c not in ATOM_CHARS and c != "."), None)
    if odd is not None:
        return f"the part before the @ contains a character outside ASCII ({code_point(odd)})"
    if len(local) > MAX_LOCAL_LENGTH:
        return f"the part before the @ is longer than {MAX_LOCAL_LENGTH} characters"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before the @ starts or ends with '.' or has '..'"
    return None


def _domain_reason(domain: str) -> str | None:
    odd = next((c for c in domain if c not in LABEL_CHARS and c != "."), None)
    if odd is not None and not odd.isascii():
        return f"email domain contains a character outside ASCII ({code_point(odd)}): write it in its xn-- form"
    if odd is not None:
        return f"email domain contains {odd} ({code_point(odd)}); only letters, digits, '-' and '.' are allowed"
    if "." not in domain:
        return "email domain has no '.'"
    labels = domain.split(".")
    if any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        return "email domain has an empty part, or a part that starts or ends with '-'"
    if any(len(label) > MAX_LABEL_LENGTH for label in labels):
        return f"email domain has a part longer than {MAX_LABEL_LENGTH} characters"
    if not (len(labels[-1]) >= MIN_TOP_LENGTH and labels[-1].isalpha()):
        return "email domain must end in a '.' and at least two letters"
    return None


def is_invisible(char: str) -> bool:
    """A space, separator, control, format or other invisible code point."""
    return char.isspace() or unicodedata.category(char)[0] in "ZC" or char in _BLANKS


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


__all__ = ["MAX_EMAIL_LENGTH", "VALID", "code_point", "normalise", "reason_for", "validity"]
