"""Keep the cycle collector off the million long-lived contacts.

CPython's full collections walk every tracked object, so with a million Contact objects each one costs
tens of milliseconds and they get triggered again and again while the account grows.  After every
`FREEZE_EVERY` new contacts we move everything alive into the permanent generation (`gc.freeze()`, O(1)).
Contacts hold no reference cycles, so they are still freed by reference counting on reset; the cost is
that cyclic garbage alive at a freeze is never collected, and that is bounded by the handful of
in-flight requests at each of the ~10 freezes per million contacts.
"""

from __future__ import annotations

import gc
from typing import Final

FREEZE_EVERY: Final = 100_000


class GcWatch:
    def __init__(self) -> None:
        self._last = 0

    def after_growth(self, contact_count: int) -> None:
        if contact_count < self._last:  # the account was reset
            self._last = contact_count
        elif contact_count - self._last >= FREEZE_EVERY:
            gc.freeze()
            self._last = contact_count
