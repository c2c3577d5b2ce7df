"""Poison queues: a message that failed maxDequeueCount times ends its run as Failed, naming what failed."""

import functools

import azure.functions as func

from functions._queue import handle_poison
from shared.names import (
    FINALIZE_POISON_QUEUE,
    PLAN_POISON_QUEUE,
    RUN_POISON_QUEUE,
    SHARD_POISON_QUEUE,
    STORAGE_CONNECTION,
)
from shared.pipeline.messages import FinalizeMessage, PlanMessage, RunMessage, ShardMessage
from shared.pipeline.poison import finalize_poisoned, plan_task_poisoned, run_poisoned, shard_poisoned

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.queue_trigger(arg_name="msg", queue_name=SHARD_POISON_QUEUE, connection=STORAGE_CONNECTION)
async def shard_poison(msg: func.QueueMessage) -> None:
    job = functools.partial(shard_poisoned, queue=SHARD_POISON_QUEUE)
    await handle_poison(msg, ShardMessage, job, queue=SHARD_POISON_QUEUE, span="shard-poison")


@bp.queue_trigger(arg_name="msg", queue_name=RUN_POISON_QUEUE, connection=STORAGE_CONNECTION)
async def run_poison(msg: func.QueueMessage) -> None:
    job = functools.partial(run_poisoned, queue=RUN_POISON_QUEUE)
    await handle_poison(msg, RunMessage, job, queue=RUN_POISON_QUEUE, span="run-poison")


@bp.queue_trigger(arg_name="msg", queue_name=PLAN_POISON_QUEUE, connection=STORAGE_CONNECTION)
async def plan_poison(msg: func.QueueMessage) -> None:
    job = functools.partial(plan_task_poisoned, queue=PLAN_POISON_QUEUE)
    await handle_poison(msg, PlanMessage, job, queue=PLAN_POISON_QUEUE, span="plan-poison")


@bp.queue_trigger(arg_name="msg", queue_name=FINALIZE_POISON_QUEUE, connection=STORAGE_CONNECTION)
async def finalize_poison(msg: func.QueueMessage) -> None:
    job = functools.partial(finalize_poisoned, queue=FINALIZE_POISON_QUEUE)
    await handle_poison(msg, FinalizeMessage, job, queue=FINALIZE_POISON_QUEUE, span="finalize-poison")
