"""Secret names: Key Vault's rules and the connection-name -> secret-name mapping.

Key Vault accepts 1-127 characters from ``[0-9a-zA-Z-]`` and compares names
case-insensitively.  Connection names are URL-safe (letters, digits, ``-``, ``_``,
``.``) and case-sensitive, so the mapping escapes everything that is not a
lowercase letter or a digit.  ``-`` is the escape character:

=============  ===========
connection     secret name
=============  ===========
``a-z 0-9``    unchanged
``-``          ``--``
``_``          ``-0``
``.``          ``-1``
``A-Z``        ``-a`` .. ``-z``
=============  ===========

and the result is prefixed with ``ac-key-``.  Examples: ``crm`` -> ``ac-key-crm``,
``crm_eu.Prod`` -> ``ac-key-crm-0eu-1-prod``.  Every escape is two characters that
start with ``-`` and the output is all lowercase, so the mapping is deterministic,
decodable left to right, and injective even under Key Vault's case folding
(`connection_name_from_secret_name` is its inverse).  A name of at most
`MAX_CONNECTION_NAME_LENGTH` characters always fits Key Vault's 127.

Every write of a key goes to a fresh name (`new_secret_name`), which the connection
document then names: ``ac-key-<escaped connection>-2<12 hex digits>``, e.g.
``ac-key-crm-29f3a0c1b2d4e``.  ``-2`` is never an escape, so a decoder reading left to
right knows where the connection ends: fresh names never equal a stable name or another
connection's fresh name.  When the escaped connection does not fit, it is left out
(``ac-key--2<hex>``): such a name still works, it only no longer says its connection.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Final

from shared.errors import InvalidInput

SECRET_NAME_PREFIX: Final = "ac-key-"  # noqa: S105 (a name prefix, not a secret)
MAX_SECRET_NAME_LENGTH: Final = 127
# Worst case every character takes two: 7 + 2 * 60 = 127.
MAX_CONNECTION_NAME_LENGTH: Final = (MAX_SECRET_NAME_LENGTH - len(SECRET_NAME_PREFIX)) // 2
SECRET_NAME_PATTERN: Final = re.compile(r"[0-9a-zA-Z-]{1,127}")
VERSION_MARK: Final = "-2"  # "-" then a digit other than 0 or 1: never an escape
VERSION_PATTERN: Final = re.compile(r"[0-9a-f]{12}")
CONNECTION_NAME_PATTERN: Final = re.compile(r"[0-9A-Za-z._-]+")

_PLAIN: Final = frozenset(string.ascii_lowercase + string.digits)
_ESCAPES: Final = {"-": "-", "_": "0", ".": "1"} | {c: c.lower() for c in string.ascii_uppercase}
_UNESCAPES: Final = {code: char for char, code in _ESCAPES.items()}


def secret_name_for_connection(connection: str) -> str:
    """The Key Vault secret name that holds `connection`'s API key (see the module docstring)."""
    if not CONNECTION_NAME_PATTERN.fullmatch(connection):
        raise InvalidInput.for_field("name", "a connection name uses only letters, digits, '-', '_' and '.'")
    if len(connection) > MAX_CONNECTION_NAME_LENGTH:
        raise InvalidInput.for_field(
            "name", f"a connection name has at most {MAX_CONNECTION_NAME_LENGTH} characters, got {len(connection)}"
        )
    body = "".join(char if char in _PLAIN else "-" + _ESCAPES[char] for char in connection)
    return SECRET_NAME_PREFIX + body


def new_secret_name(connection: str) -> str:
    """A fresh secret name for one write of `connection`'s key (see the module docstring)."""
    stable = secret_name_for_connection(connection)
    suffix = VERSION_MARK + secrets.token_hex(6)
    if len(stable) + len(suffix) > MAX_SECRET_NAME_LENGTH:
        stable = SECRET_NAME_PREFIX
    return stable + suffix


def connection_name_from_secret_name(secret_name: str) -> str | None:
    """The connection a stable or fresh secret name belongs to; None when it is neither (or does not say)."""
    if not secret_name.startswith(SECRET_NAME_PREFIX):
        return None
    body = secret_name[len(SECRET_NAME_PREFIX) :]
    chars: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char in _PLAIN:
            chars.append(char)
            i += 1
        elif char == "-" and i + 1 < len(body) and body[i + 1] in _UNESCAPES:
            chars.append(_UNESCAPES[body[i + 1]])
            i += 2
        elif body.startswith(VERSION_MARK, i) and VERSION_PATTERN.fullmatch(body[i + len(VERSION_MARK) :]):
            break
        else:
            return None
    return "".join(chars) or None


def validate_secret_name(name: str) -> str:
    """Return `name` if Key Vault accepts it; raise InvalidInput naming the rule otherwise."""
    if not SECRET_NAME_PATTERN.fullmatch(name):
        raise InvalidInput.for_field(
            "secretName",
            f"{name[:140]!r} is not a valid Key Vault secret name: use 1-{MAX_SECRET_NAME_LENGTH} characters "
            "from [0-9a-zA-Z-] (secret_name_for_connection builds one from a connection name)",
        )
    return name


__all__ = [
    "CONNECTION_NAME_PATTERN",
    "MAX_CONNECTION_NAME_LENGTH",
    "MAX_SECRET_NAME_LENGTH",
    "SECRET_NAME_PATTERN",
    "SECRET_NAME_PREFIX",
    "connection_name_from_secret_name",
    "new_secret_name",
    "secret_name_for_connection",
    "validate_secret_name",
]
