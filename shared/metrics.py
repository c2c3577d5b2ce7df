"""OpenTelemetry metrics (names in shared/events.py).  No-ops until telemetry is configured.

- ac_export.profiles (outcome read|sent|confirmed|rejected|invalid|removed): added once per run, when it ends;
- ac_export.ac.responses (status_code 429, 503, ...): every ActiveCampaign answer >= 400 a shard saw,
  recorded even when the shard then gives up for now (a storm is exactly when these matter);
- ac_export.send.rate and ac_export.lane.wait: one value per shard send that finished (the wait is 0 for a
  shard that stopped before it entered its account's lane);
- ac_export.run.duration: one value per run.
Attributes are export, status, outcome, account_host, status_code: never a run id (cardinality) or contact data.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import metrics

from shared.events import (
    DIM_ACCOUNT_HOST,
    DIM_EXPORT,
    DIM_OUTCOME,
    DIM_STATUS,
    DIM_STATUS_CODE,
    METRIC_AC_RESPONSES,
    METRIC_LANE_WAIT,
    METRIC_PROFILES,
    METRIC_RUN_DURATION,
    METRIC_SEND_RATE,
)
from shared.models import Run

_meter = metrics.get_meter("shared")
_profiles = _meter.create_counter(METRIC_PROFILES, unit="{profile}", description="Profiles by outcome")
_responses = _meter.create_counter(METRIC_AC_RESPONSES, unit="{response}", description="ActiveCampaign answers")
_send_rate = _meter.create_histogram(METRIC_SEND_RATE, unit="{contact}/s", description="Contacts sent per second")
_lane_wait = _meter.create_histogram(METRIC_LANE_WAIT, unit="s", description="Wait for the account lane")
_duration = _meter.create_histogram(METRIC_RUN_DURATION, unit="s", description="Run duration")


def record_run_finished(run: Run) -> None:
    attrs = {DIM_EXPORT: run.export, DIM_STATUS: run.status.value}
    c = run.counts
    for outcome, value in (
        ("read", c.profiles_read),
        ("sent", c.sent),
        ("confirmed", c.confirmed),
        ("rejected", c.rejected),
        ("invalid", c.invalid),
        ("removed", c.removed),
    ):
        if value:
            _profiles.add(value, {**attrs, DIM_OUTCOME: outcome})
    if run.timings.duration_s is not None:
        _duration.record(run.timings.duration_s, attrs)


def record_shard(export: str, account_host: str, *, sent: int, seconds: float, lane_wait_s: float) -> None:
    attrs = {DIM_EXPORT: export, DIM_ACCOUNT_HOST: account_host}
    if sent and seconds > 0:
        _send_rate.record(sent / seconds, attrs)
    _lane_wait.record(lane_wait_s, attrs)


def record_ac_responses(export: str, account_host: str, statuses: Mapping[int, int]) -> None:
    """Count the ActiveCampaign answers that were not a success (429 throttled, 5xx unavailable, ...)."""
    attrs = {DIM_EXPORT: export, DIM_ACCOUNT_HOST: account_host}
    for status, count in statuses.items():
        if status >= 400 and count:
            _responses.add(count, {**attrs, DIM_STATUS_CODE: status})


__all__ = ["record_ac_responses", "record_run_finished", "record_shard"]
