"""Call a user function the way the Python worker does, and collect its output bindings."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import azure.functions as func

from local.host.index import FunctionSpec

logger = logging.getLogger("local.host")
T = TypeVar("T")


class Out(func.Out[T], Generic[T]):
    """The concrete `func.Out` the worker passes for an output binding."""

    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, val: T) -> None:
        self._value = val

    def get(self) -> T:
        return self._value  # type: ignore[return-value]


@dataclass
class TraceContext:
    trace_parent: str = ""
    trace_state: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


class Context(func.Context):
    """A minimal `func.Context` (invocation id, function name, trace context)."""

    def __init__(self, function_name: str, invocation_id: str) -> None:
        self._function_name = function_name
        self._invocation_id = invocation_id
        self._trace_context = TraceContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return "."

    @property
    def trace_context(self) -> Any:
        return self._trace_context

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return None


@dataclass
class Invocation:
    """The result of one call: the return value and the values set on output bindings."""

    result: Any
    outputs: dict[str, Any]


async def invoke(spec: FunctionSpec, trigger_value: Any, *, reason: str) -> Invocation:
    """Run `spec` with its trigger value and fresh Out objects; raises what the function raises."""
    invocation_id = str(uuid.uuid4())
    outs: dict[str, Out[Any]] = {b.name: Out() for b in spec.outputs if b.name != "$return"}
    kwargs: dict[str, Any] = {spec.trigger_arg: trigger_value, **outs}
    if spec.wants_context:
        kwargs["context"] = Context(spec.name, invocation_id)
    logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
    started = time.perf_counter()
    try:
        if spec.is_async:
            result = await spec.user_function(**kwargs)
        else:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, functools.partial(spec.user_function, **kwargs))
    except asyncio.CancelledError:  # the host is stopping (or a function timeout): not the function's failure
        ms = (time.perf_counter() - started) * 1000
        logger.info("Executed 'Functions.%s' (Cancelled, Id=%s, Duration=%dms)", spec.name, invocation_id, ms)
        raise
    except BaseException:
        ms = (time.perf_counter() - started) * 1000
        logger.warning("Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)", spec.name, invocation_id, ms)
        raise
    ms = (time.perf_counter() - started) * 1000
    logger.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", spec.name, invocation_id, ms)
    values = {name: out.get() for name, out in outs.items() if out.get() is not None}
    return Invocation(result=result, outputs=values)


def queue_messages(value: Any) -> list[str]:
    """What a queue output binding's value means: one message, or a list of them."""
    items = value if isinstance(value, (list, tuple)) else [value]
    messages: list[str] = []
    for item in items:
        if isinstance(item, bytes):
            messages.append(item.decode("utf-8"))
        elif isinstance(item, str):
            messages.append(item)
        elif isinstance(item, Mapping):
            messages.append(json.dumps(item))
        else:
            raise TypeError(f"queue output value of type {type(item).__name__} is not supported")
    return messages
