"""`build_secret_provider(settings)`: Key Vault in Azure, the local store on a developer machine."""

from __future__ import annotations

from shared.config import Settings
from shared.errors import ConfigurationError
from shared.secrets.keyvault import create_key_vault_secret_provider
from shared.secrets.local import LocalSecretProvider, seed_from_settings
from shared.secrets.provider import SecretProvider


def build_secret_provider(settings: Settings) -> SecretProvider:
    """Key Vault when KEY_VAULT_URL is set; otherwise the local store, which needs LOCAL_DEVELOPMENT=true.

    The guard keeps a deployment that lost its KEY_VAULT_URL from keeping API keys in memory.
    """
    if settings.key_vault_url:
        return create_key_vault_secret_provider(settings.key_vault_url)
    if not settings.local_development:
        raise ConfigurationError(
            "KEY_VAULT_URL is not set: set it to the vault's URL (https://<name>.vault.azure.net), "
            "or set LOCAL_DEVELOPMENT=true to keep API keys in the local secret store"
        )
    return LocalSecretProvider(seed_from_settings(settings.local_secrets), path=settings.local_secrets_file)


__all__ = ["build_secret_provider"]
