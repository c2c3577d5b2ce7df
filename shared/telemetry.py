"""Telemetry set-up: Azure Monitor OpenTelemetry, only when a connection string is configured."""

from __future__ import annotations

import logging

from shared.config import telemetry_connection_string

logger = logging.getLogger(__name__)
_configured = False


def configure_telemetry(connection_string: str | None = None) -> bool:
    """Configure azure-monitor-opentelemetry once per process; a no-op without a connection string."""
    global _configured
    connection_string = connection_string or telemetry_connection_string()
    if _configured:
        return True
    if not connection_string:
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(connection_string=connection_string, logger_name="shared")
    logging.getLogger("azure").setLevel(logging.WARNING)
    _configured = True
    return True
