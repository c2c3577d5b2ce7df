"""The finaliser: every shard has an outcome -> commit the state, write the report, end the run."""

import azure.functions as func

from functions._queue import handle
from shared.names import FINALIZE_QUEUE, STORAGE_CONNECTION
from shared.pipeline.finalize import finalize_run
from shared.pipeline.messages import FinalizeMessage

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.queue_trigger(arg_name="msg", queue_name=FINALIZE_QUEUE, connection=STORAGE_CONNECTION)
async def finalizer(msg: func.QueueMessage) -> None:
    await handle(msg, FinalizeMessage, finalize_run, span="finalize")
