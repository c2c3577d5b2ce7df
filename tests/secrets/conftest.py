"""The fake Key Vault fixtures (tests/fakes/keyvault.py) and a hand-moved clock."""

from __future__ import annotations

import pytest

from tests.fakes.keyvault import fake_credential, fake_vault, fake_vault_tls

__all__ = ["FakeClock", "clock", "fake_credential", "fake_vault", "fake_vault_tls"]


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
