"""The email syntax the emulated bulk importer accepts, implemented here on purpose (the emulator does not share the
product's validator, so each can catch the other's mistakes; tests/data/email_corpus.json holds both to one answer).

AC documents (activecampaign-api.md §7.5): at least one character before the `@` and exactly one `@`; none of
" ( ) , : ; < > @ [ \\ ] elsewhere; a domain with a `.` followed by at least two letters and no special characters.
Where the documentation is silent, this is our reading, on the side of refusing (README "Email rules"):

- only printable ASCII: no Unicode space, separator, control, format (zero-width) or any other non-ASCII character,
  so an international domain must come in its xn-- form;
- the part before the `@`: RFC 5322 atoms (letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~) joined by
  single dots, at most 64 characters; no quoted local parts;
- the domain: at least two labels of letters, digits and inner hyphens, each 1-63 characters; the last label
  (the top-level domain) 2+ letters only; no trailing dot;
- at most 254 characters in all.  Letter case does not matter.
"""

from __future__ import annotations

import string
from typing import Final

MAX_LENGTH: Final = 254
MAX_LOCAL: Final = 64
MAX_LABEL: Final = 63
MIN_LABELS: Final = 2  # a name and a top-level domain
MIN_TOP: Final = 2
_ATOM: Final = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
_LABEL: Final = frozenset(string.ascii_letters + string.digits + "-")


def is_valid_email(value: object) -> bool:
    """True when `value` is a string the emulated AC accepts as an email address."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return _local_ok(local) and _domain_ok(domain)


def _local_ok(local: str) -> bool:
    if not 0 < len(local) <= MAX_LOCAL:
        return False
    return all(atom and _ATOM.issuperset(atom) for atom in local.split("."))


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < MIN_LABELS:
        return False
    for label in labels:
        if not 0 < len(label) <= MAX_LABEL or not _LABEL.issuperset(label) or "-" in (label[0], label[-1]):
            return False
    top = labels[-1]
    return len(top) >= MIN_TOP and top.isascii() and top.isalpha()  # AC: "a . followed by at least two letters"
