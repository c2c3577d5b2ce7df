"""Telemetry set-up: Azure Monitor OpenTelemetry, only when a connection string is configured.

- Traces and metrics: shared/tracing.py and shared/metrics.py use the OpenTelemetry API, which
  is a no-op until this has run.  Every trace is kept (TRACE_SAMPLING); Azure SDK calls are
  traced too (the distro's default), as children of the run's spans.
- Logs: the exporter's handler sits on the root logger, because the app logs from shared.* and
  functions.*; `ExportedRecords` then keeps the app's records from INFO (the structured events
  the alerts and the workbook read), other libraries' from WARNING only, and never the
  exporter's own (no feedback loop).  A record logged inside a run's span gets the span's run
  dimensions (export, run, shard, account_host) when it does not carry them already.
- Without APPLICATIONINSIGHTS_CONNECTION_STRING nothing is configured, and a connection
  string Azure Monitor refuses turns telemetry off with an error log instead of stopping the
  app from loading.
- In Azure this exporter is the only path for the app's records: host.json sets
  `"telemetryMode": "OpenTelemetry"` and infra/app/api.bicep sets PYTHON_ENABLE_OPENTELEMETRY=true,
  so the host stops re-sending the log records the worker forwards to it.  The worker must not
  configure Azure Monitor itself (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY), or every record
  would go out twice from this process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

from opentelemetry import trace

from shared.config import telemetry_connection_string
from shared.events import DIM_ACCOUNT_HOST, DIM_EXPORT, DIM_RUN, DIM_SHARD

logger = logging.getLogger(__name__)
APP_LOGGERS: Final = ("shared", "functions", "function_app")
NEVER_EXPORTED: Final = ("azure.monitor.opentelemetry", "opentelemetry")
OTHERS_FROM: Final = logging.WARNING
RUN_DIMENSIONS: Final = (DIM_EXPORT, DIM_RUN, DIM_SHARD, DIM_ACCOUNT_HOST)
# Keep every trace.  The distro's default (at most 5 traces a second, adapted over 0.1 s windows) drops most
# roots that follow a burst of other roots, and a dropped run.start drops the whole run's trace: the storage
# calls the runs API makes just before it are such a burst.  Runs are few; their traces are what matters.
TRACE_SAMPLING: Final = 1.0
_configured = False


def configure_telemetry(connection_string: str | None = None) -> bool:
    """Configure azure-monitor-opentelemetry once per process; False (and no change) without a connection string."""
    global _configured
    if _configured:
        return True
    connection_string = connection_string or telemetry_connection_string()
    if not connection_string:
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor

    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_azure_monitor(connection_string=connection_string, logger_name="", sampling_ratio=TRACE_SAMPLING)
    except Exception as exc:  # noqa: BLE001 (telemetry must never keep the functions from loading)
        logger.error("telemetry is off: Azure Monitor could not be configured (%s)", type(exc).__name__)
        return False
    scope_log_export(h for h in root.handlers if h not in before)
    _configured = True
    return True


def scope_log_export(handlers: Iterable[logging.Handler]) -> None:
    """Put `ExportedRecords` on the exporting handlers; the app's INFO events always reach them."""
    records = ExportedRecords()
    for handler in handlers:
        handler.addFilter(records)
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDKs log every request at INFO
    for name in APP_LOGGERS:
        app_logger = logging.getLogger(name)
        if app_logger.getEffectiveLevel() > logging.INFO:
            app_logger.setLevel(logging.INFO)


class ExportedRecords(logging.Filter):
    """Which log records go to Application Insights, each with the run dimensions of its span."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not is_exported(record.name, record.levelno):
            return False
        add_span_dimensions(record)
        return True


def is_exported(name: str, level: int) -> bool:
    if name.split(".", 1)[0] in APP_LOGGERS:
        return True
    if any(name == prefix or name.startswith(prefix + ".") for prefix in NEVER_EXPORTED):
        return False
    return level >= OTHERS_FROM


def add_span_dimensions(record: logging.LogRecord) -> None:
    attributes = getattr(trace.get_current_span(), "attributes", None)
    if not attributes:
        return
    for key in RUN_DIMENSIONS:
        if key in attributes and not hasattr(record, key):
            setattr(record, key, attributes[key])


__all__ = ["ExportedRecords", "add_span_dimensions", "configure_telemetry", "is_exported", "scope_log_export"]
