"""The routes table: every route of the management API, in one place.

The Blueprints in functions/http_*.py take their path, method and function name from
here, the dispatcher takes the allowed roles, and GET /api/openapi.json is generated
from it (shared/api/openapi.py).  Paths are relative to the Functions route prefix
(`/api`, host.json `extensions.http.routePrefix`) and use the Functions template syntax.
"""

from __future__ import annotations

from typing import Final

from shared.api.route import (
    ADMINS,
    ADMINS_AND_CONTRIBUTORS,
    API_PREFIX,
    DEFAULT_RUN_LIST_LIMIT,
    EVERYONE,
    MAX_RUN_LIST_LIMIT,
    PUBLIC,
    QueryParam,
    Route,
    TextQueryParam,
)
from shared.api.schemas import (
    AcFieldList,
    AcListList,
    ConnectionCheck,
    ConnectionList,
    ConnectionSummaryList,
    ExportDeleted,
    ExportList,
    Me,
    OpenApiDocument,
    RetiredExportList,
    RunList,
    SegmentList,
)
from shared.models import (
    ConnectionCheckRequest,
    ConnectionRequest,
    ConnectionSummary,
    ConnectionView,
    ExportRequest,
    ExportView,
    RunOptions,
    RunView,
)
from shared.models.export import SNAPSHOT_ROOT_SHAPE

# Path templates (the Blueprints' `route=`).
OPENAPI_PATH: Final = "openapi.json"
CONNECTIONS_PATH: Final = "connections"
CONNECTION_PATH: Final = "connections/{name}"
EXPORTS_PATH: Final = "exports"
EXPORT_PATH: Final = "exports/{name}"
RUNS_PATH: Final = "exports/{name}/runs"
RUN_PATH: Final = "exports/{name}/runs/{runId}"
RUN_CANCEL_PATH: Final = "exports/{name}/runs/{runId}/cancel"
RUN_REPORT_PATH: Final = "exports/{name}/runs/{runId}/report"
RETIRED_PATH: Final = "retired-exports"
RETIRED_RUNS_PATH: Final = "retired-exports/{exportId}/runs"
RETIRED_RUN_PATH: Final = "retired-exports/{exportId}/runs/{runId}"
RETIRED_REPORT_PATH: Final = "retired-exports/{exportId}/runs/{runId}/report"
ME_PATH: Final = "me"
VERIFY_CONNECTION_PATH: Final = "verify-connection"
CONNECTION_LISTS_PATH: Final = "connections/{name}/lists"
CONNECTION_FIELDS_PATH: Final = "connections/{name}/fields"
SEGMENTS_PATH: Final = "segments"
# The console's static files (not an API operation: not in ROUTES, not in the OpenAPI document).  Under the
# API prefix, so one routePrefix serves both and no catch-all competes with an API route (see README).
CONSOLE_PATH: Final = "console/{*path}"


READ_ERRORS: Final = (401, 403)
WRITE_ERRORS: Final = (400, 401, 403, 413)
UPSTREAM_ERRORS: Final = (502, 503)  # ActiveCampaign refused or could not be reached (checks before saving)

