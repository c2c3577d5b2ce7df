"""Every product function's bindings, as the Functions host indexes them, against the constants in shared/.

If a binding drifts from shared/names.py (a queue renamed in one place only, a schedule
written as a literal, a connection setting typo), this fails before anything is deployed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import function_app
from local.host import index_app
from shared.api.routes import CONSOLE, ROUTES
from shared.names import (
    FINALIZE_POISON_QUEUE,
    FINALIZE_QUEUE,
    PLAN_POISON_QUEUE,
    PLAN_QUEUE,
    REFRESH_SCHEDULE_SETTING,
    RUN_POISON_QUEUE,
    RUN_QUEUE,
    SHARD_POISON_QUEUE,
    SHARD_QUEUE,
    STORAGE_CONNECTION,
)

ROOT = Path(__file__).resolve().parents[1]
QUEUE_TRIGGERS = {
    "planner": RUN_QUEUE,
    "plan_tasks": PLAN_QUEUE,
    "shard_worker": SHARD_QUEUE,
    "finalizer": FINALIZE_QUEUE,
    "shard_poison": SHARD_POISON_QUEUE,
    "run_poison": RUN_POISON_QUEUE,
    "plan_poison": PLAN_POISON_QUEUE,
    "finalize_poison": FINALIZE_POISON_QUEUE,
}


def test_queue_triggers_listen_on_the_named_queues_through_the_storage_connection() -> None:
    found = {s.name: s for s in index_app(function_app.app) if s.trigger_type == "queueTrigger"}
    assert {name: s.trigger["queueName"] for name, s in found.items()} == QUEUE_TRIGGERS
    assert {s.trigger["connection"] for s in found.values()} == {STORAGE_CONNECTION}
    assert all(s.is_async for s in found.values())


def test_the_timer_runs_on_the_schedule_setting_and_sends_to_the_run_queue() -> None:
    [timer] = [s for s in index_app(function_app.app) if s.trigger_type == "timerTrigger"]
    assert timer.name == "refresh_timer"
    assert timer.trigger["schedule"] == f"%{REFRESH_SCHEDULE_SETTING}%"
    assert timer.trigger["runOnStartup"] is False
    assert [(o.type, o.queue_name, o.connection) for o in timer.outputs] == [("queue", RUN_QUEUE, STORAGE_CONNECTION)]


def test_every_function_is_one_of_the_known_kinds() -> None:
    kinds = {s.trigger_type for s in index_app(function_app.app)}
    assert kinds == {"timerTrigger", "queueTrigger", "httpTrigger"}
    http = [s for s in index_app(function_app.app) if s.trigger_type == "httpTrigger"]
    assert {str(s.trigger["route"]) for s in http} == {r.path for r in ROUTES} | {CONSOLE.path}


def test_host_json_declares_the_queue_behaviour_the_pipeline_relies_on() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    queues = host["extensions"]["queues"]
    assert queues["messageEncoding"] == "base64"
    assert queues["maxDequeueCount"] >= 3  # then <queue>-poison, which the poison functions watch
    assert set(host["extensions"]) == {"http", "queues"}  # only the extensions we use


def test_shared_never_imports_azure_functions_and_function_app_only_assembles() -> None:
    pattern = re.compile(r"^\s*(import|from) azure\.functions", re.MULTILINE)
    offenders = [p for p in (ROOT / "shared").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
    source = (ROOT / "function_app.py").read_text()
    assert "@app." not in source and "def " not in source
    assert source.count("app.register_blueprint(") == len(list((ROOT / "functions").glob("[!_]*.py")))
