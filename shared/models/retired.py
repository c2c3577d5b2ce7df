"""A deleted export's retired id: its last document, who deleted it and when.

Its runs and reports stay under the id (runs/<exportId>/...), readable by admins through
/api/retired-exports/{exportId}/...; an export created later with the same name gets a new id and
never shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.models.base import ApiModel, Document
from shared.models.connection import PrincipalRecord
from shared.models.export import Export, ExportView


class RetiredExport(Document):
    """config/retired-exports/<exportId>.json"""

    schema_version: Literal[1] = 1
    id: str
    name: str
    deleted_at: datetime
    deleted_by: PrincipalRecord
    export: Export


class RetiredExportView(ApiModel):
    id: str = Field(description="The retired export id; its runs are under /api/retired-exports/{exportId}/runs")
    name: str = Field(description="The name the export had (a newer export may use it now)")
    deleted_at: datetime
    deleted_by: PrincipalRecord
    export: ExportView

    @classmethod
    def of(cls, retired: RetiredExport) -> RetiredExportView:
        return cls(
            id=retired.id,
            name=retired.name,
            deleted_at=retired.deleted_at,
            deleted_by=retired.deleted_by,
            export=ExportView.of(retired.export),
        )


__all__ = ["RetiredExport", "RetiredExportView"]