OPENAPI = Route(
    "openapi",
    "GET",
    OPENAPI_PATH,
    PUBLIC,
    "This document (OpenAPI 3.1), generated from the routes table and the models",
    (200,),
    response=(OpenApiDocument,),
)
CONNECTIONS_LIST = Route(
    "connections_list",
    "GET",
    CONNECTIONS_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "List connections: admins see every connection (never its key); contributors see only the connections "
    "shared with them, by name and display name",
    (200,),
    response=(ConnectionList, ConnectionSummaryList),
    errors=READ_ERRORS,
)
CONNECTION_GET = Route(
    "connection_get",
    "GET",
    CONNECTION_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "Read a connection (admins: every detail but the key; contributors: name and display name of a shared one)",
    (200,),
    response=(ConnectionView, ConnectionSummary),
    errors=(400, *READ_ERRORS, 404),
    etag=True,
)
CONNECTION_PUT = Route(
    "connection_put",
    "PUT",
    CONNECTION_PATH,
    ADMINS,
    "Create or replace a connection.  The API key is verified against ActiveCampaign (GET /api/3/users/me) "
    "before anything is saved, then stored in the secret store; a new key rotates it.  If-None-Match: * "
    "creates only; If-Match: <ETag> replaces only that version",
    (200, 201),
    request=ConnectionRequest,
    response=(ConnectionView,),
    errors=(*WRITE_ERRORS, 412, *UPSTREAM_ERRORS),
    conditional=True,
    etag=True,
    location=True,
)
CONNECTION_DELETE = Route(
    "connection_delete",
    "DELETE",
    CONNECTION_PATH,
    ADMINS,
    "Delete a connection and its stored key; refused (409) while exports use it",
    (204,),
    errors=(400, *READ_ERRORS, 404, 409, 412, 503),
    conditional=True,
)
EXPORTS_LIST = Route(
    "exports_list",
    "GET",
    EXPORTS_PATH,
    EVERYONE,
    "List exports",
    (200,),
    response=(ExportList,),
    errors=READ_ERRORS,
)
EXPORT_GET = Route(
    "export_get",
    "GET",
    EXPORT_PATH,
    EVERYONE,
    "Read an export",
    (200,),
    response=(ExportView,),
    errors=(400, *READ_ERRORS, 404),
    etag=True,
)
EXPORT_PUT = Route(
    "export_put",
    "PUT",
    EXPORT_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "Create or replace an export on a connection the caller may use.  Checks the list id and custom fields "
    "against ActiveCampaign and the mapped attributes against the newest segment snapshot (a warning, not an "
    "error, while no snapshot exists).  Saving does not run it",
    (200, 201),
    request=ExportRequest,
    response=(ExportView,),
    errors=(*WRITE_ERRORS, 412, *UPSTREAM_ERRORS),
    conditional=True,
    etag=True,
    location=True,
)
EXPORT_DELETE = Route(
    "export_delete",
    "DELETE",
    EXPORT_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "Delete an export: it stops scheduling, its run in flight is cancelled and its state is dropped; its id is "
    "retired and its run history is kept under it (GET /retired-exports, admins)",
    (200,),
    response=(ExportDeleted,),
    errors=(400, *READ_ERRORS, 404, 412),
    conditional=True,
)
RUN_START = Route(
    "run_start",
    "POST",
    RUNS_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "Start a run now (the body may be empty).  202 with a Location to the run; 409 while a run is in flight",
    (202,),
    request=RunOptions,
    request_required=False,
    response=(RunView,),
    errors=(*WRITE_ERRORS, 404, 409),
    location=True,
)
RUNS_LIST = Route(
    "runs_list",
    "GET",
    RUNS_PATH,
    EVERYONE,
    "The export's newest runs, newest first (a deleted export's runs are under /retired-exports, for admins)",
    (200,),
    response=(RunList,),
    errors=(400, *READ_ERRORS, 404),
    query=(QueryParam("limit", "How many runs to return", 1, MAX_RUN_LIST_LIMIT, DEFAULT_RUN_LIST_LIMIT),),
)
RUN_GET = Route(
    "run_get",
    "GET",
    RUN_PATH,
    EVERYONE,
    "A run: status, counts, timings and error",
    (200,),
    response=(RunView,),
    errors=(400, *READ_ERRORS, 404),
)
RUN_CANCEL = Route(
    "run_cancel",
    "POST",
    RUN_CANCEL_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "Ask a run to stop (shards stop before their next batch); 409 if it already finished",
    (202,),
    response=(RunView,),
    errors=(400, *READ_ERRORS, 404, 409),
)
RUN_REPORT = Route(
    "run_report",
    "GET",
    RUN_REPORT_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "The run's per-row report (CSV of invalid, duplicate and rejected rows with reasons)",
    (200,),
    media_type="text/csv",
    errors=(400, *READ_ERRORS, 404),
)

