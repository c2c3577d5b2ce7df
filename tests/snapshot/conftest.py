"""Fixtures for the snapshot reader and the sample generator: a fresh container on the session's Azurite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from azure.storage.blob.aio import ContainerClient


@pytest.fixture
async def container(storage_connection: str, unique: str) -> AsyncIterator[ContainerClient]:
    client = ContainerClient.from_connection_string(storage_connection, unique)
    await client.create_container()
    try:
        yield client
    finally:
        await client.close()
