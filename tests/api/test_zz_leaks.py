"""No API key the suite used is readable anywhere: blobs, queues, logs or HTTP responses.

This module runs last in tests/api (alphabetical order), so its scan covers every test of
the package that ran before it.  Run alone, it still drives the key-bearing flows itself.
The self-test plants a key in each channel and proves the probe finds it.
"""

from __future__ import annotations

import base64
import logging

from azure.storage.blob.aio import ContainerClient
from azure.storage.queue.aio import QueueClient

from shared.secrets import create_key_vault_secret_provider
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, ApiClient
from tests.api.conftest import Emu, ProdFactory, Snapshots, connection_body, export_body
from tests.api.leaks import Ledger, scan
from tests.fakes.keyvault import FakeAsyncCredential, FakeVault

logger = logging.getLogger("tests.api.planted")


async def test_the_probe_finds_a_planted_key_in_every_channel(app_containers: str, unique: str, ledger: Ledger) -> None:
    planted = f"planted-{unique}-0123456789abcdef"
    container = ContainerClient.from_connection_string(app_containers, unique + "-plant")
    queue = QueueClient.from_connection_string(app_containers, unique + "-plant")
    async with container, queue:
        await container.create_container()
        await container.upload_blob("deep/inside.json", f'{{"k": "{planted}"}}'.encode())
        await queue.create_queue()
        await queue.send_message(base64.b64encode(f'{{"k": "{planted}"}}'.encode()).decode())
        logger.debug("a careless line with %s", planted)
        ledger.record_response("planted", 200, {"X-Debug": planted}, b"{}")
        try:
            hits = await scan(ledger, app_containers, keys=[planted])
        finally:
            await container.delete_container()
            await queue.delete_queue()
            ledger.responses = [r for r in ledger.responses if r[0] != "planted"]
            ledger.logs.texts = [t for t in ledger.logs.texts if planted not in t[1]]
    assert {h.channel for h in hits} == {"blob", "queue", "log", "response"}
    assert any(h.where == f"{unique}-plant/deep/inside.json" for h in hits)
    # and nothing planted remains for the real scan
    assert await scan(ledger, app_containers, keys=[planted]) == []


async def test_the_keys_used_by_the_suite_appear_nowhere(
    api: ApiClient,
    prod: ProdFactory,
    emu: Emu,
    snapshots: Snapshots,
    unique: str,
    ledger: Ledger,
    app_containers: str,
    fake_vault: FakeVault,
    fake_credential: FakeAsyncCredential,
) -> None:
    # given the key-bearing flows, with production settings and Key Vault (DEBUG logging is on for the package)
    vault = create_key_vault_secret_provider(fake_vault.url, fake_credential, client_kwargs=fake_vault.client_kwargs)
    services: Services = await prod(auth_enabled=True, secrets=vault)
    await snapshots.write_segment("Members", ["Email"])
    wrong, rotated = ledger.new_key("wrong"), ledger.new_key("rotated")
    emu.server.patch_config(api_keys=[emu.key, rotated])
    path = f"connections/{unique}"
    shared = connection_body("acct.api-us1.com", emu.key, usableBy="admins-and-contributors")
    await api.call("PUT", path, as_=ADMIN, json_body={**shared, "apiKey": wrong})  # refused by verification
    await api.call("PUT", path, as_=ADMIN, json_body={**shared, "consent": False})  # refused by validation
    await api.call("PUT", path, as_=ADMIN, json_body={**shared, "hostname": "10.0.0.5"})  # refused as internal
    await api.call("PUT", path, as_=ADMIN, json_body={**shared, "displayName": 5})  # refused by the model
    assert (await api.call("PUT", path, as_=ADMIN, json_body=shared)).status == 201
    assert (await api.call("PUT", path, as_=ADMIN, json_body={**shared, "apiKey": rotated})).status == 200
    await api.call("GET", "connections", as_=ADMIN)
    await api.call("GET", path, as_=CONTRIBUTOR)
    assert (await api.call("PUT", f"exports/{unique}", as_=CONTRIBUTOR, json_body=export_body(unique))).status == 201
    assert (await api.call("POST", f"exports/{unique}/runs", as_=CONTRIBUTOR)).status == 202
    await api.call("DELETE", path, as_=ADMIN)  # 409: the export uses it
    await api.call("GET", "openapi.json")
    found = await services.connections.find(unique)
    assert found is not None and fake_vault.secrets[found.doc.secret_name] == rotated  # the key is where it belongs

    # then no key is found in any blob, queue message, log record or response
    hits = await scan(ledger, app_containers)

    assert {emu.key, wrong, rotated} <= ledger.keys
    assert len(ledger.responses) >= 12
    assert any(name == "shared.secrets.keyvault" for name, _ in ledger.logs.texts)  # DEBUG records were kept
    assert hits == []
