"""Queue messages between the stages.  Small JSON; contacts never travel in messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared.errors import InvalidInput


class Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    export_id: str
    export: str = Field(description="The export's name, for logs only: runs are found by export_id")
    run_id: str
    traceparent: str | None = Field(default=None, description="W3C trace context: one trace per run")

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def parse(cls, body: bytes | str) -> Self:
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            raise InvalidInput(f"not a {cls.__name__}: the queue message cannot be read") from None


class RunRef(BaseModel):
    """The run a message belongs to, read leniently from a message that failed to parse as its kind."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    export_id: str
    run_id: str
    export: str = ""

    @classmethod
    def find(cls, body: bytes | str) -> RunRef | None:
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            return None


class RunMessage(Message):
    """Run queue: plan this run."""


class PlanMessage(Message):
    """Plan queue: one task of bucketed planning.  `split`: read partition `index` into buckets; `bucket`: plan
    bucket `index` (dedupe, diff, shards)."""

    kind: Literal["split", "bucket"]
    index: int


class ShardMessage(Message):
    """Shard queue: send shard `shard` of the run to the account `account_host`."""

    shard: int
    account_host: str
    lane_waits: int = 0
    first_enqueued_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class FinalizeMessage(Message):
    """Finalize queue: every shard has a result.  With `bucket`: commit that bucket's state; without: find the
    buckets left to commit (queue them), and end the run when none is."""

    bucket: int | None = None


__all__ = ["FinalizeMessage", "Message", "PlanMessage", "RunMessage", "RunRef", "ShardMessage"]
