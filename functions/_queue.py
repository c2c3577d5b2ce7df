"""The one translation boundary for queue triggers.

- RetriableError: re-raised, so the host makes the message visible again after
  host.json's visibilityTimeout and, after maxDequeueCount attempts, moves it to
  the poison queue (retries belong to the queue, not to ad-hoc loops);
- a message that cannot be parsed: logged and re-raised, so it is retried and then poisoned; the poison
  handler (`handle_poison`) fails the run the message names, if it names one;
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
from shared.pipeline.poison import unreadable_poisoned
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
        logger.error("an unreadable %s message %s (retried, then poisoned): %s", kind.__name__, msg.id, exc.message)
        raise
    with (
        continue_trace(message.traceparent),
        tracer.start_as_current_span(span, kind=SpanKind.CONSUMER, attributes=_dimensions(message)),
    ):
        await job(await get_services().ready(), message)


async def handle_poison(
    msg: func.QueueMessage,
    kind: type[M],
    job: Callable[[Services, M], Awaitable[None]],
    *,
    queue: str,
    span: str,
) -> None:
    """A poison-queue message: `job` ends its run; one that cannot be parsed fails the run it names, if any."""
    body = msg.get_body()
    try:
        kind.parse(body)
    except InvalidInput:
        await unreadable_poisoned(await get_services().ready(), body, queue=queue)
        return
    await handle(msg, kind, job, span=span)


def _dimensions(message: Message) -> dict[str, str | int]:
    if isinstance(message, ShardMessage):
        return run_dimensions(message.export, message.run_id, shard=message.shard, account_host=message.account_host)
    return run_dimensions(message.export, message.run_id)
