"""Trace context across queues: one trace per run, carried as a W3C traceparent in each message.

A run's trace starts at `run_trace` (when the run is queued: the runs API or the timer) and
goes on through the planner, every shard and the finaliser: each queue job continues the
`traceparent` its message carries (`continue_trace`), and the planner hands its own span on
to the shard and finalize messages.  Spans carry the run's dimensions (`run_dimensions`):
export, run, shard, account_host.  Never an email, a name or a key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context, propagate, trace

from shared.events import DIM_ACCOUNT_HOST, DIM_EXPORT, DIM_RUN, DIM_SHARD

tracer = trace.get_tracer("shared")
RUN_SPAN = "run.start"


def current_traceparent() -> str | None:
    """The current span as a W3C traceparent, or None when nothing is being traced."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def continue_trace(traceparent: str | None) -> Iterator[None]:
    """Make `traceparent` (from a queue message) the parent of the spans started inside."""
    if not traceparent:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)


def run_dimensions(
    export: str, run_id: str, *, shard: int | None = None, account_host: str | None = None
) -> dict[str, str | int]:
    """Span attributes (and log customDimensions) that place a span in a run."""
    dims: dict[str, str | int] = {DIM_EXPORT: export, DIM_RUN: run_id}
    if shard is not None:
        dims[DIM_SHARD] = shard
    if account_host is not None:
        dims[DIM_ACCOUNT_HOST] = account_host
    return dims


@contextmanager
def run_trace(export: str, run_id: str, *, new_trace: bool) -> Iterator[None]:
    """The root span of a run; `current_traceparent()` inside it is what the run message carries.

    `new_trace`: the run gets a trace of its own, linked to the current span (one timer tick may
    start several runs, and each run is one trace).  Otherwise it is a child of the current span
    (the HTTP request that started it, when the host traces requests).
    """
    parent = None
    links: list[trace.Link] = []
    if new_trace:
        current = trace.get_current_span().get_span_context()
        if current.is_valid:
            links.append(trace.Link(current))
        parent = context.Context()  # no parent: a new trace id
    with tracer.start_as_current_span(RUN_SPAN, context=parent, links=links, attributes=run_dimensions(export, run_id)):
        yield


__all__ = ["RUN_SPAN", "continue_trace", "current_traceparent", "run_dimensions", "run_trace", "tracer"]
