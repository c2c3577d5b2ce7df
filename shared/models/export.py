"""An export: one connection, one AC list, one or more segments, how attributes map, and when it runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from croniter import croniter
from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.models.base import ApiModel, Document, ResourceName, legacy_id
from shared.models.connection import PrincipalRecord

EXPORT_SCHEMA_VERSION = 2
EXPORT_ID_PREFIX = "e"
MAX_SEGMENTS = 20
MAX_TAGS = 20
MAX_CUSTOM_FIELDS = 50


class SyncMode(StrEnum):
    UPSERT = "upsert"
    MIRROR = "mirror"


class LeaverAction(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    NONE = "none"


class CustomFieldMapping(ApiModel):
    attribute: str = Field(min_length=1, max_length=200, description="Segment attribute (column) name")
    field: str = Field(
        min_length=1, max_length=200, description="ActiveCampaign custom field: its numeric id or its title"
    )


class AttributeMapping(ApiModel):
    email: str = Field(min_length=1, max_length=200, description="Attribute holding the email (required)")
    first_name: str | None = Field(default=None, min_length=1, max_length=200)
    last_name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=1, max_length=200)
    custom_fields: list[CustomFieldMapping] = Field(default_factory=list, max_length=MAX_CUSTOM_FIELDS)

    def attributes(self) -> list[str]:
        """Every segment attribute the export reads, in a stable order, without repeats."""
        names = [self.email, self.first_name, self.last_name, self.phone, *(c.attribute for c in self.custom_fields)]
        return list(dict.fromkeys(n for n in names if n))

    @model_validator(mode="after")
    def _fields_unique(self) -> AttributeMapping:
        targets = [c.field.lower() for c in self.custom_fields]
        if len(targets) != len(set(targets)):
            raise ValueError("customFields: each ActiveCampaign field may be mapped only once")
        return self


def check_schedule(value: str) -> str:
    """`refresh` (run when a new snapshot lands), `manual`, or a 5-field cron expression in UTC."""
    if value in ("refresh", "manual"):
        return value
    if len(value.split()) == 5 and croniter.is_valid(value):
        return value
    raise ValueError("must be 'refresh', 'manual' or a 5-field cron expression (UTC), e.g. '0 6 * * *'")


class ExportRequest(ApiModel):
    """The body of PUT /exports/{name}."""

    connection: ResourceName
    list_id: int = Field(gt=0, description="The ActiveCampaign list id; checked to exist")
    segments: list[str] = Field(min_length=1, max_length=MAX_SEGMENTS, description="Segment (entity) names")
    mapping: AttributeMapping
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS, description="Added to every contact sent")
    schedule: str = Field(default="refresh", description="'refresh', 'manual' or a cron expression (UTC)")
    sync_mode: SyncMode = SyncMode.UPSERT
    leaver_action: LeaverAction = LeaverAction.UNSUBSCRIBE
    max_removal_percent: float = Field(default=10.0, ge=0, le=100, description="Mass-removal guard (mirror mode)")
    exclude_automations: bool = False
    snapshot_root: str | None = Field(
        default=None,
        max_length=1024,
        description="Overrides SNAPSHOT_ROOT; Contributors may name only folders inside SNAPSHOT_ALLOWED_ROOTS",
    )
    enabled: bool = True

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value.strip())

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v or len(v) > 256 or "/" in v for v in cleaned):
            raise ValueError("each segment must be a non-empty entity name without '/' (at most 256 characters)")
        if len({v.lower() for v in cleaned}) != len(cleaned):
            raise ValueError("segments must not repeat")
        return cleaned

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v or len(v) > 100 for v in cleaned):
            raise ValueError("each tag must be 1-100 characters")
        return list(dict.fromkeys(cleaned))

    @field_validator("snapshot_root")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = value.strip().strip("/")
        if ".." in cleaned.split("/"):
            raise ValueError("must not contain '..'")
        return cleaned or None


class Export(ExportRequest, Document):
    """The stored document (config/exports/<name>.json).

    `id` is given when the export is created and never changes: runs, reports, checkpoints, shard files,
    state and leases live under it.  Deleting the export retires the id; a new export with the same name
    gets a new one and starts from nothing."""

    model_config = ConfigDict(extra="ignore")
    schema_version: Literal[1, 2] = 2
    id: str
    name: ResourceName
    created_at: datetime
    created_by: PrincipalRecord
    updated_at: datetime
    updated_by: PrincipalRecord

    @model_validator(mode="before")
    @classmethod
    def _id_of_old_documents(cls, data: Any) -> Any:
        return legacy_id(EXPORT_ID_PREFIX, data)

    def fingerprint_parts(self) -> tuple[str, ...]:
        """What, besides the row values, decides what AC holds: a change here resends everyone."""
        mapping = self.mapping.model_dump_json()
        return (str(self.list_id), mapping, "|".join(self.tags), str(self.exclude_automations))


class ExportView(ExportRequest):
    id: str = Field(description="Immutable; runs and state belong to it, not to the name")
    name: str
    created_at: datetime
    created_by: PrincipalRecord
    updated_at: datetime
    updated_by: PrincipalRecord
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, export: Export, warnings: list[str] | None = None) -> ExportView:
        data = export.model_dump(exclude={"schema_version"})
        return cls.model_validate({**data, "warnings": warnings or []})


__all__ = [
    "EXPORT_ID_PREFIX",
    "EXPORT_SCHEMA_VERSION",
    "AttributeMapping",
    "CustomFieldMapping",
    "Export",
    "ExportRequest",
    "ExportView",
    "LeaverAction",
    "SyncMode",
    "check_schedule",
]
