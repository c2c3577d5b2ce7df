"""A tiny TTL cache for secret values, with an injectable clock (tests move time by hand)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from shared.config import Secret

DEFAULT_TTL_S: Final = 300.0


class SecretCache:
    """name -> (value, expiry).  An entry is fresh while clock() < expiry."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s < 0:
            raise ValueError("ttl_s must be >= 0")
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[Secret, float]] = {}

    def get(self, name: str) -> Secret | None:
        entry = self._entries.get(name)
        if entry is None:
            return None
        value, expiry = entry
        if self._clock() >= expiry:
            del self._entries[name]
            return None
        return value

    def put(self, name: str, value: Secret) -> None:
        if self._ttl_s > 0:
            self._entries[name] = (value, self._clock() + self._ttl_s)

    def invalidate(self, name: str) -> None:
        self._entries.pop(name, None)

    def clear(self) -> None:
        self._entries.clear()


__all__ = ["DEFAULT_TTL_S", "SecretCache"]
