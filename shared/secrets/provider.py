"""The `SecretProvider` protocol: where connections' API keys live.

Implementations: `KeyVaultSecretProvider` (Azure) and `LocalSecretProvider` (a
developer machine); `build_secret_provider(settings)` picks one.  Values travel as
`shared.config.Secret`, so a stray repr or log line shows ``***``.  Names are
Key Vault secret names; `secret_name_for_connection` derives one from a connection.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shared.config import Secret
from shared.errors import SecretNotFound
from shared.secrets.names import connection_name_from_secret_name


@runtime_checkable
class SecretProvider(Protocol):
    async def get(self, name: str) -> Secret:
        """The secret's current value; raises SecretNotFound when there is none."""
        ...

    async def set(self, name: str, value: Secret) -> None:
        """Create the secret or replace its value."""
        ...

    async def delete(self, name: str) -> None:
        """Remove the secret; a missing secret is not an error."""
        ...

    async def close(self) -> None:
        """Release network clients and credentials."""
        ...


def secret_not_found(name: str, store: str) -> SecretNotFound:
    """The error for a missing secret: names the secret (never a value) and says how to put it back."""
    connection = connection_name_from_secret_name(name)
    if connection is None:
        fix = "store it again"
    else:
        fix = f"re-PUT the connection with its API key (PUT /api/connections/{connection} with apiKey)"
    return SecretNotFound(f"secret {name!r} is not in {store}: {fix}")


__all__ = ["SecretProvider", "secret_not_found"]
