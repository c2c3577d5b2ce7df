"""The HTTP functions as the host indexes them: one per route, anonymous, thin, registered once."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

from functions import http_connections, http_console, http_exports, http_openapi, http_runs, http_sources
from shared.api import ROUTES
from shared.api.routes import CONSOLE
from shared.names import RUN_QUEUE, STORAGE_CONNECTION
from tests.api.client import app_functions

ROOT = Path(__file__).resolve().parents[2]
MODULES = (http_connections, http_console, http_exports, http_openapi, http_runs, http_sources)


def test_every_route_is_one_anonymous_http_function() -> None:
    functions = app_functions()
    http = {name: f for name, f in functions.items() if f.is_http_function()}
    assert set(http) >= {r.function_name for r in ROUTES}
    for route in ROUTES:
        function_json = json.loads(functions[route.function_name].get_function_json())
        [trigger] = [b for b in function_json["bindings"] if b["type"] == "httpTrigger"]
        assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == (route.path, [route.method], "ANONYMOUS")


def test_the_console_is_one_anonymous_get_under_the_api_prefix_outside_the_openapi_document() -> None:
    function_json = json.loads(app_functions()[CONSOLE.function_name].get_function_json())
    [trigger] = [b for b in function_json["bindings"] if b["type"] == "httpTrigger"]
    assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == ("console/{*path}", ["GET"], "ANONYMOUS")
    assert CONSOLE not in ROUTES
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == "api"  # the console is at /api/console/, next to the API


def test_only_run_start_sends_to_the_run_queue_through_an_output_binding() -> None:
    functions = app_functions()
    for route in ROUTES:
        function_json = json.loads(functions[route.function_name].get_function_json())
        queues = [b for b in function_json["bindings"] if b["type"] == "queue"]
        if route.operation_id == "run_start":
            assert [(q["queueName"], q["connection"], q["direction"]) for q in queues] == [
                (RUN_QUEUE, STORAGE_CONNECTION, "OUT")
            ]
        else:
            assert queues == []


def test_handlers_are_thin_and_shared_api_never_sees_functions_types() -> None:
    for module in MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__:
                assert len(inspect.getsource(fn).splitlines()) <= 40, name
    for path in (ROOT / "shared" / "api").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert not any(m.startswith("azure.functions") for m in imported), path


def test_function_app_only_assembles() -> None:
    source = (ROOT / "function_app.py").read_text()
    assert "@app." not in source
    for module in MODULES:
        assert f"app.register_blueprint({module.__name__.rsplit('.', 1)[-1]}.bp)" in source
