"""Index a FunctionApp the way the host does: `app.get_functions()` -> what to run and how."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

SUPPORTED_TRIGGERS = ("timerTrigger", "queueTrigger", "httpTrigger")
SUPPORTED_OUTPUTS = ("queue", "http")


@dataclass(frozen=True)
class OutputBinding:
    name: str
    type: str
    queue_name: str | None = None
    connection: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """One indexed function: its trigger binding (as the host's JSON), outputs and the user code."""

    name: str
    trigger_type: str
    trigger_arg: str
    trigger: dict[str, Any]
    outputs: tuple[OutputBinding, ...]
    user_function: Callable[..., Any]
    parameters: tuple[str, ...] = field(default=())

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.user_function)

    @property
    def wants_context(self) -> bool:
        return "context" in self.parameters


_indexed: weakref.WeakKeyDictionary[func.FunctionApp, list[FunctionSpec]] = weakref.WeakKeyDictionary()


def index_app(app: func.FunctionApp) -> list[FunctionSpec]:
    """All functions of `app`.  Raises ValueError for anything the stand-in host cannot run.

    azure-functions 1.26 validates names against what it indexed before, so a second
    get_functions() on the same app reports every function as a duplicate: index once.
    """
    cached = _indexed.get(app)
    if cached is None:
        cached = _indexed[app] = _index(app)
    return list(cached)


def _index(app: func.FunctionApp) -> list[FunctionSpec]:
    specs: list[FunctionSpec] = []
    for function in app.get_functions():  # raises on duplicate names, like the host's indexer
        name = function.get_function_name()
        trigger_dict: dict[str, Any] = {}
        trigger_arg = ""
        outputs: list[OutputBinding] = []
        for binding in function.get_bindings():
            raw = binding.get_dict_repr()
            btype = str(raw["type"])
            direction = int(binding.direction)  # 0 = IN, 1 = OUT (a plain int in 1.26)
            if btype in SUPPORTED_TRIGGERS:
                trigger_dict = {k: _plain(v) for k, v in raw.items()}
                trigger_arg = str(raw["name"])
            elif direction == 1 and btype in SUPPORTED_OUTPUTS:
                outputs.append(
                    OutputBinding(
                        name=str(raw["name"]),
                        type=btype,
                        queue_name=raw.get("queueName"),
                        connection=raw.get("connection"),
                    )
                )
            else:
                raise ValueError(f"function {name}: binding type {btype!r} is not supported by the stand-in host")
        if not trigger_dict:
            raise ValueError(f"function {name}: no supported trigger ({', '.join(SUPPORTED_TRIGGERS)})")
        user = function.get_user_function()
        specs.append(
            FunctionSpec(
                name=str(name),
                trigger_type=str(trigger_dict["type"]),
                trigger_arg=trigger_arg,
                trigger=trigger_dict,
                outputs=tuple(outputs),
                user_function=user,
                parameters=tuple(inspect.signature(user).parameters),
            )
        )
    return specs


def _plain(value: Any) -> Any:
    """Enums in binding dicts -> their wire values (what function.json would hold)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)
