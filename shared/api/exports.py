"""Exports: create/replace (checked against AC and the snapshots, never run), read, list, delete."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from shared.api.access import require_connection_use, require_export_access, require_snapshot_root, usable_connection
from shared.api.conditions import Conditions, check_broken, delete, save
from shared.api.conditions import current as current_version
from shared.api.export_checks import check_export
from shared.api.request import Call
from shared.api.result import ApiResult, etag_header
from shared.api.routes import EXPORT_GET
from shared.api.schemas import ExportDeleted, ExportList, UnreadableDocument
from shared.errors import ExportError, NotFound
from shared.models import Export, ExportRequest, ExportView, RetiredExport, new_id
from shared.models.export import EXPORT_ID_PREFIX
from shared.pipeline.runs import cancel_active_run
from shared.services import Services

logger = logging.getLogger(__name__)


async def put_export(services: Services, call: Call) -> ApiResult:
    name = call.name()
    body = call.body(ExportRequest)
    conditions = Conditions.from_headers(call.request.headers)
    current, broken = await current_version(services.exports, name, may_override=call.principal.is_admin)
    if broken is not None:
        check_broken(conditions, "export", name, broken)
    else:
        conditions.check("export", name, current)
    if current is not None:  # a contributor may not take over an export on a connection they cannot use
        await require_connection_use(services, call.principal, current.doc.connection, name)
    kept_root = current.doc.snapshot_root if current is not None else None
    require_snapshot_root(services.settings, call.principal, body.snapshot_root, kept_root)
    connection = await usable_connection(services, call.principal, body.connection)
    warnings = await check_export(services, connection, body)
    now = datetime.now(UTC)
    export = Export.model_validate(
        {
            **body.model_dump(),
            "id": current.doc.id if current else new_id(EXPORT_ID_PREFIX),  # a repaired broken document: a new id
            "name": name,
            "created_at": current.doc.created_at if current else now,
            "created_by": current.doc.created_by if current else call.who,
            "updated_at": now,
            "updated_by": call.who,
            "legacy_name": current.doc.legacy_name if current else None,
        }
    )
    if broken is not None:  # an admin replaces a document that could not be read
        etag, created = await services.exports.replace(name, export, broken), False
    else:
        etag, created = await save(services.exports, name, export, current)
    logger.info("export %s %s (%d warnings)", name, "created" if created else "replaced", len(warnings))
    headers = {"ETag": etag_header(etag), "Location": EXPORT_GET.url(name=name)}
    return ApiResult(201 if created else 200, ExportView.of(export, warnings), headers)


async def get_export(services: Services, call: Call) -> ApiResult:
    found = await services.exports.get(call.name())
    return ApiResult(200, ExportView.of(found.doc), {"ETag": etag_header(found.etag)})


async def list_exports(services: Services, call: Call) -> ApiResult:
    docs, broken = await services.exports.list()
    items = [ExportView.of(d.doc) for d in sorted(docs, key=lambda d: d.doc.name)]
    unreadable = [UnreadableDocument(name=b.name, reason=b.reason) for b in broken]
    return ApiResult(200, ExportList(items=items, unreadable=unreadable))


async def delete_export(services: Services, call: Call) -> ApiResult:
    """Retire the export's id, then delete the document (no new runs start), cancel the run in flight and drop
    its incremental state.  Its runs stay under the retired id, for admins (/api/retired-exports)."""
    name = call.name()
    if not call.principal.is_admin:
        await require_export_access(services, call.principal, name)
    conditions = Conditions.from_headers(call.request.headers)
    found, broken = await current_version(services.exports, name, may_override=call.principal.is_admin)
    if found is None and broken is None:
        raise NotFound(f"export {name!r} does not exist")
    retired = None
    if found is not None:
        conditions.check("export", name, found)
        doc = found.doc
        record = RetiredExport(id=doc.id, name=name, deleted_at=datetime.now(UTC), deleted_by=call.who, export=doc)
        await services.retired.put(doc.id, record)
        retired = doc.id
    try:
        await delete(services.exports, name, conditions, may_override=call.principal.is_admin)
    except ExportError:
        if retired is not None:  # the export lives on: it is not retired
            await services.retired.delete(retired)
        raise
    canceled = await cancel_active_run(services, retired) if retired else None
    if retired is not None:
        await services.state.delete(retired)
    logger.info("export %s deleted (id %s retired; cancelled run: %s)", name, retired, canceled or "none")
    return ApiResult(200, ExportDeleted(name=name, id=retired, canceled_run_id=canceled))


__all__ = ["delete_export", "get_export", "list_exports", "put_export"]
