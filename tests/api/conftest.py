"""Fixtures for the HTTP API suite: real Azurite, the AC emulator on 127.0.0.1, Services per test loop.

- `dev`: developer-machine Services (principal header trusted, the emulator's 127.0.0.1:<port> allowed),
  with the LocalSecretProvider.  Most tests use it.
- `prod`: a factory for production-like Services (Easy Auth on or off, no local hosts, a fake
  public-DNS check, since tests have no DNS); every AC hostname is routed to the emulator.
- Every log record (DEBUG and up) of the package goes to the leak ledger (tests/api/leaks.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient as SyncBlobServiceClient
from azure.storage.blob.aio import ContainerClient

from local.activecampaign_emulator import EmulatorConfig, EmulatorServer
from local.azurite import Azurite
from shared.config import AcLimits, Secret, Settings, StorageSettings
from shared.errors import InvalidInput
from shared.names import ALL_CONTAINERS
from shared.secrets import LocalSecretProvider, SecretProvider
from shared.security import is_public_address
from shared.services import HostResolver, Services, close_services, use_services
from tests.api.client import ApiClient
from tests.api.leaks import LEDGER, Ledger
from tests.fakes.keyvault import fake_credential, fake_vault, fake_vault_tls

__all__ = ["fake_credential", "fake_vault", "fake_vault_tls"]

FAST_LIMITS = AcLimits(requests_per_second=1000.0, max_attempts=2, timeout_s=5.0, max_retry_after_s=1.0)
# What the fake public DNS answers; anything else does not resolve.
FAKE_DNS: dict[str, list[str]] = {
    "acct.api-us1.com": ["52.20.1.7"],
    "other.api-us1.com": ["52.20.1.8"],
    "rebind.example-attacker.com": ["10.0.0.5"],
}


@pytest.fixture(scope="package", autouse=True)
def record_every_log() -> Iterator[Ledger]:
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(LEDGER.logs)
    root.setLevel(logging.DEBUG)
    try:
        yield LEDGER
    finally:
        root.removeHandler(LEDGER.logs)
        root.setLevel(old_level)


@pytest.fixture(scope="session")
def app_containers(azurite_server: Azurite) -> str:
    """config, runs and state exist in Azurite (infra creates them in Azure)."""
    with SyncBlobServiceClient.from_connection_string(azurite_server.connection_string) as service:
        for name in ALL_CONTAINERS:
            with contextlib.suppress(ResourceExistsError):
                service.create_container(name)
    return azurite_server.connection_string


@pytest.fixture
def ledger() -> Ledger:
    return LEDGER


@pytest.fixture
def api() -> ApiClient:
    return ApiClient(LEDGER)


@dataclass
class Emu:
    server: EmulatorServer
    key: str

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"


@pytest.fixture
async def emu() -> AsyncIterator[Emu]:
    key = LEDGER.new_key("emu")
    server = EmulatorServer(EmulatorConfig(api_keys=[key], limits_enabled=False), port=0)
    async with server:
        yield Emu(server, key)


async def fake_public_dns(host: str) -> None:
    """check_resolves_publicly without a network: FAKE_DNS is the world's DNS."""
    addresses = FAKE_DNS.get(host)
    if not addresses:
        raise InvalidInput.for_field("hostname", f"{host} does not resolve; check the REST endpoint hostname")
    if not all(is_public_address(a) for a in addresses):
        raise InvalidInput.for_field("hostname", f"{host} resolves to a private or internal address")


class EmulatorRoutedServices(Services):
    """Production Services, except that every ActiveCampaign hostname is reached at the emulator."""

    def __init__(self, settings: Settings, emulator_url: str, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self.emulator_url = emulator_url

    def account_base_url(self, hostname: str) -> str:
        return f"{self.emulator_url}/api/3"


def api_settings(
    connection_string: str,
    *,
    local_hosts: frozenset[str] = frozenset(),
    trust_principal_header: bool = True,
    auth_enabled: bool = False,
    snapshot_container: str = "customerinsights",
    snapshot_root: str = "",
) -> Settings:
    storage = StorageSettings(connection_string=Secret(connection_string))
    return Settings(
        storage=storage,
        snapshot_storage=storage,
        snapshot_container=snapshot_container,
        snapshot_root=snapshot_root,
        trust_principal_header=trust_principal_header,
        auth_enabled=auth_enabled,
        allowed_local_ac_hosts=local_hosts,
        ac=FAST_LIMITS,
    )


@dataclass
class Snapshots:
    container: ContainerClient

    @property
    def name(self) -> str:
        return self.container.container_name

    async def write_segment(
        self, entity: str, header: list[str], rows: list[list[str]] | None = None, *, root: str = ""
    ) -> None:
        """A CI-style folder snapshot: [<root>/]<entity>/2026/11/20/1200/<entity>_1.csv with a header row."""
        lines = [",".join(header), *(",".join(r) for r in rows or [])]
        blob = f"{root + '/' if root else ''}{entity}/2026/11/20/1200/{entity}_1.csv"
        await self.container.upload_blob(blob, ("\n".join(lines) + "\n").encode(), overwrite=True)


@pytest.fixture
async def snapshots(app_containers: str, unique: str) -> AsyncIterator[Snapshots]:
    container = ContainerClient.from_connection_string(app_containers, unique + "-ci")
    async with container:
        await container.create_container()
        yield Snapshots(container)


@pytest.fixture
async def dev(app_containers: str, emu: Emu, snapshots: Snapshots) -> AsyncIterator[Services]:
    """Local-development Services for this test's loop: the emulator's host is allowed."""
    settings = api_settings(app_containers, local_hosts=frozenset({emu.host}), snapshot_container=snapshots.name)
    services = Services(settings, secrets=LocalSecretProvider())
    use_services(services)
    try:
        yield services
    finally:
        await close_services()


ProdFactory = Callable[..., Awaitable[Services]]


@pytest.fixture
async def prod(app_containers: str, emu: Emu, snapshots: Snapshots) -> AsyncIterator[ProdFactory]:
    """Install production-like Services: `await prod(auth_enabled=True, secrets=..., resolver=...)`."""

    async def install(
        *, auth_enabled: bool = True, secrets: SecretProvider | None = None, resolver: HostResolver = fake_public_dns
    ) -> Services:
        settings = api_settings(
            app_containers, trust_principal_header=False, auth_enabled=auth_enabled, snapshot_container=snapshots.name
        )
        services = EmulatorRoutedServices(
            settings, emu.server.url, secrets=secrets or LocalSecretProvider(), resolver=resolver
        )
        use_services(services)
        return services

    try:
        yield install
    finally:
        await close_services()


def connection_body(host: str, key: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "CRM account",
        "hostname": host,
        "apiKey": key,
        "usableBy": "admins",
        "consent": True,
    }
    body.update(overrides)
    return body


def export_body(connection: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "connection": connection,
        "listId": 1,
        "segments": ["Members"],
        "mapping": {"email": "Email"},
        "schedule": "manual",
    }
    body.update(overrides)
    return body


async def export_id_of(services: Services, name: str) -> str:
    """The immutable id of the export that has `name` now (runs and state live under it)."""
    return (await services.exports.get(name)).doc.id
