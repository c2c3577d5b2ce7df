"""Connections over HTTP: verified before saving, key only in the secret store, ETags, delete rules."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInput, SecretNotFound
from shared.secrets import connection_name_from_secret_name, create_key_vault_secret_provider
from shared.services import Services
from tests.api.client import ADMIN, ADMIN_2, ApiClient
from tests.api.conftest import Emu, ProdFactory, connection_body, export_body
from tests.api.leaks import Ledger
from tests.fakes.keyvault import FakeAsyncCredential, FakeVault


async def test_admin_creates_a_connection_and_the_key_goes_only_to_the_secret_store(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    # when an admin puts a connection with the emulator's key
    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))

    # then it is created, with an ETag and a Location, and the answer never shows the key or its reference
    assert reply.status == 201, reply.body
    assert reply.header("ETag") and reply.header("Location") == f"/api/connections/{unique}"
    view = reply.json()
    assert view["name"] == unique and view["hostname"] == emu.host
    assert "apiKey" not in view and "secretName" not in view
    # consent and the export user are recorded with the admin and the time
    assert view["consent"]["accepted"] is True and view["consent"]["by"] == {"id": "u-alice", "name": "alice"}
    assert view["consent"]["at"] and view["exportUser"] == {"id": "u-alice", "name": "alice"}
    # the key is in the secret store under a secret of the connection; the document holds only that name
    document = await dev.connections.get(unique)
    assert connection_name_from_secret_name(document.doc.secret_name) == unique
    stored = await dev.secrets.get(document.doc.secret_name)
    assert stored.reveal() == emu.key
    assert emu.key not in document.doc.model_dump_json()


async def test_a_missing_consent_is_refused_naming_consent(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    body = connection_body(emu.host, emu.key)
    del body["consent"]
    missing = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=body)
    refused = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body={**body, "consent": False})

    assert (missing.status, missing.fields) == (400, ["consent"])
    assert (refused.status, refused.fields) == (400, ["consent"])
    assert "data-privacy" in refused.error["details"][0]["message"]
    assert await dev.connections.find(unique) is None


async def test_a_wrong_key_is_refused_by_verification_and_nothing_is_saved(
    api: ApiClient, dev: Services, emu: Emu, unique: str, ledger: Ledger
) -> None:
    wrong = ledger.new_key("wrong")
    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, wrong))

    assert reply.status == 400 and reply.fields == ["apiKey"]
    assert "refused this API key" in reply.error["message"]
    # ActiveCampaign was asked once (GET /users/me answered 403) ...
    assert emu.server.metrics.request_counts() == {"GET /users/me": {"403": 1}}
    # ... and nothing was saved (no secret either: see the Key Vault test below)
    assert await dev.connections.find(unique) is None


async def test_a_pasted_url_is_stored_as_its_hostname_after_a_public_dns_check(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str
) -> None:
    # given production settings (Easy Auth on, no local hosts) and the fake public DNS
    services = await prod(auth_enabled=True)
    body = connection_body("https://Acct.api-us1.com/", emu.key)

    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=body)

    assert reply.status == 201, reply.body
    assert reply.json()["hostname"] == "acct.api-us1.com"
    assert (await services.connections.get(unique)).doc.hostname == "acct.api-us1.com"


@pytest.mark.parametrize(
    "hostname",
    [
        "10.0.0.5",
        "169.254.169.254",
        "http://169.254.169.254/latest/meta-data",
        "localhost",
        "intranet",
        "crm.intranet",
        "127.0.0.1:8085",  # not the allowed emulator port
        "0x7f.1",
        "[::1]",
    ],
)
async def test_internal_hosts_are_refused_naming_hostname(
    api: ApiClient, dev: Services, emu: Emu, unique: str, hostname: str
) -> None:
    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(hostname, emu.key))

    assert (reply.status, reply.fields) == (400, ["hostname"])
    # refused before any request left: the key went nowhere, and nothing was saved
    assert emu.server.metrics.request_counts() == {}
    assert await dev.connections.find(unique) is None


@pytest.mark.parametrize(
    ("hostname", "why"),
    [("rebind.example-attacker.com", "private or internal"), ("nowhere.api-us1.com", "does not resolve")],
)
async def test_a_name_that_is_not_an_allowed_local_host_must_resolve_publicly(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str, hostname: str, why: str
) -> None:
    services = await prod(auth_enabled=True)
    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(hostname, emu.key))

    assert (reply.status, reply.fields) == (400, ["hostname"])
    assert why in reply.error["message"]
    assert await services.connections.find(unique) is None


async def test_on_a_developer_machine_only_the_allowed_local_hosts_skip_the_dns_check(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    # given developer settings (principal header trusted, the emulator allowed) and a DNS check that refuses all
    asked: list[str] = []

    async def refusing_dns(host: str) -> None:
        asked.append(host)
        raise InvalidInput.for_field("hostname", f"{host} resolves to a private or internal address")

    dev.resolve_host = refusing_dns
    other = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("acct.api-us1.com", "k")
    )
    allowed = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))

    # then any other name is checked (and refused), and the allowed emulator host is not
    assert (other.status, other.fields) == (400, ["hostname"]) and asked == ["acct.api-us1.com"]
    assert allowed.status == 201 and asked == ["acct.api-us1.com"]


async def test_replacing_a_connection_rotates_the_key_and_keeps_its_creation_time(
    api: ApiClient, dev: Services, emu: Emu, unique: str, ledger: Ledger
) -> None:
    first = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    old_secret = (await dev.connections.get(unique)).doc.secret_name
    new_key = ledger.new_key("rotated")
    emu.server.patch_config(api_keys=[emu.key, new_key])

    second = await api.call(
        "PUT",
        f"connections/{unique}",
        as_=ADMIN_2,
        json_body=connection_body(emu.host, new_key, displayName="CRM (rotated)"),
        headers={"If-Match": first.header("ETag") or ""},
    )

    assert second.status == 200, second.body
    assert second.header("ETag") != first.header("ETag")
    assert second.json()["createdAt"] == first.json()["createdAt"]
    assert second.json()["exportUser"]["name"] == "bob"  # the admin whose key is in use now
    # the document names a new secret, which holds the new key; the old secret is gone
    new_secret = (await dev.connections.get(unique)).doc.secret_name
    assert new_secret != old_secret and (await dev.secrets.get(new_secret)).reveal() == new_key
    with pytest.raises(SecretNotFound):
        await dev.secrets.get(old_secret)


async def test_etags_guard_against_lost_updates(api: ApiClient, dev: Services, emu: Emu, unique: str) -> None:
    path = f"connections/{unique}"
    body = connection_body(emu.host, emu.key)
    created = await api.call("PUT", path, as_=ADMIN, json_body=body, headers={"If-None-Match": "*"})
    again = await api.call("PUT", path, as_=ADMIN, json_body=body, headers={"If-None-Match": "*"})
    replaced = await api.call(
        "PUT", path, as_=ADMIN, json_body=body, headers={"If-Match": created.header("ETag") or ""}
    )
    stale = await api.call("PUT", path, as_=ADMIN, json_body=body, headers={"If-Match": created.header("ETag") or ""})
    stale_delete = await api.call("DELETE", path, as_=ADMIN, headers={"If-Match": created.header("ETag") or ""})
    got = await api.call("GET", path, as_=ADMIN)

    assert [created.status, again.status, replaced.status, stale.status, stale_delete.status] == [
        201,
        412,
        200,
        412,
        412,
    ]
    assert stale.error["code"] == "precondition_failed"
    assert got.header("ETag") == replaced.header("ETag")
    # If-Match on a connection that does not exist fails too, and creates nothing
    ghost = await api.call("PUT", path + "-x", as_=ADMIN, json_body=body, headers={"If-Match": '"nope"'})
    assert ghost.status == 412 and await dev.connections.find(unique + "-x") is None


async def test_a_connection_used_by_exports_cannot_be_deleted(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    secret_name = (await dev.connections.get(unique)).doc.secret_name
    export = await api.call("PUT", f"exports/{unique}-e1", as_=ADMIN, json_body=export_body(unique))
    assert export.status == 201, export.body

    refused = await api.call("DELETE", f"connections/{unique}", as_=ADMIN)

    assert refused.status == 409
    assert f"{unique}-e1" in refused.error["message"] and refused.fields == ["exports"]
    assert await dev.connections.find(unique) is not None
    # once the export is gone, the connection and its key are deleted
    assert (await api.call("DELETE", f"exports/{unique}-e1", as_=ADMIN)).status == 200
    deleted = await api.call("DELETE", f"connections/{unique}", as_=ADMIN)
    assert deleted.status == 204 and deleted.body == b""
    assert (await api.call("GET", f"connections/{unique}", as_=ADMIN)).status == 404
    with pytest.raises(SecretNotFound):
        await dev.secrets.get(secret_name)


async def test_admins_list_connections_without_keys(api: ApiClient, dev: Services, emu: Emu, unique: str) -> None:
    await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))

    listed = await api.call("GET", "connections", as_=ADMIN)

    assert listed.status == 200
    mine = [c for c in listed.json()["items"] if c["name"] == unique]
    assert len(mine) == 1 and mine[0]["displayName"] == "CRM account"
    assert emu.key.encode() not in listed.body and b"secretName" not in listed.body


async def test_with_key_vault_the_key_lives_only_in_the_vault(
    api: ApiClient,
    prod: ProdFactory,
    emu: Emu,
    unique: str,
    ledger: Ledger,
    fake_vault: FakeVault,
    fake_credential: FakeAsyncCredential,
) -> None:
    # given production settings with the Key Vault provider (the real SecretClient against a fake HTTPS vault)
    vault_secrets = create_key_vault_secret_provider(
        fake_vault.url, fake_credential, client_kwargs=fake_vault.client_kwargs
    )
    services = await prod(auth_enabled=True, secrets=vault_secrets)
    wrong = ledger.new_key("wrong")

    refused = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("acct.api-us1.com", wrong)
    )
    created = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("acct.api-us1.com", emu.key)
    )

    assert refused.status == 400 and created.status == 201
    secret_name = (await services.connections.get(unique)).doc.secret_name
    assert fake_vault.secrets == {secret_name: emu.key}  # the wrong key never reached the vault
    # deleting the connection deletes the secret (Key Vault's soft delete)
    assert (await api.call("DELETE", f"connections/{unique}", as_=ADMIN)).status == 204
    assert secret_name not in fake_vault.secrets and secret_name in fake_vault.deleted
