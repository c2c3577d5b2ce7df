"""The Functions app: build it, set up telemetry, register the blueprints.  Nothing else."""

import azure.functions as func

from functions import (
    http_connections,
    http_console,
    http_exports,
    http_openapi,
    http_retired,
    http_runs,
    http_sources,
    queue_finalize,
    queue_planner,
    queue_poison,
    queue_shards,
    timer_refresh,
)
from shared.telemetry import configure_telemetry

configure_telemetry()
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_blueprint(http_openapi.bp)
app.register_blueprint(http_connections.bp)
app.register_blueprint(http_exports.bp)
app.register_blueprint(http_runs.bp)
app.register_blueprint(http_retired.bp)
app.register_blueprint(http_sources.bp)
app.register_blueprint(http_console.bp)
app.register_blueprint(timer_refresh.bp)
app.register_blueprint(queue_planner.bp)
app.register_blueprint(queue_shards.bp)
app.register_blueprint(queue_finalize.bp)
app.register_blueprint(queue_poison.bp)
