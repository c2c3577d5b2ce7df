"""Connections, exports and runs: validated models (pydantic v2), each document with a schema version."""

from shared.models.base import ApiModel, Document, ResourceName, invalid_input, new_id, validate_name
from shared.models.connection import (
    Connection,
    ConnectionRequest,
    ConnectionSummary,
    ConnectionView,
    ConsentRecord,
    PrincipalRecord,
    UsableBy,
)
from shared.models.export import (
    AttributeMapping,
    CustomFieldMapping,
    Export,
    ExportRequest,
    ExportView,
    LeaverAction,
    SyncMode,
)
from shared.models.retired import RetiredExport, RetiredExportView
from shared.models.run import (
    FINAL_STATUSES,
    Run,
    RunCounts,
    RunError,
    RunOptions,
    RunStatus,
    RunTimings,
    RunView,
    ShardProgress,
    new_run_id,
)
from shared.models.target import Target

__all__ = [
    "FINAL_STATUSES",
    "ApiModel",
    "AttributeMapping",
    "Connection",
    "ConnectionRequest",
    "ConnectionSummary",
    "ConnectionView",
    "ConsentRecord",
    "CustomFieldMapping",
    "Document",
    "Export",
    "ExportRequest",
    "ExportView",
    "LeaverAction",
    "PrincipalRecord",
    "ResourceName",
    "RetiredExport",
    "RetiredExportView",
    "Run",
    "RunCounts",
    "RunError",
    "RunOptions",
    "RunStatus",
    "RunTimings",
    "RunView",
    "ShardProgress",
    "SyncMode",
    "Target",
    "UsableBy",
    "invalid_input",
    "new_id",
    "new_run_id",
    "validate_name",
]
