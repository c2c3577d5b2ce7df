"""The shard worker: send one shard inside its account's lane.  A busy lane sends the message back, delayed."""

import azure.functions as func

from functions._queue import handle
from shared.names import SHARD_QUEUE, STORAGE_CONNECTION
from shared.pipeline.messages import ShardMessage
from shared.pipeline.worker import run_shard

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.queue_trigger(arg_name="msg", queue_name=SHARD_QUEUE, connection=STORAGE_CONNECTION)
async def shard_worker(msg: func.QueueMessage) -> None:
    await handle(msg, ShardMessage, run_shard, span="shard")
