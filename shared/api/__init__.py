"""The management HTTP API's service layer: routes table, access rules, operations, OpenAPI.

No Azure Functions types here: functions/http_*.py build an `ApiRequest`, await
`handle(services, route, request, operation)` and turn the `ApiResult` (or the
ExportError raised) into a response in functions/_http.py.
"""

from shared.api.access import authenticate, authorize, local_sign_in_allowed, may_use
from shared.api.connections import delete_connection, get_connection, list_connections, put_connection
from shared.api.console import console_file
from shared.api.dispatch import Operation, handle
from shared.api.exports import delete_export, get_export, list_exports, put_export
from shared.api.me import get_me
from shared.api.openapi import get_openapi, openapi_document
from shared.api.request import MAX_BODY_BYTES, ApiRequest, Call
from shared.api.result import ApiResult
from shared.api.routes import API_PREFIX, ROUTES, Route
from shared.api.runs import (
    cancel_export_run,
    download_report,
    download_retired_report,
    get_export_run,
    get_retired_run,
    list_export_runs,
    list_retired_exports,
    list_retired_runs,
    start_export_run,
)
from shared.api.schemas import ErrorBody, ErrorInfo
from shared.api.sources import list_account_fields, list_account_lists, list_segments, verify_connection

__all__ = [
    "API_PREFIX",
    "MAX_BODY_BYTES",
    "ROUTES",
    "ApiRequest",
    "ApiResult",
    "Call",
    "ErrorBody",
    "ErrorInfo",
    "Operation",
    "Route",
    "authenticate",
    "authorize",
    "cancel_export_run",
    "console_file",
    "delete_connection",
    "delete_export",
    "download_report",
    "download_retired_report",
    "get_connection",
    "get_export",
    "get_export_run",
    "get_me",
    "get_openapi",
    "get_retired_run",
    "handle",
    "list_account_fields",
    "list_account_lists",
    "list_connections",
    "list_export_runs",
    "list_exports",
    "list_retired_exports",
    "list_retired_runs",
    "list_segments",
    "local_sign_in_allowed",
    "may_use",
    "openapi_document",
    "put_connection",
    "put_export",
    "start_export_run",
    "verify_connection",
]
