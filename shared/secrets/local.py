"""`LocalSecretProvider`: API keys on a developer machine (no Key Vault).

Values come from, in order:
1. the secrets file (Settings.local_secrets_file, e.g. ``.local/secrets.json``), re-read on
   every `get` so a key stored by the HTTP process is seen by a worker process;
   without a file, an in-memory dict of this process only;
2. the seed: app settings named ``ACSECRET__<secret name>`` (Settings.local_secrets; the
   stand-in host puts local.settings.json Values into the environment).
`set` and `delete` write to (1).  Deleting a seeded secret records ``null`` so it stays deleted.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping

from shared.config import LOCAL_SECRET_PREFIX, Secret
from shared.errors import SecretNotFound
from shared.secrets.local_file import SecretsFile, Stored
from shared.secrets.names import validate_secret_name
from shared.secrets.provider import secret_not_found

logger = logging.getLogger(__name__)


class LocalSecretProvider:
    """A `SecretProvider` for local runs.  `seed` maps secret names (no prefix) to values."""

    def __init__(self, seed: Mapping[str, str] | None = None, *, path: str | os.PathLike[str] | None = None) -> None:
        self._seed = dict(seed or {})
        self._file = SecretsFile(path) if path is not None else None
        self._memory: Stored = {}

    async def get(self, name: str) -> Secret:
        validate_secret_name(name)
        stored = await self._stored()
        if name in stored:
            value = stored[name]
            if value is None:
                raise self._missing(name)
            return Secret(value)
        if name in self._seed:
            return Secret(self._seed[name])
        raise self._missing(name)

    async def set(self, name: str, value: Secret) -> None:
        validate_secret_name(name)
        revealed = value.reveal()

        def edit(data: Stored) -> None:
            data[name] = revealed

        await self._modify(edit)
        logger.debug("secret %s stored locally", name)

    async def delete(self, name: str) -> None:
        validate_secret_name(name)
        seeded = name in self._seed

        def edit(data: Stored) -> None:
            if seeded:
                data[name] = None
            else:
                data.pop(name, None)

        await self._modify(edit)
        logger.debug("secret %s deleted locally", name)

    async def close(self) -> None:
        return None

    async def _stored(self) -> Stored:
        if self._file is None:
            return self._memory
        return await asyncio.to_thread(self._file.load)

    async def _modify(self, edit: Callable[[Stored], None]) -> None:
        if self._file is None:
            edit(self._memory)
        else:
            await asyncio.to_thread(self._file.modify, edit)

    def _missing(self, name: str) -> SecretNotFound:
        where = str(self._file.path) if self._file is not None else "this process's memory"
        return secret_not_found(name, f"the local secret store ({where}, or app setting {LOCAL_SECRET_PREFIX}{name})")


def seed_from_settings(local_secrets: Mapping[str, str]) -> dict[str, str]:
    """Settings.local_secrets (``ACSECRET__<name>`` -> value) keyed by secret name."""
    return {
        key[len(LOCAL_SECRET_PREFIX) :]: value
        for key, value in local_secrets.items()
        if key.startswith(LOCAL_SECRET_PREFIX) and len(key) > len(LOCAL_SECRET_PREFIX)
    }


__all__ = ["LocalSecretProvider", "seed_from_settings"]
