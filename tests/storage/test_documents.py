"""JSON documents in Azurite with ETags: concurrent updates are refused, never lost."""

from __future__ import annotations

import asyncio

import pytest
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel

from shared.errors import Conflict, CorruptDocument, NotFound, PreconditionFailed
from shared.storage import DocumentStore


class Note(BaseModel):
    schema_version: int = 1
    text: str
    count: int = 0


async def test_create_get_replace_with_etags(container: ContainerClient) -> None:
    store = DocumentStore(container, "notes", Note, "note")
    etag = await store.create("a", Note(text="one"))
    got = await store.get("a")
    assert (got.doc.text, got.etag) == ("one", etag)
    with pytest.raises(Conflict, match="already exists"):
        await store.create("a", Note(text="again"))
    new_etag = await store.replace("a", Note(text="two"), etag)
    with pytest.raises(PreconditionFailed, match="changed by someone else"):
        await store.replace("a", Note(text="stale"), etag)  # the first writer's ETag is stale now
    assert (await store.get("a")).doc.text == "two"
    with pytest.raises(PreconditionFailed):
        await store.delete("a", etag)
    await store.delete("a", new_etag)
    with pytest.raises(NotFound, match="note 'a' does not exist"):
        await store.get("a")


async def test_concurrent_updates_are_never_lost(container: ContainerClient) -> None:
    store = DocumentStore(container, "notes", Note, "note")
    await store.create("counter", Note(text="c"))

    def bump(note: Note) -> Note:
        return note.model_copy(update={"count": note.count + 1})

    await asyncio.gather(*(store.update("counter", bump, attempts=100) for _ in range(20)))
    assert (await store.get("counter")).doc.count == 20


async def test_a_corrupt_document_affects_only_itself(container: ContainerClient) -> None:
    store = DocumentStore(container, "notes", Note, "note")
    await store.create("good", Note(text="fine"))
    await container.upload_blob("notes/bad.json", b"{not json")
    await container.upload_blob("notes/future.json", b'{"schema_version": "x9", "text": "t"}')
    docs, broken = await store.list()
    assert [d.doc.text for d in docs] == ["fine"]
    assert sorted(b.name for b in broken) == ["bad", "future"]
    with pytest.raises(CorruptDocument, match="note 'bad' cannot be read"):
        await store.get("bad")


async def test_an_update_that_changes_nothing_writes_nothing_when_asked(container: ContainerClient) -> None:
    store = DocumentStore(container, "notes", Note, "note")
    etag = await store.create("same", Note(text="s"))
    kept = await store.update("same", lambda note: note, skip_unchanged=True)
    assert kept.etag == etag == (await store.get("same")).etag  # not written
    written = await store.update("same", lambda note: note)  # the default writes, as before
    assert written.etag != etag
