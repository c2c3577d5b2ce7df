"""The export a run belongs to, found by the run's export id (a name is only a handle).

A run keeps its export's id and name.  If that export was deleted, or deleted and created again under the
same name (a new id), the run's export is gone: the run cannot continue, and must never pick up the new
export's settings.
"""

from __future__ import annotations

from shared.errors import FatalError, NotFound
from shared.models import Connection, Export
from shared.services import Services


async def export_of(services: Services, export_id: str, name: str) -> Export:
    """The export with this id (looked up by the name it had); FatalError if it no longer exists."""
    found = await services.exports.find(name)
    if found is None or found.doc.id != export_id:
        raise FatalError(f"export {name!r} was deleted while the run was in progress")
    return found.doc


async def connection_of(services: Services, export: Export) -> Connection:
    try:
        return (await services.connections.get(export.connection)).doc
    except NotFound:
        raise FatalError(
            f"connection {export.connection!r} of export {export.name!r} no longer exists; point the export at "
            "an existing connection"
        ) from None


__all__ = ["connection_of", "export_of"]
