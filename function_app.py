"""The Functions app: build it, set up telemetry, register the blueprints.  Nothing else."""

import azure.functions as func

from shared.telemetry import configure_telemetry

configure_telemetry()
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
