"""Build the Azure Storage aio clients from settings: a connection string locally, a managed identity in Azure."""

from __future__ import annotations

from typing import Any, Final

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueServiceClient

from shared.config import StorageSettings
from shared.errors import ConfigurationError

# The storage SDKs' retry, set through their documented keywords: 1, 3, 5, 9, 17, 33 s (+ jitter).  Their
# default waits 15 s before the first retry, which stalls every storage call in flight for a one-second
# blip; six retries still ride out about a minute of trouble.
RETRY: Final[dict[str, Any]] = {"retry_total": 6, "initial_backoff": 1, "increment_base": 2, "random_jitter_range": 1}
# No proxy or .netrc from the environment: the app talks to its own storage account directly, and aiohttp's
# trust_env re-reads ~/.netrc on every request (a few percent of a shard worker's CPU).
TRANSPORT: Final[dict[str, Any]] = {"use_env_settings": False}


def credential_for(settings: StorageSettings) -> AsyncTokenCredential:
    return DefaultAzureCredential(managed_identity_client_id=settings.client_id)


def blob_service(settings: StorageSettings, credential: AsyncTokenCredential | None = None) -> BlobServiceClient:
    if settings.connection_string is not None:
        return BlobServiceClient.from_connection_string(settings.connection_string.reveal(), **RETRY, **TRANSPORT)
    if not settings.blob_service_uri:
        raise ConfigurationError("the storage settings have no blob service URI (set <name>__blobServiceUri)")
    return BlobServiceClient(
        settings.blob_service_uri, credential=credential or credential_for(settings), **RETRY, **TRANSPORT
    )


def queue_service(settings: StorageSettings, credential: AsyncTokenCredential | None = None) -> QueueServiceClient:
    """Queue messages are base64, as the Functions runtime expects (host.json messageEncoding).

    The service client's policies are NOT passed on by get_queue_client(): pass them again there.
    """
    encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
    if settings.connection_string is not None:
        return QueueServiceClient.from_connection_string(
            settings.connection_string.reveal(),
            message_encode_policy=encode,
            message_decode_policy=decode,
            **RETRY,
            **TRANSPORT,
        )
    if not settings.queue_service_uri:
        raise ConfigurationError("the storage settings have no queue service URI (set <name>__queueServiceUri)")
    return QueueServiceClient(
        settings.queue_service_uri,
        credential=credential or credential_for(settings),
        message_encode_policy=encode,
        message_decode_policy=decode,
        **RETRY,
        **TRANSPORT,
    )


__all__ = ["blob_service", "credential_for", "queue_service"]
