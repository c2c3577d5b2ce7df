"""The shard worker: send one shard inside its account's lane.  A busy lane sends the message back, delayed."""

import logging

import azure.functions as func

from functions._queue import handle
from shared.names import SHARD_QUEUE, STORAGE_CONNECTION
from shared.pipeline.lane import LaneBusy
from shared.pipeline.messages import ShardMessage
from shared.pipeline.worker import process_shard
from shared.services import Services

logger = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]


async def _send(services: Services, message: ShardMessage) -> None:
    try:
        await process_shard(services, message)
    except LaneBusy as busy:
        again = message.model_copy(update={"lane_waits": message.lane_waits + 1})
        await services.enqueue(SHARD_QUEUE, again.to_json(), delay_s=busy.retry_after)


@bp.queue_trigger(arg_name="msg", queue_name=SHARD_QUEUE, connection=STORAGE_CONNECTION)
async def shard_worker(msg: func.QueueMessage) -> None:
    await handle(msg, ShardMessage, _send, span="shard")
