"""The planner: a run message -> snapshot read, rules, diff, shards queued."""

import azure.functions as func

from functions._queue import handle
from shared.names import RUN_QUEUE, STORAGE_CONNECTION
from shared.pipeline.messages import RunMessage
from shared.pipeline.planner import plan_run

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.queue_trigger(arg_name="msg", queue_name=RUN_QUEUE, connection=STORAGE_CONNECTION)
async def planner(msg: func.QueueMessage) -> None:
    await handle(msg, RunMessage, plan_run, span="plan")
