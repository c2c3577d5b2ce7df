"""The one place where Azure SDK errors from Key Vault become the product's errors.

`vault_errors(action, name)` wraps every SecretClient call in `KeyVaultSecretProvider`.
Messages name the secret and the HTTP status (and Key Vault's error code), never a
value; the SDK exception is not chained, because it holds the request (and so, for a
write, the value) and its text is Key Vault's, not ours.

| Key Vault outcome                                   | Raised                          |
|-----------------------------------------------------|---------------------------------|
| 404 (ResourceNotFoundError)                         | SecretNotFound (a FatalError)   |
| 401, or no token from the credential                | FatalError (identity is wrong)  |
| 403                                                 | FatalError (role is missing)    |
| 408, 409, 429, 5xx (see RETRIABLE_STATUSES)         | RetriableError (+ Retry-After)  |
| any other HTTP status                               | FatalError                      |
| network errors, timeouts, other AzureError          | RetriableError                  |
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from shared.errors import ExportError, FatalError, RetriableError
from shared.retry_after import retry_after_seconds
from shared.secrets.provider import secret_not_found

# 409: the vault is still finishing an earlier delete of the same name ("ObjectIsBeingDeleted").
RETRIABLE_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504})
VAULT_ROLE: Final = "Key Vault Secrets Officer"  # read, write and delete secrets (infra grants it)
_ERROR_CODE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")


@contextmanager
def vault_errors(action: str, name: str) -> Iterator[None]:
    """Translate any AzureError raised inside the block (`action` is a verb: read, write, delete)."""
    try:
        yield
    except AzureError as exc:
        raise translate_vault_error(exc, action=action, name=name) from None


def translate_vault_error(exc: AzureError, *, action: str, name: str) -> ExportError:
    where = f"to {action} secret {name!r}"
    kind = type(exc).__name__
    if isinstance(exc, ResourceNotFoundError):
        return secret_not_found(name, "Key Vault")
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        status = exc.status_code
        detail = f"HTTP {status}{_vault_code(exc)}"
        if status == 401:
            return FatalError(
                f"Key Vault rejected the app's token ({detail}) {where}: check the managed identity "
                "(AZURE_CLIENT_ID) and that the vault is in the identity's tenant"
            )
        if status == 403:
            return FatalError(
                f"Key Vault refused the app ({detail}) {where}: grant the app's managed identity "
                f"the '{VAULT_ROLE}' role on the vault"
            )
        if status in RETRIABLE_STATUSES:
            return RetriableError(
                f"Key Vault is unavailable ({detail}) {where}: retry later", retry_after=_retry_after(exc)
            )
        return FatalError(f"Key Vault refused the request ({detail}) {where}")
    if isinstance(exc, ClientAuthenticationError):
        return FatalError(
            f"could not get a Key Vault token ({kind}) {where}: check the managed identity and AZURE_CLIENT_ID"
        )
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return RetriableError(f"could not reach Key Vault ({kind}) {where}: retry later")
    return RetriableError(f"Key Vault call failed ({kind}) {where}: retry later")


def _vault_code(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return f" {code}" if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""


def _retry_after(exc: HttpResponseError) -> float | None:
    headers = getattr(exc.response, "headers", None)
    return retry_after_seconds(headers.get("Retry-After")) if isinstance(headers, Mapping) else None


__all__ = ["RETRIABLE_STATUSES", "VAULT_ROLE", "translate_vault_error", "vault_errors"]
