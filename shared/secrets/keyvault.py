"""`KeyVaultSecretProvider`: API keys in Azure Key Vault, read through a small TTL cache.

Build it with `create_key_vault_secret_provider(vault_url)`: the one factory that makes the
`SecretClient`.  In Azure the credential is `DefaultAzureCredential`, which picks up the
user-assigned identity from AZURE_CLIENT_ID by itself.  Tests pass a fake credential and
`client_kwargs` such as ``verify_challenge_resource=False`` and ``connection_verify=<CA>``;
production keeps the SDK's defaults (including its retry policy).

Cache: `get` serves a value for `ttl_s` seconds (default 300) after reading it; `set` and
`delete` update this process's cache at once.  Other processes see a change when their
entry expires.

Delete is Key Vault's soft delete: the aio SDK's `delete_secret` returns once the vault
has moved the secret to its deleted collection (it polls; nothing is purged).  Writing a
name that is soft-deleted makes Key Vault answer 409, so `set` recovers the deleted secret
and writes a new version on top.  The identity needs 'Key Vault Secrets Officer'.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets.aio import SecretClient

from shared.config import Secret
from shared.errors import SecretNotFound
from shared.secrets.cache import DEFAULT_TTL_S, SecretCache
from shared.secrets.names import validate_secret_name
from shared.secrets.provider import secret_not_found
from shared.secrets.vault_errors import vault_errors

logger = logging.getLogger(__name__)


class KeyVaultSecretProvider:
    """A `SecretProvider` over an aio `SecretClient`.  It closes the client, and `credential` if given."""

    def __init__(
        self,
        client: SecretClient,
        *,
        credential: AsyncTokenCredential | None = None,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._credential = credential
        self._cache = SecretCache(ttl_s, clock)

    async def get(self, name: str) -> Secret:
        validate_secret_name(name)
        cached = self._cache.get(name)
        if cached is not None:
            logger.debug("secret %s served from cache", name)
            return cached
        with vault_errors("read", name):
            bundle = await self._client.get_secret(name)
        if bundle.value is None:
            raise secret_not_found(name, "Key Vault")
        value = Secret(bundle.value)
        self._cache.put(name, value)
        logger.debug("secret %s read from Key Vault", name)
        return value

    async def set(self, name: str, value: Secret) -> None:
        validate_secret_name(name)
        self._cache.invalidate(name)
        with vault_errors("write", name):
            await self._write(name, value)
        self._cache.put(name, value)
        logger.debug("secret %s written to Key Vault", name)

    async def delete(self, name: str) -> None:
        validate_secret_name(name)
        self._cache.invalidate(name)
        try:
            with vault_errors("delete", name):
                await self._client.delete_secret(name)
        except SecretNotFound:
            logger.debug("secret %s was already absent", name)
            return
        logger.debug("secret %s deleted from Key Vault (soft delete)", name)

    async def close(self) -> None:
        self._cache.clear()
        await self._client.close()
        if self._credential is not None:
            await self._credential.close()

    async def _write(self, name: str, value: Secret) -> None:
        try:
            await self._client.set_secret(name, value.reveal())
        except ResourceExistsError as conflict:
            # The name belongs to a soft-deleted secret: bring it back, then write the new version.
            logger.debug("secret %s is soft-deleted; recovering it before the write", name)
            try:
                await self._client.recover_deleted_secret(name)
            except ResourceNotFoundError:
                raise conflict from None
            await self._client.set_secret(name, value.reveal())


def create_key_vault_secret_provider(
    vault_url: str,
    credential: AsyncTokenCredential | None = None,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    clock: Callable[[], float] = time.monotonic,
    client_kwargs: Mapping[str, Any] | None = None,
) -> KeyVaultSecretProvider:
    """The one place that builds a SecretClient.

    Without `credential` it uses `DefaultAzureCredential` and closes it with the provider; a
    credential passed in stays the caller's to close.  `client_kwargs` go to SecretClient
    unchanged (tests only: ``verify_challenge_resource``, ``connection_verify``, ``retry_total``).
    """
    owned: AsyncTokenCredential | None = None
    if credential is None:
        from azure.identity.aio import DefaultAzureCredential

        credential = owned = DefaultAzureCredential()
    client = SecretClient(vault_url, credential, **dict(client_kwargs or {}))
    return KeyVaultSecretProvider(client, credential=owned, ttl_s=ttl_s, clock=clock)


__all__ = ["KeyVaultSecretProvider", "create_key_vault_secret_provider"]
