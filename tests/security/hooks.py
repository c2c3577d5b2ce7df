"""The taps on the product itself, installed the same way in the test process and in child processes.

`install_product_hooks(sink)` wraps, once per process:
- azure.functions.HttpResponse: status, headers and body of every response, named by the API operation
  whose `handle` ran last in this context (functions/_http.py's `handle` is wrapped to say so);
- the Storage queue SDK's send_message (sync and async): every message as sent and base64-decoded;
- ExportError: its message and details, when it is constructed;
- ActiveCampaignClient: the key it is built with is registered with the sink (the probe looks for it).
Spans go to the sink through `SinkSpanProcessor` (child processes; the test process keeps an in-memory
exporter).  tests/leakprobe.py adds the session-only hooks (the emulator's key, samples, Azurite).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from tests.security.probe import Sink, decoded, response_may_hold_emails, span_text

_operation: contextvars.ContextVar[str | None] = contextvars.ContextVar("leakprobe_operation", default=None)
_installed: set[int] = set()


def wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name)
    wrapped = make(original)
    functools.update_wrapper(wrapped, original)
    setattr(owner, name, wrapped)


class SinkSpanProcessor(SpanProcessor):
    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self._sink.observe("span", span.name, span_text(span))


@contextlib.contextmanager
def responding_as(operation: str) -> Iterator[None]:
    """Name the responses built in this block after `operation`, as serve() does (for the self-tests)."""
    token = _operation.set(operation)
    try:
        yield
    finally:
        _operation.reset(token)


def install_product_hooks(sink: Sink) -> None:
    if id(sink) in _installed:
        return
    _installed.add(id(sink))
    import azure.functions as func
    from azure.storage.queue import QueueClient as SyncQueueClient
    from azure.storage.queue.aio import QueueClient

    import functions._http
    from shared.activecampaign.client import ActiveCampaignClient
    from shared.errors import ExportError

    def handle(original: Callable[..., Any]) -> Callable[..., Any]:
        async def named(services: Any, route: Any, *args: Any, **kwargs: Any) -> Any:
            _operation.set(getattr(route, "operation_id", None))  # seen by serve() after the await, same context
            return await original(services, route, *args, **kwargs)

        return named

    def response(original: Callable[..., None]) -> Callable[..., None]:
        def init(self: func.HttpResponse, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            operation = _operation.get()
            _operation.set(None)  # one response per operation: a later, unrelated one is not named after it
            head = f"{self.status_code}\n" + "\n".join(f"{k}: {v}" for k, v in self.headers.items())
            sink.observe(
                "response",
                f"{operation or '?'} HTTP {self.status_code}",
                head.encode() + b"\n\n" + (self.get_body() or b""),
                emails_allowed=response_may_hold_emails(operation, self.status_code),
            )

        return init

    def queue_send(original: Callable[..., Any], *, is_async: bool) -> Callable[..., Any]:
        def note(client: Any, content: object) -> None:
            text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
            sink.observe("queue", f"sent to {client.queue_name}", text + "\n" + decoded(text))

        async def send_async(self: Any, content: object, *args: Any, **kwargs: Any) -> Any:
            note(self, content)
            return await original(self, content, *args, **kwargs)

        def send(self: Any, content: object, *args: Any, **kwargs: Any) -> Any:
            note(self, content)
            return original(self, content, *args, **kwargs)

        return send_async if is_async else send

    def export_error(original: Callable[..., None]) -> Callable[..., None]:
        def init(self: ExportError, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            details = "\n".join(f"{d.field}: {d.message}" for d in self.details)
            sink.observe("exception", type(self).__name__, f"{self.message}\n{details}")

        return init

    def ac_client(original: Callable[..., None]) -> Callable[..., None]:
        def init(self: ActiveCampaignClient, *args: Any, **kwargs: Any) -> None:
            api_key = kwargs.get("api_key")
            if api_key is not None:
                sink.register_key(api_key.reveal())
            original(self, *args, **kwargs)

        return init

    wrap(functions._http, "handle", handle)
    wrap(func.HttpResponse, "__init__", response)
    wrap(QueueClient, "send_message", functools.partial(queue_send, is_async=True))
    wrap(SyncQueueClient, "send_message", functools.partial(queue_send, is_async=False))
    wrap(ExportError, "__init__", export_error)
    wrap(ActiveCampaignClient, "__init__", ac_client)


__all__ = ["SinkSpanProcessor", "install_product_hooks", "responding_as", "wrap"]
