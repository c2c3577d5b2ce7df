"""The scheduled refresh: every tick, start the exports that are due (schedule: %REFRESH_SCHEDULE%)."""

import logging

import azure.functions as func

from shared.names import REFRESH_SCHEDULE_SETTING, RUN_QUEUE, STORAGE_CONNECTION
from shared.pipeline.schedule import scheduled_refresh
from shared.services import get_services
from shared.tracing import tracer

logger = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.timer_trigger(arg_name="timer", schedule=f"%{REFRESH_SCHEDULE_SETTING}%", run_on_startup=False, use_monitor=True)
@bp.queue_output(arg_name="runs", queue_name=RUN_QUEUE, connection=STORAGE_CONNECTION)
async def refresh_timer(timer: func.TimerRequest, runs: func.Out[list[str]]) -> None:
    if timer.past_due:
        logger.warning("the refresh timer is running late")
    with tracer.start_as_current_span("refresh"):
        messages = await scheduled_refresh(await get_services().ready())
    if messages:
        runs.set(messages)
