"""`build_secret_provider(settings)`: Key Vault in Azure, the local store on a developer machine."""

from __future__ import annotations

from shared.config import LOCAL_SECRETS_SETTING, Settings
from shared.errors import ConfigurationError
from shared.secrets.keyvault import create_key_vault_secret_provider
from shared.secrets.local import LocalSecretProvider, seed_from_settings
from shared.secrets.provider import SecretProvider


def build_secret_provider(settings: Settings) -> SecretProvider:
    """Key Vault when KEY_VAULT_URL is set; the local store when LOCAL_SECRETS=true; exactly one of them.

    The guard keeps a deployment that lost its KEY_VAULT_URL from keeping API keys in memory
    (and Settings refuses LOCAL_SECRETS in Azure).
    """
    if settings.key_vault_url and settings.use_local_secrets:
        raise ConfigurationError(
            f"both KEY_VAULT_URL and {LOCAL_SECRETS_SETTING}=true are set: keep API keys in one place, "
            f"so remove {LOCAL_SECRETS_SETTING} (or KEY_VAULT_URL on a developer machine)"
        )
    if settings.key_vault_url:
        return create_key_vault_secret_provider(settings.key_vault_url)
    if not settings.use_local_secrets:
        raise ConfigurationError(
            "KEY_VAULT_URL is not set: set it to the vault's URL (https://<name>.vault.azure.net), "
            f"or set {LOCAL_SECRETS_SETTING}=true on a developer machine to keep API keys in the local secret store"
        )
    return LocalSecretProvider(seed_from_settings(settings.local_secrets), path=settings.local_secrets_file)


__all__ = ["build_secret_provider"]
