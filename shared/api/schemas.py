"""Bodies that exist only on the HTTP API: collections, delete results and the error body."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from shared.models import ApiModel, ConnectionSummary, ConnectionView, ExportView, RetiredExportView, RunView
from shared.security import Role


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


class Me(ApiModel):
    """The caller, as the console needs to know them (GET /me needs no role)."""

    signed_in: bool
    name: str | None = None
    roles: list[Role] = Field(default_factory=list)
    local_sign_in: bool = Field(
        description="The console may offer its local sign-in picker: the app trusts X-MS-CLIENT-PRINCIPAL without "
        "App Service Authentication (local development only)"
    )
    reason: str | None = Field(default=None, description="Why the caller is not signed in")


class AccountUser(ApiModel):
    id: str
    username: str


class ConnectionCheck(ApiModel):
    """What Connect found: the normalised hostname and the ActiveCampaign user the key belongs to."""

    hostname: str
    user: AccountUser


class AcListItem(ApiModel):
    id: str
    name: str


class AcListList(ApiModel):
    items: list[AcListItem]


class AcFieldItem(ApiModel):
    id: str
    title: str
    type: str


class AcFieldList(ApiModel):
    items: list[AcFieldItem]


class Segment(ApiModel):
    name: str = Field(description="The entity (segment) name")
    attributes: list[str] = Field(description="Its attributes (columns), in column order")


class SegmentList(ApiModel):
    root: str = Field(description="The snapshot root whose model.json was read")
    items: list[Segment]
    note: str | None = Field(default=None, description="Why the list is empty, when it is")


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


__all__ = [
    "AcFieldItem",
    "AcFieldList",
    "AcListItem",
    "AcListList",
    "AccountUser",
    "ConnectionCheck",
    "ConnectionList",
    "ConnectionSummaryList",
    "ErrorBody",
    "ErrorDetailBody",
    "ErrorInfo",
    "ExportDeleted",
    "ExportList",
    "Me",
    "OpenApiDocument",
    "RetiredExportList",
    "RunList",
    "Segment",
    "SegmentList",
    "UnreadableDocument",
]
