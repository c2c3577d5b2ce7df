"""In-memory OpenTelemetry for tests: what the app would export, captured instead of sent.

OpenTelemetry lets a process set its tracer and meter providers once (later calls are
ignored), so providers stay for the rest of the session once set.  The `otel` fixture
therefore does not own them; it adds a span processor that passes spans on only while a
capture is on, and a metric reader that is drained when a capture starts:
- a tracer provider someone else set (tests/leakprobe.py sets one for the whole session)
  is used as it is; if there is none, one is set whose sampler drops every span outside
  a capture (spans are then non-recording, as with no SDK at all);
- the meter provider is ours (a reader cannot be added to another one later);
- the log handler, the Azure SDK tracing plug-in and the logger levels are put back at
  teardown.
So nothing captured leaks into other tests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.core.settings import settings as azure_settings
from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from shared.telemetry import APP_LOGGERS, scope_log_export
from tests.e2e.conftest import stack, stack_options  # noqa: F401 (the end-to-end fixtures, shared here)


class Switch:
    on = False


class SwitchSampler(Sampler):
    """Samples everything while the capture is on, nothing otherwise (only when we set the provider)."""

    def __init__(self, switch: Switch) -> None:
        self._switch = switch

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        return (ALWAYS_ON if self._switch.on else ALWAYS_OFF).should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "SwitchSampler"


class CaptureProcessor(SpanProcessor):
    """Hands finished spans to the exporter while the capture is on."""

    def __init__(self, switch: Switch, exporter: InMemorySpanExporter) -> None:
        self._switch = switch
        self._exporter = exporter

    def on_end(self, span: ReadableSpan) -> None:
        if self._switch.on:
            self._exporter.export((span,))


@dataclass
class _Providers:
    switch: Switch
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader


_installed: _Providers | None = None


def _install() -> _Providers:
    global _installed
    if _installed is None:
        switch, spans = Switch(), InMemorySpanExporter()
        tracer_provider = trace.get_tracer_provider()
        if not isinstance(tracer_provider, TracerProvider):
            tracer_provider = TracerProvider(sampler=SwitchSampler(switch))
            trace.set_tracer_provider(tracer_provider)
        tracer_provider.add_span_processor(CaptureProcessor(switch, spans))
        if isinstance(metrics.get_meter_provider(), MeterProvider):
            raise RuntimeError("another SDK meter provider is set in this process; otel cannot read its metrics")
        delta = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
        reader = InMemoryMetricReader(preferred_temporality=delta)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        _installed = _Providers(switch, spans, reader)
    return _installed


@dataclass(frozen=True)
class Point:
    name: str
    attributes: dict[str, Any]
    value: float  # counters: the sum; histograms: the sum of the recorded values
    count: int  # histograms: how many values; counters: 1


@dataclass
class Telemetry:
    """Spans, metric points and log records (as exported, and every app record) since the capture began."""

    providers: _Providers
    logs_exporter: InMemoryLogRecordExporter
    app_records: list[logging.LogRecord]
    _points: list[Point] = field(default_factory=list)

    @property
    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.providers.spans.get_finished_spans()

    @property
    def logs(self) -> tuple[ReadableLogRecord, ...]:
        return self.logs_exporter.get_finished_logs()

    def points(self, name: str | None = None) -> list[Point]:
        self._collect()
        return [p for p in self._points if name is None or p.name == name]

    def total(self, name: str, **attributes: Any) -> float:
        return sum(p.value for p in self.points(name) if _matches(p.attributes, attributes))

    def count(self, name: str, **attributes: Any) -> int:
        return sum(p.count for p in self.points(name) if _matches(p.attributes, attributes))

    def _collect(self) -> None:
        data = self.providers.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for dp in metric.data.data_points:
                        if isinstance(dp, HistogramDataPoint):
                            value, count = dp.sum, dp.count
                        else:
                            value, count = dp.value, 1
                        self._points.append(Point(metric.name, dict(dp.attributes or {}), value, count))


def _matches(actual: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(actual.get(k) == v for k, v in wanted.items())


class _Records(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        self._into.append(record)


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    """Capture what the app would send to Application Insights: every span (Azure SDK calls included),
    metric and exported log record, and every record the app's own loggers create (at DEBUG)."""
    providers = _install()
    providers.spans.clear()
    providers.reader.get_metrics_data()  # drain: points start from here (delta temporality)
    logs_exporter = InMemoryLogRecordExporter()
    log_provider = LoggerProvider()
    log_provider.add_log_record_processor(SimpleLogRecordProcessor(logs_exporter))
    exporting = LoggingHandler(logger_provider=log_provider)
    app_records: list[logging.LogRecord] = []
    everything = _Records(app_records)
    root = logging.getLogger()
    watched = ["azure", *APP_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in [*watched, ""]}
    tracing_before = azure_settings.tracing_implementation()
    root.addHandler(exporting)
    scope_log_export([exporting])  # the production filter and levels
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(everything)
    azure_settings.tracing_implementation = OpenTelemetrySpan
    providers.switch.on = True
    try:
        yield Telemetry(providers, logs_exporter, app_records)
    finally:
        providers.switch.on = False
        if tracing_before is None:
            azure_settings.tracing_implementation.unset_value()
        else:
            azure_settings.tracing_implementation = tracing_before
        for name in APP_LOGGERS:
            logging.getLogger(name).removeHandler(everything)
        root.removeHandler(exporting)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        log_provider.shutdown()
        providers.spans.clear()
