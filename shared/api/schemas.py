"""Bodies that exist only on the HTTP API: collections, delete results and the error body."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from shared.models import ApiModel, ConnectionSummary, ConnectionView, ExportView, RetiredExportView, RunView


class UnreadableDocument(ApiModel):
    """A stored document that cannot be parsed; it affects only itself."""

    name: str
    reason: str


class ConnectionList(ApiModel):
    """What admins see: every connection, never its key or the key's reference."""

    items: list[ConnectionView]
    unreadable: list[UnreadableDocument] = Field(default_factory=list)


class ConnectionSummaryList(ApiModel):
    """What contributors see: the connections shared with them, by name and display name only."""

    items: list[ConnectionSummary]


class ExportList(ApiModel):
    items: list[ExportView]
    unreadable: list[UnreadableDocument] = Field(default_factory=list)


class ExportDeleted(ApiModel):
    name: str
    id: str | None = Field(
        description="The retired export id (null for a document that could not be read); admins read its runs "
        "under /api/retired-exports/{exportId}/runs"
    )
    canceled_run_id: str | None = Field(description="The run in flight that the deletion cancelled, if any")


class RetiredExportList(ApiModel):
    items: list[RetiredExportView] = Field(description="Newest deletion first")


class RunList(ApiModel):
    items: list[RunView] = Field(description="Newest first")


class ErrorDetailBody(ApiModel):
    field: str = Field(description="The failing field, as a dotted camelCase path (e.g. mapping.email)")
    message: str


class ErrorInfo(ApiModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_request, forbidden, conflict")
    message: str = Field(description="What went wrong and what to do about it")
    details: list[ErrorDetailBody] = Field(default_factory=list)
    correlation_id: str | None = Field(
        default=None, description="Only on 500: quote it to the operator, who finds the logged exception by it"
    )


class ErrorBody(ApiModel):
    """Every error answer: {"error": {"code", "message", "details"}}.  Never a stack trace or a secret."""

    error: ErrorInfo


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


__all__ = [
    "ConnectionList",
    "ConnectionSummaryList",
    "ErrorBody",
    "ErrorDetailBody",
    "ErrorInfo",
    "ExportDeleted",
    "ExportList",
    "OpenApiDocument",
    "RetiredExportList",
    "RunList",
    "UnreadableDocument",
]
