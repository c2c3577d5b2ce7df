"""An ActiveCampaign connection: who may use it, where the key lives, and the recorded consent."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.models.base import HEADER_SAFE, ApiModel, Document, ResourceName, legacy_id, text

CONNECTION_SCHEMA_VERSION = 2
CONNECTION_ID_PREFIX = "c"


class UsableBy(StrEnum):
    ADMINS = "admins"
    ADMINS_AND_CONTRIBUTORS = "admins-and-contributors"


class ConnectionCheckRequest(ApiModel):
    """The body of POST /verify-connection (the console's Connect): what is checked with ActiveCampaign."""

    hostname: str = Field(min_length=1, max_length=300, description="REST endpoint hostname; a pasted URL is accepted")
    api_key: SecretStr = Field(
        min_length=1,
        max_length=200,
        description="Never returned by the API; visible ASCII characters only (it travels in an HTTP header)",
        json_schema_extra={"pattern": HEADER_SAFE},
    )

    @field_validator("api_key")
    @classmethod
    def _header_safe(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(HEADER_SAFE, value.get_secret_value()):
            raise ValueError("may only contain visible ASCII characters (no spaces or line breaks)")
        return value


class ConnectionRequest(ConnectionCheckRequest):
    """The body of PUT /connections/{name}."""

    display_name: str = text(100)
    usable_by: UsableBy = UsableBy.ADMINS
    consent: bool = Field(
        description="Must be true: data leaves the Azure compliance boundary and the customer is responsible "
        "for ActiveCampaign's obligations",
        json_schema_extra={"const": True},
    )

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("must be true: accept the data-privacy statement to create a connection")
        return value


class PrincipalRecord(ApiModel):
    id: str
    name: str


class ConsentRecord(ApiModel):
    accepted: Literal[True] = True
    by: PrincipalRecord
    at: datetime


class Connection(Document):
    """The stored document (config/connections/<name>.json).  It holds a secret reference, never the key.

    `id` is given when the connection is created and never changes; the name is only a handle."""

    schema_version: Literal[1, 2] = 2
    id: str
    name: ResourceName
    display_name: str
    hostname: str
    usable_by: UsableBy
    secret_name: str
    consent: ConsentRecord
    export_user: PrincipalRecord
    created_at: datetime
    updated_at: datetime
    verified_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _id_of_old_documents(cls, data: Any) -> Any:
        return legacy_id(CONNECTION_ID_PREFIX, data)


class ConnectionView(ApiModel):
    """What admins see (never the key or its reference)."""

    id: str
    name: str
    display_name: str
    hostname: str
    usable_by: UsableBy
    consent: ConsentRecord
    export_user: PrincipalRecord
    created_at: datetime
    updated_at: datetime
    verified_at: datetime

    @classmethod
    def of(cls, connection: Connection) -> ConnectionView:
        return cls.model_validate(connection.model_dump(exclude={"schema_version", "secret_name"}))


class ConnectionSummary(ApiModel):
    """What contributors see of a connection they may use: no details."""

    name: str
    display_name: str


__all__ = [
    "CONNECTION_ID_PREFIX",
    "CONNECTION_SCHEMA_VERSION",
    "Connection",
    "ConnectionCheckRequest",
    "ConnectionRequest",
    "ConnectionSummary",
    "ConnectionView",
    "ConsentRecord",
    "PrincipalRecord",
    "UsableBy",
]
