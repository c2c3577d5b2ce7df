"""Trace context across queues: one trace per run, carried as a W3C traceparent in each message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context, propagate, trace

tracer = trace.get_tracer("shared")


def current_traceparent() -> str | None:
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


__all__ = ["continue_trace", "current_traceparent", "tracer"]
