"""An export: one connection, one AC list, one or more segments, how attributes map, and when it runs."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from croniter import croniter
from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.models.base import TRIMMED, ApiModel, Document, ResourceName, legacy_id, text
from shared.models.connection import PrincipalRecord

EXPORT_SCHEMA_VERSION = 2
EXPORT_ID_PREFIX = "e"
MAX_SEGMENTS = 20
MAX_TAGS = 20
MAX_CUSTOM_FIELDS = 50
MAX_ID = 2_147_483_647  # ActiveCampaign ids are 32-bit


class SyncMode(StrEnum):
    UPSERT = "upsert"
    MIRROR = "mirror"


class LeaverAction(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    NONE = "none"


class CustomFieldMapping(ApiModel):
    attribute: str = text(200, description="Segment attribute (column) name")
    field: str = text(200, description="ActiveCampaign custom field: its numeric id or its title")


class AttributeMapping(ApiModel):
    email: str = text(200, description="Attribute holding the email (required)")
    first_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=TRIMMED)
    last_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=TRIMMED)
    phone: str | None = Field(default=None, min_length=1, max_length=200, pattern=TRIMMED)
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


SCHEDULE_SHAPE: Final = r"^(?:refresh|manual|\S+ \S+ \S+ \S+ \S+)$"
# Segment and folder names become blob paths: no '/', '\\' or control characters, no surrounding spaces.
SEGMENT_NAME: Final = r"^[^/\\\s\u0000-\u001f\u007f](?:[^/\\\u0000-\u001f\u007f]*[^/\\\s\u0000-\u001f\u007f])?$"
_C: Final = r"\\\u0000-\u001f\u007f"  # never in a folder name
_ROOT_PART: Final = rf"(?:[^/.{_C}][^/{_C}]*|\.[^/.{_C}][^/{_C}]*|\.\.[^/{_C}]+)?"
SNAPSHOT_ROOT_SHAPE: Final = rf"^{_ROOT_PART}(?:/{_ROOT_PART})*$"  # folders separated by '/', none '.' or '..'
Segment = Annotated[str, Field(json_schema_extra={"minLength": 1, "maxLength": 256, "pattern": SEGMENT_NAME})]
Tag = Annotated[str, Field(json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": TRIMMED})]
Folder = Annotated[str, Field(max_length=1024, json_schema_extra={"pattern": SNAPSHOT_ROOT_SHAPE})]


def check_schedule(value: str) -> str:
    """`refresh` (run when a new snapshot lands), `manual`, or a 5-field cron expression in UTC."""
    if value in ("refresh", "manual"):
        return value
    if re.fullmatch(SCHEDULE_SHAPE, value) and croniter.is_valid(value):
        return value
    raise ValueError("must be 'refresh', 'manual' or a 5-field cron expression (UTC), e.g. '0 6 * * *'")


class ExportRequest(ApiModel):
    """The body of PUT /exports/{name}."""

    connection: ResourceName
    list_id: int = Field(gt=0, le=MAX_ID, description="The ActiveCampaign list id; checked to exist")
    segments: list[Segment] = Field(
        min_length=1,
        max_length=MAX_SEGMENTS,
        description="Segment (entity) names, each once (names that differ only in case are the same segment)",
    )
    mapping: AttributeMapping
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS, description="Added to every contact sent (repeats are dropped)"
    )
    schedule: str = Field(
        default="refresh",
        description="'refresh', 'manual' or a 5-field cron expression (UTC), checked to be valid",
        json_schema_extra={"pattern": SCHEDULE_SHAPE},
    )
    sync_mode: SyncMode = SyncMode.UPSERT
    leaver_action: LeaverAction = LeaverAction.UNSUBSCRIBE
    max_removal_percent: float = Field(default=10.0, ge=0, le=100, description="Mass-removal guard (mirror mode)")
    exclude_automations: bool = False
    snapshot_root: Folder | None = Field(
        default=None,
        description="Overrides SNAPSHOT_ROOT; Contributors may name only folders inside SNAPSHOT_ALLOWED_ROOTS",
    )
    enabled: bool = True

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        if any(len(v) > 256 or not re.fullmatch(SEGMENT_NAME, v) for v in value):
            raise ValueError(
                "each segment must be an entity name without '/', '\\', control characters or surrounding spaces "
                "(at most 256 characters)"
            )
        if len({v.lower() for v in value}) != len(value):
            raise ValueError("segments must not repeat")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any(len(v) > 100 or not re.fullmatch(TRIMMED, v) for v in value):
            raise ValueError("each tag must be 1-100 characters without surrounding spaces")
        return list(dict.fromkeys(value))

    @field_validator("snapshot_root")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(SNAPSHOT_ROOT_SHAPE, value):
            raise ValueError(
                "must be folders separated by '/', without '.' or '..' folders, '\\' or control characters"
            )
        return value.strip("/") or None


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

    legacy_name: str | None = Field(
        default=None, description="For an export from before ids: the name its state was kept under"
    )

    @model_validator(mode="before")
    @classmethod
    def _id_of_old_documents(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id") and data.get("name"):
            data = {**data, "legacyName": data["name"]}  # its state lies under its name (shared/pipeline/state.py)
        return legacy_id(EXPORT_ID_PREFIX, data)

    @property
    def mirrors(self) -> bool:
        """Leavers are unsubscribed (mirror mode with leaverAction unsubscribe)."""
        return self.sync_mode is SyncMode.MIRROR and self.leaver_action is LeaverAction.UNSUBSCRIBE

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
        data = export.model_dump(exclude={"schema_version", "legacy_name"})
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
