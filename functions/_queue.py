"""The one translation boundary for queue triggers.

- RetriableError: re-raised, so the host makes the message visible again after
  host.json's visibilityTimeout and, after maxDequeueCount attempts, moves it to
  the poison queue (retries belong to the queue, not to ad-hoc loops);
- a message that cannot be parsed: logged and dropped (it would never get better);
- anything else the domain did not handle itself: re-raised (retry, then poison).
Run failures (a revoked key, a missing snapshot) are recorded on the run by shared/.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import azure.functions as func
from opentelemetry.trace import SpanKind

from shared.errors import InvalidInput
from shared.pipeline.messages import Message, ShardMessage
from shared.services import Services, get_services
from shared.tracing import continue_trace, run_dimensions, tracer

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)


async def handle(
    msg: func.QueueMessage, kind: type[M], job: Callable[[Services, M], Awaitable[None]], *, span: str
) -> None:
    try:
        message = kind.parse(msg.get_body())
    except InvalidInput as exc:
        logger.error("dropped an unreadable %s message %s: %s", kind.__name__, msg.id, exc.message)
        return
    with (
        continue_trace(message.traceparent),
        tracer.start_as_current_span(span, kind=SpanKind.CONSUMER, attributes=_dimensions(message)),
    ):
        await job(await get_services().ready(), message)


def _dimensions(message: Message) -> dict[str, str | int]:
    if isinstance(message, ShardMessage):
        return run_dimensions(message.export, message.run_id, shard=message.shard, account_host=message.account_host)
    return run_dimensions(message.export, message.run_id)
