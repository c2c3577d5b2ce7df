"""KeyVaultSecretProvider with the real aio SecretClient against the fake HTTPS vault."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from shared.config import Secret
from shared.errors import FatalError, InvalidInput, RetriableError, SecretNotFound
from shared.secrets import KeyVaultSecretProvider, SecretProvider, create_key_vault_secret_provider
from tests.fakes.keyvault import FakeAsyncCredential, FakeVault
from tests.secrets.conftest import FakeClock

NAME = "ac-key-crm"
VALUE = "ac-live-9f8e7d6c5b4a-topsecret"
GET = "GET /secrets/{name}"


@pytest.fixture
async def make_provider(
    fake_vault: FakeVault, fake_credential: FakeAsyncCredential, clock: FakeClock
) -> AsyncIterator[Callable[..., KeyVaultSecretProvider]]:
    made: list[KeyVaultSecretProvider] = []

    def make(credential: FakeAsyncCredential | None = None, **kwargs: Any) -> KeyVaultSecretProvider:
        # retry_total=0: the SDK would retry 429/5xx itself; these tests look at one answer each.
        provider = create_key_vault_secret_provider(
            fake_vault.url,
            credential or fake_credential,
            ttl_s=300,
            clock=clock,
            client_kwargs=fake_vault.client_kwargs | {"retry_total": 0} | kwargs,
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.close()


@pytest.fixture
def provider(make_provider: Callable[..., KeyVaultSecretProvider]) -> KeyVaultSecretProvider:
    return make_provider()


async def test_set_then_get_through_the_vault(
    make_provider: Callable[..., KeyVaultSecretProvider], fake_vault: FakeVault, fake_credential: FakeAsyncCredential
) -> None:
    writer, reader = make_provider(), make_provider()
    assert isinstance(writer, SecretProvider)

    await writer.set(NAME, Secret(VALUE))
    got = await reader.get(NAME)

    assert got.reveal() == VALUE
    assert repr(got) == "Secret('***')"
    assert fake_vault.secrets[NAME] == VALUE
    assert fake_vault.requests["challenge"] >= 1  # the SDK went through Key Vault's 401 challenge
    assert "https://vault.azure.net/.default" in fake_credential.scopes
    assert set(fake_vault.tokens) == {"fake"}


async def test_get_is_cached_for_the_ttl_and_reread_after(
    provider: KeyVaultSecretProvider, fake_vault: FakeVault, clock: FakeClock
) -> None:
    fake_vault.secrets[NAME] = "first"
    assert (await provider.get(NAME)).reveal() == "first"
    fake_vault.secrets[NAME] = "rotated elsewhere"

    clock.advance(299)
    assert (await provider.get(NAME)).reveal() == "first"
    assert fake_vault.requests[GET] == 1

    clock.advance(1)
    assert (await provider.get(NAME)).reveal() == "rotated elsewhere"
    assert fake_vault.requests[GET] == 2


async def test_set_refreshes_this_process_cache(provider: KeyVaultSecretProvider, fake_vault: FakeVault) -> None:
    fake_vault.secrets[NAME] = "old"
    await provider.get(NAME)

    await provider.set(NAME, Secret("new"))

    assert (await provider.get(NAME)).reveal() == "new"
    assert fake_vault.requests[GET] == 1


async def test_missing_secret_names_the_secret_and_the_fix(provider: KeyVaultSecretProvider) -> None:
    with pytest.raises(SecretNotFound) as info:
        await provider.get(NAME)

    assert isinstance(info.value, FatalError)
    assert "'ac-key-crm'" in info.value.message
    assert "PUT /api/connections/crm" in info.value.message


async def test_delete_soft_deletes_and_then_get_is_missing(
    provider: KeyVaultSecretProvider, fake_vault: FakeVault
) -> None:
    await provider.set(NAME, Secret(VALUE))
    await provider.get(NAME)

    await provider.delete(NAME)

    assert NAME not in fake_vault.secrets
    assert fake_vault.deleted == {NAME: VALUE}  # soft-deleted, not purged
    with pytest.raises(SecretNotFound):
        await provider.get(NAME)  # not served from the cache either


async def test_deleting_a_missing_secret_is_not_an_error(
    provider: KeyVaultSecretProvider, fake_vault: FakeVault
) -> None:
    await provider.delete(NAME)
    assert fake_vault.requests["DELETE /secrets/{name}"] == 1


async def test_set_after_delete_reuses_the_soft_deleted_name(
    make_provider: Callable[..., KeyVaultSecretProvider], fake_vault: FakeVault
) -> None:
    provider = make_provider()
    await provider.set(NAME, Secret("v1"))
    await provider.delete(NAME)

    await provider.set(NAME, Secret("v2"))

    assert (await make_provider().get(NAME)).reveal() == "v2"
    assert fake_vault.requests["POST /deletedsecrets/{name}/recover"] == 1


@pytest.mark.parametrize(
    ("status", "expected", "hint"),
    [
        (401, FatalError, "AZURE_CLIENT_ID"),
        (403, FatalError, "Key Vault Secrets Officer"),
        (400, FatalError, "HTTP 400"),
        (429, RetriableError, "retry later"),
        (500, RetriableError, "retry later"),
        (503, RetriableError, "retry later"),
    ],
)
@pytest.mark.parametrize("operation", ["get", "set", "delete"])
async def test_vault_failures_are_translated(
    provider: KeyVaultSecretProvider,
    fake_vault: FakeVault,
    status: int,
    expected: type[Exception],
    hint: str,
    operation: str,
) -> None:
    fake_vault.fail_status = status

    with pytest.raises(expected) as info:
        await _call(provider, operation)

    assert type(info.value) is expected  # a 403 must not look retriable, a 500 must not look fatal
    assert f"HTTP {status}" in str(info.value)
    assert NAME in str(info.value)
    assert hint in str(info.value)
    assert VALUE not in "".join(traceback.format_exception(info.value))


async def test_throttling_carries_the_vaults_retry_after(
    provider: KeyVaultSecretProvider, fake_vault: FakeVault
) -> None:
    fake_vault.fail_status, fake_vault.fail_retry_after = 429, "7"
    with pytest.raises(RetriableError) as info:
        await provider.get(NAME)
    assert info.value.retry_after == 7.0


async def test_unreachable_vault_is_retriable(provider: KeyVaultSecretProvider, fake_vault: FakeVault) -> None:
    await fake_vault.stop()
    with pytest.raises(RetriableError, match="could not reach Key Vault"):
        await provider.get(NAME)


class BrokenCredential(FakeAsyncCredential):
    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        raise ClientAuthenticationError("ManagedIdentityCredential: no identity assigned")


async def test_no_token_from_the_identity_is_fatal(make_provider: Callable[..., KeyVaultSecretProvider]) -> None:
    provider = make_provider(BrokenCredential())
    with pytest.raises(FatalError, match="AZURE_CLIENT_ID") as info:
        await provider.get(NAME)
    assert not isinstance(info.value, RetriableError)


async def test_invalid_name_is_refused_before_any_request(
    provider: KeyVaultSecretProvider, fake_vault: FakeVault
) -> None:
    with pytest.raises(InvalidInput):
        await provider.get("crm_eu")
    assert sum(fake_vault.requests.values()) == 0


async def test_values_never_reach_logs_or_errors(
    provider: KeyVaultSecretProvider, fake_vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    await provider.set(NAME, Secret(VALUE))
    await provider.get(NAME)
    await provider.delete(NAME)
    await provider.set(NAME, Secret(VALUE))  # recovers the soft-deleted secret
    fake_vault.fail_status = 403
    with pytest.raises(FatalError) as info:
        await provider.set(NAME, Secret(VALUE))

    assert VALUE not in caplog.text
    assert VALUE not in "".join(traceback.format_exception(info.value))
    debug_names = [r for r in caplog.records if r.name.startswith("shared.secrets") and NAME in r.getMessage()]
    assert debug_names
    assert all(r.levelno == logging.DEBUG for r in debug_names)


async def test_close_leaves_a_passed_in_credential_to_its_owner(
    make_provider: Callable[..., KeyVaultSecretProvider], fake_credential: FakeAsyncCredential
) -> None:
    provider = make_provider()
    await provider.close()
    assert fake_credential.closed is False


async def _call(provider: KeyVaultSecretProvider, operation: str) -> None:
    if operation == "get":
        await provider.get(NAME)
    elif operation == "set":
        await provider.set(NAME, Secret(VALUE))
    else:
        await provider.delete(NAME)
