"""The composition root: everything a trigger needs, built once per process from Settings.

Azure Functions runs async functions on one event loop per worker process, and the
aio clients are bound to the loop that created them, so `get_services()` keeps one
`Services` per running loop (the stand-in host and tests get a fresh one per loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient, ContainerClient
from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueServiceClient

from shared.activecampaign import ActiveCampaignClient, BudgetRegistry
from shared.config import AcLimits, Secret, Settings
from shared.errors import SecretNotFound
from shared.models import Connection, Export, RetiredExport
from shared.names import ALL_CONTAINERS, ALL_QUEUES, CONFIG_CONTAINER, RUNS_CONTAINER, STATE_CONTAINER
from shared.pipeline.lane import LaneRegistry
from shared.pipeline.ledger import LedgerStore
from shared.pipeline.run_store import RunStore
from shared.pipeline.state import StateStore
from shared.secrets import SecretProvider, build_secret_provider
from shared.security.hostname import check_resolves_publicly
from shared.security.resolver import PublicOnlyResolver
from shared.storage import DocumentStore, blob_service, queue_service

HostResolver = Callable[[str], Awaitable[None]]


class Services:
    def __init__(
        self, settings: Settings, *, secrets: SecretProvider | None = None, resolver: HostResolver | None = None
    ) -> None:
        self.settings = settings
        # The public-DNS check for a connection's hostname (tests inject a fake: they have no DNS).
        self.resolve_host: HostResolver = resolver or check_resolves_publicly
        self.blob: BlobServiceClient = blob_service(settings.storage)
        self.snapshot_blob: BlobServiceClient = (
            self.blob if settings.snapshot_storage == settings.storage else blob_service(settings.snapshot_storage)
        )
        self.queues: QueueServiceClient = queue_service(settings.storage)
        self.secrets: SecretProvider = secrets or build_secret_provider(settings)
        self.budgets = BudgetRegistry(settings.ac)
        self.connections: DocumentStore[Connection] = DocumentStore(
            self.config_container, "connections", Connection, "connection"
        )
        self.exports: DocumentStore[Export] = DocumentStore(self.config_container, "exports", Export, "export")
        self.retired: DocumentStore[RetiredExport] = DocumentStore(
            self.config_container, "retired-exports", RetiredExport, "retired export"
        )
        self.runs = RunStore(self.runs_container)
        self.state = StateStore(self.state_container)
        self.ledgers = LedgerStore(self.state_container)
        self.lanes = LaneRegistry(
            self.state_container, lease_s=settings.lane_lease_s, busy_delay_s=settings.lane_busy_delay_s
        )
        self._http: aiohttp.ClientSession | None = None
        self._ready: asyncio.Task[None] | None = None

    @property
    def config_container(self) -> ContainerClient:
        return self.blob.get_container_client(CONFIG_CONTAINER)

    @property
    def runs_container(self) -> ContainerClient:
        return self.blob.get_container_client(RUNS_CONTAINER)

    @property
    def state_container(self) -> ContainerClient:
        return self.blob.get_container_client(STATE_CONTAINER)

    @property
    def snapshot_container(self) -> ContainerClient:
        return self.snapshot_blob.get_container_client(self.settings.snapshot_container)

    def http(self) -> aiohttp.ClientSession:
        """The process's one aiohttp session (connection pooling), created on first use."""
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(limit=64, resolver=PublicOnlyResolver(), ttl_dns_cache=60)
            self._http = aiohttp.ClientSession(connector=connector, raise_for_status=False)
        return self._http

    def account_base_url(self, hostname: str) -> str:
        """https for real accounts; plain http only for an allowed local-development host (the emulator)."""
        scheme = "http" if hostname.lower() in self.settings.allowed_local_ac_hosts else "https"
        return f"{scheme}://{hostname}/api/3"

    def ac_client(
        self, hostname: str, api_key: Secret, limits: AcLimits | None = None, *, guest: bool = False
    ) -> ActiveCampaignClient:
        """A client for the account; every client of one account shares its budget (and this process's session):
        the lane's budget, or with `guest` the guests' share (use it only under `ac_guest`)."""
        budgets = self.budgets
        return ActiveCampaignClient(
            self.http(),
            host=hostname,
            base_url=self.account_base_url(hostname),
            api_key=api_key,
            budget=budgets.guest_for_host(hostname) if guest else budgets.for_host(hostname),
            limits=limits or self.settings.ac,
        )

    async def ac_for(self, connection: Connection) -> ActiveCampaignClient:
        """A client on the lane's budget: for shards and the planner, inside the account's lane."""
        hostname, key = await self._key_of(connection)
        return self.ac_client(hostname, key)

    async def _key_of(self, connection: Connection) -> tuple[str, Secret]:
        """The key the connection document names.  A key PUT deletes the secret the old document named once the
        new one is saved: if that happened since `connection` was read, the document is read again and its (new)
        secret is used."""
        try:
            return connection.hostname, await self.secrets.get(connection.secret_name)
        except SecretNotFound:
            found = await self.connections.find(connection.name)
            if found is None or found.doc.secret_name == connection.secret_name:
                raise
        return found.doc.hostname, await self.secrets.get(found.doc.secret_name)

    @contextlib.asynccontextmanager
    async def ac_guest(
        self, hostname: str, api_key: Secret, limits: AcLimits | None = None
    ) -> AsyncIterator[ActiveCampaignClient]:
        """A client for calls a person waits on, outside the lane: under the account's guest lease, paced at the
        guests' share of the budget (shared/pipeline/lane.py)."""
        async with self.lanes.guest(hostname):
            yield self.ac_client(hostname, api_key, limits, guest=True)

    @contextlib.asynccontextmanager
    async def ac_guest_for(self, connection: Connection) -> AsyncIterator[ActiveCampaignClient]:
        """`ac_guest` with the connection's key: for the API's calls on a saved connection."""
        hostname, key = await self._key_of(connection)
        async with self.ac_guest(hostname, key) as client:
            yield client

    async def ready(self) -> Services:
        """Create our containers and queues if they are missing (Bicep creates them in Azure; Azurite starts empty)."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._create_storage())
        try:
            await asyncio.shield(self._ready)
        except BaseException:
            self._ready = None
            raise
        return self

    async def _create_storage(self) -> None:
        for name in ALL_CONTAINERS:
            with contextlib.suppress(ResourceExistsError):
                await self.blob.create_container(name)
        for queue in ALL_QUEUES:
            with contextlib.suppress(ResourceExistsError):
                await self.queues.create_queue(queue)

    async def enqueue(self, queue: str, text: str, *, delay_s: float | None = None) -> None:
        """Send a message (base64, as the Functions runtime expects), creating the queue if it is missing."""
        client = self.queues.get_queue_client(
            queue, message_encode_policy=TextBase64EncodePolicy(), message_decode_policy=TextBase64DecodePolicy()
        )
        visibility = round(delay_s) if delay_s else None
        try:
            await client.send_message(text, visibility_timeout=visibility)
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError):
                await client.create_queue()
            await client.send_message(text, visibility_timeout=visibility)

    async def close(self) -> None:
        await self.lanes.close()
        if self._http is not None:
            await self._http.close()
        await self.secrets.close()
        await self.queues.close()
        if self.snapshot_blob is not self.blob:
            await self.snapshot_blob.close()
        await self.blob.close()


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Services] = weakref.WeakKeyDictionary()


def get_services() -> Services:
    """This loop's Services, built from the environment on first use."""
    loop = asyncio.get_running_loop()
    services = _by_loop.get(loop)
    if services is None:
        services = _by_loop[loop] = Services(Settings.from_env())
    return services


def use_services(services: Services) -> None:
    """Install `services` for the running loop (tests and the demo build their own)."""
    _by_loop[asyncio.get_running_loop()] = services


async def close_services() -> None:
    services = _by_loop.pop(asyncio.get_running_loop(), None)
    if services is not None:
        await services.close()


__all__ = ["Services", "close_services", "get_services", "use_services"]
