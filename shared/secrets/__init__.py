"""Where connections' API keys live: Key Vault in Azure, a local store on a developer machine."""

from shared.secrets.cache import DEFAULT_TTL_S
from shared.secrets.factory import build_secret_provider
from shared.secrets.keyvault import KeyVaultSecretProvider, create_key_vault_secret_provider
from shared.secrets.local import LocalSecretProvider, seed_from_settings
from shared.secrets.names import (
    MAX_CONNECTION_NAME_LENGTH,
    SECRET_NAME_PREFIX,
    connection_name_from_secret_name,
    new_secret_name,
    secret_name_for_connection,
    validate_secret_name,
)
from shared.secrets.provider import SecretProvider

__all__ = [
    "DEFAULT_TTL_S",
    "MAX_CONNECTION_NAME_LENGTH",
    "SECRET_NAME_PREFIX",
    "KeyVaultSecretProvider",
    "LocalSecretProvider",
    "SecretProvider",
    "build_secret_provider",
    "connection_name_from_secret_name",
    "create_key_vault_secret_provider",
    "new_secret_name",
    "secret_name_for_connection",
    "seed_from_settings",
    "validate_secret_name",
]
