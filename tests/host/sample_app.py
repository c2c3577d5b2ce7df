"""A test-only function app for the stand-in host tests (no product functions)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import azure.functions as func


@dataclass
class Record:
    """What the test functions saw."""

    deliveries: list[tuple[str, int]] = field(default_factory=list)
    ticks: int = 0
    active: int = 0
    max_active: int = 0
    sink: list[str] = field(default_factory=list)


def make_app(prefix: str, record: Record) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    bp = func.Blueprint()

    @bp.queue_trigger(arg_name="msg", queue_name=f"{prefix}-work", connection="AzureWebJobsStorage")
    @bp.queue_output(arg_name="out", queue_name=f"{prefix}-sink", connection="AzureWebJobsStorage")
    async def worker(msg: func.QueueMessage, out: func.Out[str]) -> None:
        body = msg.get_body().decode("utf-8")
        record.deliveries.append((body, int(msg.dequeue_count or 0)))
        if body.startswith("fail-until-"):
            if int(msg.dequeue_count or 0) < int(body.removeprefix("fail-until-")):
                raise RuntimeError("not yet")
        elif body == "always-fail":
            raise RuntimeError("always")
        elif body.startswith("slow"):
            record.active += 1
            record.max_active = max(record.max_active, record.active)
            await asyncio.sleep(0.3)
            record.active -= 1
            return
        out.set(f"echo:{body}")

    @bp.queue_trigger(arg_name="msg", queue_name=f"{prefix}-sink", connection="AzureWebJobsStorage")
    def sink(msg: func.QueueMessage) -> None:  # a sync function: the host runs it in a thread
        record.sink.append(msg.get_body().decode("utf-8"))

    @bp.timer_trigger(arg_name="timer", schedule="%TICK_SCHEDULE%", run_on_startup=False, use_monitor=False)
    async def ticker(timer: func.TimerRequest) -> None:
        record.ticks += 1

    @bp.route(route="items/{name}", methods=["GET", "PUT", "DELETE"])
    async def items(req: func.HttpRequest) -> func.HttpResponse:
        name = req.route_params["name"]
        if req.method == "PUT":
            return func.HttpResponse(
                req.get_body(), status_code=201, mimetype="application/json", headers={"Location": f"/api/items/{name}"}
            )
        if req.method == "DELETE":
            return func.HttpResponse(status_code=204)
        if name == "missing":
            return func.HttpResponse('{"error": "not found"}', status_code=404, mimetype="application/json")
        return func.HttpResponse(f"{name}:{req.params.get('q', '')}", status_code=200)

    @bp.route(route="enqueue", methods=["POST"])
    @bp.queue_output(arg_name="out", queue_name=f"{prefix}-work", connection="AzureWebJobsStorage")
    async def enqueue(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        out.set(req.get_body().decode("utf-8"))
        return func.HttpResponse(status_code=202)

    @bp.route(route="boom", methods=["GET"])
    async def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("unhandled")

    app.register_blueprint(bp)
    return app
