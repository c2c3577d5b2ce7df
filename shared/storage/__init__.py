"""Blob and queue adapters: storage clients, JSON documents with ETags."""

from shared.storage.clients import blob_service, credential_for, queue_service
from shared.storage.conditional import upload_if
from shared.storage.documents import BrokenDocument, DocumentStore, Versioned

__all__ = [
    "BrokenDocument",
    "DocumentStore",
    "Versioned",
    "blob_service",
    "credential_for",
    "queue_service",
    "upload_if",
]
