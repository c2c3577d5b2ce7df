"""POST /import/bulk_import, GET /import/bulk_import (daily aggregates), GET /import/info?batchId=."""

from __future__ import annotations

import uuid

from aiohttp import web

from local.activecampaign_emulator import bulk, bulk_apply
from local.activecampaign_emulator.batches import Batch, daily_aggregates
from local.activecampaign_emulator.gate import EMULATOR, NOW, route_label
from local.activecampaign_emulator.ratelimit import retry_after_seconds
from local.activecampaign_emulator.render import json_response

routes = web.RouteTableDef()


def _refuse(refusal: bulk.Refusal) -> web.Response:
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after is not None else None
    return json_response(refusal.body, status=refusal.status, headers=headers)


@routes.post("/api/3/import/bulk_import")
async def post_bulk_import(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    config, state = emu.config, emu.state
    body = await request.read()
    refusal = bulk.check_size(config, len(body))
    if refusal is not None:
        return _refuse(refusal)
    parsed = bulk.parse(config, body)
    if isinstance(parsed, bulk.Refusal):
        return _refuse(parsed)
    payload, contacts = parsed
    single = len(contacts) == 1
    budget = "bulk_single" if single else "bulk_multi"
    now = request[NOW]
    wait = emu.budgets.take(budget, now)
    if wait > 0:
        retry_after = retry_after_seconds(wait)
        limit = config.bulk_single_per_min if single else config.bulk_multi_per_min
        refusal = bulk.rate_limited(config, single=single, limit=limit, retry_after=retry_after)
        emu.metrics.rate_limited(now, route_label(request), refusal.status, refusal.retry_after, budget, wait)
        return _refuse(refusal)
    prepared = bulk.validate(state, config, contacts)
    if isinstance(prepared, bulk.Refusal):
        return _refuse(prepared)
    gate = await emu.faults.stall_gate(request)
    if gate == "gone":
        return json_response({"message": "client went away"}, status=499)  # never delivered
    if gate == "resumed":  # the account may have changed while it hung (e.g. a list was deleted)
        prepared = bulk.validate(state, config, contacts)
        if isinstance(prepared, bulk.Refusal):
            return _refuse(prepared)
    now = emu.clock()
    batch = Batch(str(uuid.uuid4()), len(contacts), now, emu.wall())
    batch.schedule(config.initial_false_s, config.processing_delay_s)
    if config.batch_failure_probability > 0 and emu.faults.rng.random() < config.batch_failure_probability:
        batch.outcome = config.batch_failure_status
    else:
        bulk_apply.apply(state, config, payload, contacts, prepared, batch, wall=batch.submitted_wall)
    state.batches[batch.id] = batch
    emu.gc_watch.after_growth(state.contact_count)
    emu.budgets.record_accepted_bulk(request[NOW], single=single)  # when its token was taken
    await emu.faults.hold_answer(batch.id)  # applied: only the answer may be held back
    body_out = {
        config.bulk_success_key: 1,
        "queued_contacts": len(contacts),
        "batchId": batch.id,
        "message": "Contact import queued",
    }
    return json_response(body_out)


@routes.get("/api/3/import/bulk_import")
async def get_bulk_import(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    return json_response(daily_aggregates(list(emu.state.batches.values()), emu.clock(), emu.wall()))


@routes.get("/api/3/import/info")
async def get_import_info(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    batch_id = request.query.get("batchId", "")
    if not batch_id:
        return json_response({"success": 0, "message": "'batchId' is a required field."}, status=400)
    batch = emu.state.batches.get(batch_id)
    if batch is None or emu.config.info_forgets_batches:
        mode = emu.config.unknown_batch_response
        if mode == "false":
            return json_response({"status": False})
        message = f"No Result found for Batch with id {batch_id}" if mode == "404" else "Invalid batchId."
        return json_response({"success": 0, "message": message}, status=int(mode))
    config = emu.config
    info = batch.info(
        emu.clock(), include_updated=config.info_success_includes_updated, failure_reasons=config.info_failure_reasons
    )
    return json_response(info)
