"""AC's documented email syntax rules for bulk import (activecampaign-api.md §7.5), implemented here on purpose
(the emulator does not share the product's validator, so each can catch the other's mistakes).

- at least one character before the `@`, and exactly one `@`;
- none of the special characters  " ( ) , : ; < > @ [ \\ ]  anywhere else (and no whitespace);
- the domain contains a `.` followed by at least two letters: non-empty labels, the last one 2+ ASCII letters.
"""

from __future__ import annotations

import re
from typing import Final

_SPECIAL: Final = r'\s"(),:;<>@\[\\\]'
_EMAIL: Final = re.compile(rf"[^{_SPECIAL}]+@(?:[^{_SPECIAL}.]+\.)+[A-Za-z]{{2,}}")
_match = _EMAIL.fullmatch


def is_valid_email(value: object) -> bool:
    """True when `value` is a string AC's bulk importer accepts as an email address."""
    return isinstance(value, str) and _match(value) is not None
