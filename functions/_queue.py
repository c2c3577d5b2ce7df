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

from shared.errors import InvalidInput
from shared.pipeline.messages import Message
from shared.services import Services, get_services
from shared.tracing import continue_trace, tracer

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
        tracer.start_as_current_span(span, attributes={"export": message.export, "run": message.run_id}),
    ):
        await job(await get_services().ready(), message)
