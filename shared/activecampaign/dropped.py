"""Why AC dropped a contact after its 200, as precisely as AC lets us know.

AC documents import/info's `failure` as a list of emails only (activecampaign-api.md §9.3): no reason.  What
can be learnt beyond it:
- a reason text, when AC gives one (a `failure` item that is an object with an email and a reason,
  UNCONFIRMED), read by its words: excluded, bounced, contact limit, unsubscribed, a missing list;
- the contact's status on the list (a look-up, or the list's unsubscribed members): 2 = unsubscribed
  (opted out), 3 = bounced (UNCONFIRMED numbering, SDK-consistent).
Anything else is said as it is: AC did not import it and gave no reason.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final

MAX_TEXT: Final = 200


class Drop(Enum):
    EXCLUDED = "ActiveCampaign did not import it: the email is on an exclusion list"
    BOUNCED = "ActiveCampaign did not import it: the email has bounced"
    OVER_LIMIT = "ActiveCampaign did not import it: the account is at its plan's contact limit"
    UNSUBSCRIBED = "ActiveCampaign did not import it: the contact unsubscribed from the list"
    NO_LIST = "ActiveCampaign did not import it: the list does not exist"
    OTHER = "ActiveCampaign did not import it"  # followed by AC's own words
    NO_REASON = "ActiveCampaign did not import it and gave no reason"


_WORDS: Final = (
    (re.compile(r"unsubscri", re.IGNORECASE), Drop.UNSUBSCRIBED),
    (re.compile(r"exclu", re.IGNORECASE), Drop.EXCLUDED),
    (re.compile(r"bounc", re.IGNORECASE), Drop.BOUNCED),
    (re.compile(r"\blimit", re.IGNORECASE), Drop.OVER_LIMIT),
    (
        re.compile(r"\blists?\b.*\b(not exist|does not|doesn't|deleted|not found|unknown|missing)", re.IGNORECASE),
        Drop.NO_LIST,
    ),
)


def drop_of(text: str | None) -> Drop:
    """What AC's reason text says, by its words (NO_REASON when there is none)."""
    if not text or not text.strip():
        return Drop.NO_REASON
    return next((drop for pattern, drop in _WORDS if pattern.search(text)), Drop.OTHER)


def drop_reason(text: str | None) -> str:
    """The per-row reason for a contact AC dropped with this reason text (or none)."""
    drop = drop_of(text)
    if drop is Drop.OTHER:
        assert text is not None
        words = " ".join(text.split())
        return f"{drop.value}: {words if len(words) <= MAX_TEXT else words[: MAX_TEXT - 1] + '…'}"
    return str(drop.value)


__all__ = ["Drop", "drop_of", "drop_reason"]
