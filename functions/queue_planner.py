"""The planner: a run message starts planning; plan messages split partitions into buckets and plan each bucket."""

import azure.functions as func

from functions._queue import handle
from shared.names import PLAN_QUEUE, RUN_QUEUE, STORAGE_CONNECTION
from shared.pipeline.messages import PlanMessage, RunMessage
from shared.pipeline.planner import plan_run, plan_task

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.queue_trigger(arg_name="msg", queue_name=RUN_QUEUE, connection=STORAGE_CONNECTION)
async def planner(msg: func.QueueMessage) -> None:
    await handle(msg, RunMessage, plan_run, span="plan")


@bp.queue_trigger(arg_name="msg", queue_name=PLAN_QUEUE, connection=STORAGE_CONNECTION)
async def plan_tasks(msg: func.QueueMessage) -> None:
    await handle(msg, PlanMessage, plan_task, span="plan-task")
