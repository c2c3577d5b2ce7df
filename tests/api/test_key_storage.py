"""Saving a connection's key: no failure and no race leaves an orphaned or a half-rotated secret.

Each test runs against both real secret stores: Key Vault (the real aio SecretClient against the
fake HTTPS vault, tests/fakes/keyvault.py) and the local store's 0600 JSON file.  `live()` is
what the store holds (Key Vault's active secrets, not its soft-deleted ones; the file's non-null
entries).  The invariant after every PUT, won or lost: the store holds exactly the one secret the
connection document names, holding the key of the PUT that saved that document.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import shared.api.connections as connections_module
from shared.config import Secret
from shared.errors import RetriableError
from shared.models import Connection
from shared.secrets import LocalSecretProvider, SecretProvider, create_key_vault_secret_provider
from shared.services import Services
from tests.api.client import ADMIN, ApiClient
from tests.api.conftest import Emu, ProdFactory, connection_body
from tests.api.leaks import Ledger
from tests.fakes.keyvault import FakeAsyncCredential, FakeVault

HOST = "acct.api-us1.com"  # public in the fake DNS; the prod Services route it to the emulator


@dataclass
class Store:
    provider: SecretProvider
    live: Callable[[], dict[str, str]]


@pytest.fixture(params=["key-vault", "local-file"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, fake_vault: FakeVault, fake_credential: FakeAsyncCredential
) -> AsyncIterator[Store]:
    if request.param == "key-vault":
        provider: SecretProvider = create_key_vault_secret_provider(
            fake_vault.url, fake_credential, client_kwargs=fake_vault.client_kwargs
        )
        yield Store(provider, lambda: dict(fake_vault.secrets))
    else:
        path = tmp_path / "secrets.json"

        def live() -> dict[str, str]:
            data = json.loads(path.read_text()) if path.exists() else {}
            return {k: v for k, v in data.items() if v is not None}

        yield Store(LocalSecretProvider(path=path), live)


@pytest.fixture
async def services(prod: ProdFactory, store: Store) -> Services:
    return await prod(auth_enabled=True, secrets=store.provider)


async def put(api: ApiClient, name: str, key: str, **headers: str) -> Any:
    return await api.call(
        "PUT", f"connections/{name}", as_=ADMIN, json_body=connection_body(HOST, key), headers=headers
    )


async def document(services: Services, name: str) -> Connection:
    return (await services.connections.get(name)).doc


def after_verification(monkeypatch: pytest.MonkeyPatch, then: Callable[[], Awaitable[None]]) -> None:
    """Run `then` right after ActiveCampaign accepted the key, before the PUT stores it and saves the document."""
    verify = connections_module.verify_key

    async def verify_then(services: Services, hostname: str, api_key: Secret) -> None:
        await verify(services, hostname, api_key)
        await then()

    monkeypatch.setattr(connections_module, "verify_key", verify_then)


@pytest.mark.parametrize("failure", ["412: someone saved the connection meanwhile", "503: storage is down"])
async def test_a_failed_document_write_leaves_the_old_key_in_force_and_no_new_secret(
    api: ApiClient,
    services: Services,
    store: Store,
    emu: Emu,
    unique: str,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    # given a connection saved with key 1
    assert (await put(api, unique, emu.key)).status == 201
    before = await document(services, unique)
    assert store.live() == {before.secret_name: emu.key}
    new_key = ledger.new_key("new")
    emu.server.patch_config(api_keys=[emu.key, new_key])

    # when a PUT with key 2 passes verification, and then its conditional document write fails
    async def another_admin_saves() -> None:
        found = await services.connections.get(unique)
        changed = found.doc.model_copy(update={"display_name": "changed meanwhile"})
        await services.connections.replace(unique, changed, found.etag)

    async def storage_goes_down() -> None:
        async def down(*args: object, **kwargs: object) -> str:
            raise RetriableError("storage is unavailable")

        monkeypatch.setattr(services.connections, "replace", down)

    after_verification(monkeypatch, another_admin_saves if failure.startswith("412") else storage_goes_down)
    reply = await put(api, unique, new_key)

    # then the PUT fails, the document still names the old secret, which still holds key 1, and nothing else is left
    assert reply.status == int(failure[:3]), reply.body
    monkeypatch.undo()
    after = await document(services, unique)
    assert after.secret_name == before.secret_name
    assert store.live() == {before.secret_name: emu.key}
    assert (await services.secrets.get(after.secret_name)).reveal() == emu.key


@pytest.mark.parametrize("interleaving", ["both-store-then-both-save", "loser-stores-after-the-winner-saved"])
@pytest.mark.parametrize("existing", [True, False], ids=["rotation", "creation"])
async def test_two_concurrent_puts_end_with_the_winners_key_in_the_named_secret_and_no_orphan(
    api: ApiClient,
    services: Services,
    store: Store,
    emu: Emu,
    unique: str,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
    existing: bool,
    interleaving: str,
) -> None:
    # given (for a rotation) a connection saved with key 0
    if existing:
        assert (await put(api, unique, emu.key)).status == 201
    key_a, key_b = ledger.new_key("a"), ledger.new_key("b")
    emu.server.patch_config(api_keys=[emu.key, key_a, key_b])

    # when two PUTs (keys a and b) run at once, both having read the same version and passed verification
    verified = {key_a: asyncio.Event(), key_b: asyncio.Event()}
    a_done = asyncio.Event()
    verify = connections_module.verify_key

    async def verify_in_order(services: Services, hostname: str, api_key: Secret) -> None:
        await verify(services, hostname, api_key)
        key = api_key.reveal()
        verified[key].set()
        other = key_b if key == key_a else key_a
        await verified[other].wait()  # both verified: neither has stored or saved yet
        if interleaving.startswith("loser") and key == key_b:
            await a_done.wait()  # b stores its key only after a's PUT has finished

    async def put_a() -> Any:
        try:
            return await put(api, unique, key_a)
        finally:
            a_done.set()

    monkeypatch.setattr(connections_module, "verify_key", verify_in_order)
    replies = await asyncio.gather(put_a(), put(api, unique, key_b))

    # then one wins and one gets 412; the document names a secret holding the winner's key, and that is all there is
    statuses = sorted(r.status for r in replies)
    assert statuses == [200 if existing else 201, 412], [r.body for r in replies]
    winner = key_a if replies[0].status < 300 else key_b
    if interleaving.startswith("loser"):
        assert winner == key_a
    named = (await document(services, unique)).secret_name
    assert store.live() == {named: winner}


async def test_a_reader_holding_the_document_from_before_a_rotation_uses_the_new_key(
    api: ApiClient, services: Services, store: Store, emu: Emu, unique: str, ledger: Ledger
) -> None:
    # given a worker that read the connection document, and then a rotation that deleted the secret it names
    assert (await put(api, unique, emu.key)).status == 201
    read_before = await document(services, unique)
    new_key = ledger.new_key("rotated")
    emu.server.patch_config(api_keys=[emu.key, new_key])
    assert (await put(api, unique, new_key)).status == 200
    emu.server.patch_config(api_keys=[new_key])  # the old key is revoked in ActiveCampaign
    assert read_before.secret_name not in store.live()

    # when it builds its client from what it read, the client uses the secret the document names now
    client = await services.ac_for(read_before)
    await client.verify_credentials()  # AC accepts it: the new key
    assert store.live() == {(await document(services, unique)).secret_name: new_key}
