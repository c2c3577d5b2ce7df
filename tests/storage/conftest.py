from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from azure.storage.blob.aio import BlobServiceClient, ContainerClient


@pytest.fixture
async def container(storage_connection: str, unique: str) -> AsyncIterator[ContainerClient]:
    """A fresh container in the session's Azurite."""
    async with BlobServiceClient.from_connection_string(storage_connection) as service:
        client = service.get_container_client(unique)
        await client.create_container()
        yield client
