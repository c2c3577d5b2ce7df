"""JSON documents in a blob container, with ETag optimistic concurrency.

A write with a stale ETag is refused (PreconditionFailed, 412), never lost.  A
document that cannot be parsed (bad JSON, an unknown schema version) raises
CorruptDocument for itself only; listing reports it next to the good ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel, ValidationError

from shared.errors import Conflict, CorruptDocument, NotFound, PreconditionFailed

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
JSON = ContentSettings(content_type="application/json")
MAX_LIST_CONCURRENCY = 16


@dataclass(frozen=True)
class Versioned(Generic[M]):
    doc: M
    etag: str


@dataclass(frozen=True)
class BrokenDocument:
    name: str
    reason: str


class DocumentStore(Generic[M]):
    """Documents of one model under `<prefix>/<name>.json` in a container."""

    def __init__(self, container: ContainerClient, prefix: str, model: type[M], kind: str) -> None:
        self._container = container
        self._prefix = prefix.strip("/")
        self._model = model
        self.kind = kind  # "connection", "export", ... for messages

    def blob_name(self, name: str) -> str:
        return f"{self._prefix}/{name}.json" if self._prefix else f"{name}.json"

    def _parse(self, name: str, data: bytes) -> M:
        try:
            return self._model.model_validate_json(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            if any(e["loc"] and e["loc"][0] in ("schemaVersion", "schema_version") for e in exc.errors()):
                problems = f"unknown schema version (written by a newer version of this app?): {problems}"
            raise CorruptDocument(f"{self.kind} {name!r} cannot be read ({self.blob_name(name)}): {problems}") from None

    async def get(self, name: str) -> Versioned[M]:
        try:
            downloader = await self._container.download_blob(self.blob_name(name))
            data = await downloader.readall()
        except ResourceNotFoundError:
            raise NotFound(f"{self.kind} {name!r} does not exist") from None
        return Versioned(self._parse(name, data), str(downloader.properties.etag))

    async def etag_of(self, name: str) -> str | None:
        """The stored version's ETag, readable or not (None if the document does not exist)."""
        try:
            return str((await self._container.get_blob_client(self.blob_name(name)).get_blob_properties()).etag)
        except ResourceNotFoundError:
            return None

    async def find(self, name: str) -> Versioned[M] | None:
        try:
            return await self.get(name)
        except NotFound:
            return None

    async def list(self) -> tuple[list[Versioned[M]], list[BrokenDocument]]:
        """Every document, and the ones that could not be read (each affects only itself)."""
        names = [
            blob.name[len(self._prefix) + 1 : -len(".json")]
            async for blob in self._container.list_blobs(name_starts_with=self._prefix + "/")
            if blob.name.endswith(".json")
        ]
        gate = asyncio.Semaphore(MAX_LIST_CONCURRENCY)

        async def load(name: str) -> Versioned[M] | BrokenDocument | None:
            async with gate:
                try:
                    return await self.get(name)
                except NotFound:
                    return None  # deleted while listing
                except CorruptDocument as exc:
                    return BrokenDocument(name, exc.message)

        results = await asyncio.gather(*(load(n) for n in names))
        docs = [r for r in results if isinstance(r, Versioned)]
        broken = [r for r in results if isinstance(r, BrokenDocument)]
        for item in broken:
            logger.warning("%s document %s cannot be read", self.kind, item.name)
        return docs, broken

    async def create(self, name: str, doc: M) -> str:
        """Write a new document; Conflict if it exists."""
        try:
            result = await self._container.get_blob_client(self.blob_name(name)).upload_blob(
                self._dump(doc), content_settings=JSON, match_condition=MatchConditions.IfMissing
            )
        except ResourceExistsError:
            raise Conflict(f"{self.kind} {name!r} already exists") from None
        return str(result["etag"])

    async def put(self, name: str, doc: M) -> str:
        """Write unconditionally (for documents only one writer ever produces, e.g. keyed by a fresh id)."""
        result = await self._container.get_blob_client(self.blob_name(name)).upload_blob(
            self._dump(doc), overwrite=True, content_settings=JSON
        )
        return str(result["etag"])

    async def replace(self, name: str, doc: M, etag: str) -> str:
        """Overwrite only if nobody changed the document since `etag` was read."""
        try:
            result = await self._container.get_blob_client(self.blob_name(name)).upload_blob(
                self._dump(doc),
                overwrite=True,
                content_settings=JSON,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            raise PreconditionFailed(
                f"{self.kind} {name!r} was changed by someone else; read it again and retry"
            ) from None
        return str(result["etag"])

    async def delete(self, name: str, etag: str | None = None) -> None:
        condition = MatchConditions.IfNotModified if etag else None
        try:
            await self._container.delete_blob(self.blob_name(name), etag=etag, match_condition=condition)
        except ResourceNotFoundError:
            raise NotFound(f"{self.kind} {name!r} does not exist") from None
        except ResourceModifiedError:
            raise PreconditionFailed(f"{self.kind} {name!r} was changed by someone else") from None

    async def update(
        self,
        name: str,
        change: Callable[[M], Awaitable[M] | M],
        *,
        attempts: int = 20,
        skip_unchanged: bool = False,
    ) -> Versioned[M]:
        """Read-modify-write with ETags, retried when another writer got there first.  With skip_unchanged, a
        change that returns the document it was given (the same object) writes nothing: for callers whose
        changes always make a new document (model_copy), never edit the one they were given."""
        for _ in range(attempts):
            current = await self.get(name)
            changed = change(current.doc)
            new = await changed if isinstance(changed, Awaitable) else changed
            if skip_unchanged and new is current.doc:
                return current
            try:
                etag = await self.replace(name, new, current.etag)
            except PreconditionFailed:
                continue
            return Versioned(new, etag)
        raise PreconditionFailed(f"{self.kind} {name!r} kept changing; gave up after {attempts} attempts")

    @staticmethod
    def _dump(doc: M) -> bytes:
        return doc.model_dump_json(by_alias=True).encode("utf-8")


__all__ = ["BrokenDocument", "DocumentStore", "Versioned"]