RETIRED_LIST = Route(
    "retired_exports_list",
    "GET",
    RETIRED_PATH,
    ADMINS,
    "Deleted exports, by their retired ids (newest deletion first): each keeps its run history under its id; an "
    "export created later with the same name has a new id and never shows it",
    (200,),
    response=(RetiredExportList,),
    errors=READ_ERRORS,
)
RETIRED_RUNS = Route(
    "retired_runs_list",
    "GET",
    RETIRED_RUNS_PATH,
    ADMINS,
    "A deleted export's runs, newest first",
    (200,),
    response=(RunList,),
    errors=(400, *READ_ERRORS, 404),
    query=(QueryParam("limit", "How many runs to return", 1, MAX_RUN_LIST_LIMIT, DEFAULT_RUN_LIST_LIMIT),),
)
RETIRED_RUN = Route(
    "retired_run_get",
    "GET",
    RETIRED_RUN_PATH,
    ADMINS,
    "A run of a deleted export",
    (200,),
    response=(RunView,),
    errors=(400, *READ_ERRORS, 404),
)
RETIRED_REPORT = Route(
    "retired_run_report",
    "GET",
    RETIRED_REPORT_PATH,
    ADMINS,
    "The per-row report of a deleted export's run (CSV)",
    (200,),
    media_type="text/csv",
    errors=(400, *READ_ERRORS, 404),
)
ME = Route(
    "me",
    "GET",
    ME_PATH,
    PUBLIC,
    "The caller: signed in or not (and why), name and app roles, and whether the console may offer its local "
    "sign-in picker (local development only)",
    (200,),
    response=(Me,),
)
VERIFY_CONNECTION = Route(
    "connection_verify",
    "POST",
    VERIFY_CONNECTION_PATH,
    ADMINS,
    "Connect: normalise and check the hostname and verify the API key with ActiveCampaign (GET /api/3/users/me) "
    "as PUT /connections does, and answer with the account user.  Nothing is saved; the key is not kept",
    (200,),
    request=ConnectionCheckRequest,
    response=(ConnectionCheck,),
    errors=(*WRITE_ERRORS, *UPSTREAM_ERRORS),
)
CONNECTION_LISTS = Route(
    "connection_lists",
    "GET",
    CONNECTION_LISTS_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "The ActiveCampaign lists of a connection the caller may use (for the export form's list picker)",
    (200,),
    response=(AcListList,),
    errors=(400, *READ_ERRORS, 404, *UPSTREAM_ERRORS),
)
CONNECTION_FIELDS = Route(
    "connection_fields",
    "GET",
    CONNECTION_FIELDS_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "The ActiveCampaign custom fields of a connection the caller may use (for the export form's field picker)",
    (200,),
    response=(AcFieldList,),
    errors=(400, *READ_ERRORS, 404, *UPSTREAM_ERRORS),
)
SEGMENTS_LIST = Route(
    "segments_list",
    "GET",
    SEGMENTS_PATH,
    ADMINS_AND_CONTRIBUTORS,
    "The segments (entities) that model.json lists under a snapshot root, with their attributes in column order",
    (200,),
    response=(SegmentList,),
    errors=(400, *READ_ERRORS, 422, 503),
    text_query=(
        TextQueryParam(
            "root",
            "The snapshot root holding model.json (an export's snapshotRoot); default SNAPSHOT_ROOT. At most 256 "
            "characters: it travels in the URL, which the Functions front end limits to 8 KB",
            256,
            SNAPSHOT_ROOT_SHAPE,
            "must be folders separated by '/', without '.' or '..' folders, '\\' or control characters",
        ),
    ),
)
CONSOLE = Route(
    "console",
    "GET",
    CONSOLE_PATH,
    PUBLIC,
    "The web console's static files; unknown paths without an extension answer index.html",
    (200,),
    media_type="text/html",
    errors=(404,),
)

ROUTES: Final = (
    OPENAPI,
    ME,
    CONNECTIONS_LIST,
    CONNECTION_GET,
    CONNECTION_PUT,
    CONNECTION_DELETE,
    EXPORTS_LIST,
    EXPORT_GET,
    EXPORT_PUT,
    EXPORT_DELETE,
    RUN_START,
    RUNS_LIST,
    RUN_GET,
    RUN_CANCEL,
    RUN_REPORT,
    RETIRED_LIST,
    RETIRED_RUNS,
    RETIRED_RUN,
    RETIRED_REPORT,
    VERIFY_CONNECTION,
    CONNECTION_LISTS,
    CONNECTION_FIELDS,
    SEGMENTS_LIST,
)

__all__ = [
    "ADMINS",
    "ADMINS_AND_CONTRIBUTORS",
    "API_PREFIX",
    "CONNECTIONS_LIST",
    "CONNECTION_DELETE",
    "CONNECTION_FIELDS",
    "CONNECTION_GET",
    "CONNECTION_LISTS",
    "CONNECTION_PUT",
    "CONSOLE",
    "DEFAULT_RUN_LIST_LIMIT",
    "EVERYONE",
    "EXPORTS_LIST",
    "EXPORT_DELETE",
    "EXPORT_GET",
    "EXPORT_PUT",
    "MAX_RUN_LIST_LIMIT",
    "ME",
    "OPENAPI",
    "PUBLIC",
    "RETIRED_LIST",
    "RETIRED_REPORT",
    "RETIRED_RUN",
    "RETIRED_RUNS",
    "ROUTES",
    "RUNS_LIST",
    "RUN_CANCEL",
    "RUN_GET",
    "RUN_REPORT",
    "RUN_START",
    "SEGMENTS_LIST",
    "VERIFY_CONNECTION",
    "QueryParam",
    "Route",
]
