"""What happens when a message exhausts maxDequeueCount and lands in a poison queue: the run fails, saying where."""

from __future__ import annotations

import logging

from shared.errors import CorruptDocument, FatalError, NotFound
from shared.events import DIM_EVENT, DIM_EXPORT, DIM_QUEUE, DIM_RUN, DIM_SHARD, EVENT_MESSAGE_POISONED
from shared.models import RunError, RunStatus
from shared.pipeline.checkpoint import Checkpoint
from shared.pipeline.finish import end_run
from shared.pipeline.messages import FinalizeMessage, PlanMessage, RunMessage, RunRef, ShardMessage
from shared.pipeline.outcomes import shard_outcomes
from shared.pipeline.shards import Op
from shared.pipeline.worker import checkpoint_store, complete_shard, fail_run, record_outcome
from shared.services import Services

logger = logging.getLogger(__name__)


def _announce(queue: str, export: str, run_id: str, shard: int | None = None) -> None:
    extra: dict[str, object] = {
        DIM_EVENT: EVENT_MESSAGE_POISONED,
        DIM_QUEUE: queue,
        DIM_EXPORT: export,
        DIM_RUN: run_id,
    }
    if shard is not None:
        extra[DIM_SHARD] = shard
    logger.error("a message was moved to the poison queue", extra=extra)


async def shard_poisoned(services: Services, msg: ShardMessage, *, queue: str) -> None:
    """Fail the run naming the shard; rows not confirmed by AC count as not sent (retried next run).

    A copy of a shard that another delivery finished is not a failure: redeliveries pile up on one message when
    storage is away longer than a message's lease (each delivery that finds the shard busy or done still counts),
    so its copy may reach the poison queue after the shard's checkpoint was marked done.  Then the shard's
    completion is recorded (once) and the run goes on."""
    _announce(queue, msg.export, msg.run_id, msg.shard)
    run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    store = checkpoint_store(services, msg, run)
    try:
        checkpoint = await store.load(msg.shard)
    except CorruptDocument:  # what poisoned the shard: what AC confirmed is unknown, so nothing counts as sent
        checkpoint = Checkpoint(shard=msg.shard)
    if checkpoint.done and not checkpoint.failed:
        await complete_shard(services, msg, checkpoint)
        return
    reason = f"shard {msg.shard} failed on every delivery attempt and was moved to {queue}"
    await fail_run(services, msg, FatalError(reason))
    if not checkpoint.done:
        shards = run.shards
        rows, op = shards.sizes[msg.shard], Op(shards.ops[msg.shard])  # the shard file itself may be unreadable
        outcomes = shard_outcomes(rows, checkpoint, op, f"not sent: {reason}")
        await record_outcome(services, msg, run, store, checkpoint, outcomes, failed=True)
    await complete_shard(services, msg, checkpoint)


async def run_poisoned(services: Services, msg: RunMessage, *, queue: str) -> None:
    _announce(queue, msg.export, msg.run_id)
    message = f"planning failed on every delivery attempt (the message was moved to {queue}); see the function logs"
    await end_run(
        services, msg.export_id, msg.run_id, RunStatus.FAILED, error=RunError(code="planning_failed", message=message)
    )


async def plan_task_poisoned(services: Services, msg: PlanMessage, *, queue: str) -> None:
    _announce(queue, msg.export, msg.run_id)
    what = f"partition {msg.index}" if msg.kind == "split" else f"bucket {msg.index}"
    message = (
        f"planning {what} failed on every delivery attempt (the message was moved to {queue}); see the function logs"
    )
    await end_run(
        services, msg.export_id, msg.run_id, RunStatus.FAILED, error=RunError(code="planning_failed", message=message)
    )


async def finalize_poisoned(services: Services, msg: FinalizeMessage, *, queue: str) -> None:
    _announce(queue, msg.export, msg.run_id)
    what = "finishing the run" if msg.bucket is None else f"committing bucket {msg.bucket}"
    message = f"{what} failed on every attempt (the message was moved to {queue}); see the function logs"
    await end_run(
        services, msg.export_id, msg.run_id, RunStatus.FAILED, error=RunError(code="finalize_failed", message=message)
    )


async def unreadable_poisoned(services: Services, body: bytes, *, queue: str) -> None:
    """A message that could not be read on any delivery: fail the run it names, if it names one."""
    ref = RunRef.find(body)
    if ref is None:
        logger.error("dropped an unreadable message from %s: it names no run", queue, extra={DIM_QUEUE: queue})
        return
    _announce(queue, ref.export, ref.run_id)
    message = (
        f"a message of this run could not be read on any delivery attempt and was moved to {queue}; "
        "start the run again (a new version of the app may have changed the message format)"
    )
    error = RunError(code="message_unreadable", message=message)
    try:
        await end_run(services, ref.export_id, ref.run_id, RunStatus.FAILED, error=error)
    except NotFound:
        logger.error("dropped an unreadable message from %s: its run does not exist", queue, extra={DIM_QUEUE: queue})


__all__ = ["finalize_poisoned", "plan_task_poisoned", "run_poisoned", "shard_poisoned", "unreadable_poisoned"]
