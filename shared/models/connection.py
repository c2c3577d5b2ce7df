"""An ActiveCampaign connection: who may use it, where the key lives, and the recorded consent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from shared.models.base import ApiModel, Document, ResourceName

CONNECTION_SCHEMA_VERSION = 1


class UsableBy(StrEnum):
    ADMINS = "admins"
    ADMINS_AND_CONTRIBUTORS = "admins-and-contributors"


class ConnectionCheckRequest(ApiModel):
    """The body of POST /verify-connection (the console's Connect): what is checked with ActiveCampaign."""

    hostname: str = Field(min_length=1, max_length=300, description="REST endpoint hostname; a pasted URL is accepted")
    api_key: SecretStr = Field(min_length=1, max_length=200, description="Never returned by the API")


class ConnectionRequest(ConnectionCheckRequest):
    """The body of PUT /connections/{name}."""

    display_name: str = Field(min_length=1, max_length=100)
    usable_by: UsableBy = UsableBy.ADMINS
    consent: bool = Field(
        description="Must be true: data leaves the Azure compliance boundary and the customer is responsible "
        "for ActiveCampaign's obligations"
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
    """The stored document (config/connections/<name>.json).  It holds a secret reference, never the key."""

    schema_version: Literal[1] = 1
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


class ConnectionView(ApiModel):
    """What admins see (never the key or its reference)."""

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
