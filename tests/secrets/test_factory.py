"""build_secret_provider: Key Vault when KEY_VAULT_URL is set, the local store on a developer machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Secret, Settings, StorageSettings
from shared.errors import ConfigurationError
from shared.secrets import KeyVaultSecretProvider, LocalSecretProvider, build_secret_provider

STORAGE = StorageSettings(connection_string=Secret("UseDevelopmentStorage=true"))


def settings(**overrides: object) -> Settings:
    return Settings(storage=STORAGE, snapshot_storage=STORAGE, **overrides)  # type: ignore[arg-type]


async def test_key_vault_url_selects_key_vault() -> None:
    provider = build_secret_provider(settings(key_vault_url="https://kv-example.vault.azure.net"))
    try:
        assert isinstance(provider, KeyVaultSecretProvider)
    finally:
        await provider.close()


async def test_local_secrets_uses_the_seed_and_the_secrets_file(tmp_path: Path) -> None:
    env = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "LOCAL_SECRETS": "true",
        "LOCAL_SECRETS_FILE": str(tmp_path / ".local" / "secrets.json"),
        "ACSECRET__ac-key-demo": "seeded-key",
    }
    provider = build_secret_provider(Settings.from_env(env))

    assert isinstance(provider, LocalSecretProvider)
    assert (await provider.get("ac-key-demo")).reveal() == "seeded-key"
    await provider.set("ac-key-other", Secret("stored-key"))
    assert (tmp_path / ".local" / "secrets.json").exists()


def test_without_key_vault_and_without_local_secrets_it_refuses() -> None:
    with pytest.raises(ConfigurationError, match="KEY_VAULT_URL") as refused:
        build_secret_provider(settings())
    assert "LOCAL_SECRETS=true" in str(refused.value)


def test_key_vault_and_local_secrets_together_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="both KEY_VAULT_URL and LOCAL_SECRETS"):
        build_secret_provider(settings(key_vault_url="https://kv-example.vault.azure.net", use_local_secrets=True))
