"""The telemetry contract: event names, dimensions and metric names.

The code emits these; the alert rules and the workbook in infra/ query them (KQL on
the `traces` and `customMetrics` tables), and tests/infra checks that they agree.
Structured log records carry the event name in `customDimensions.event` and the
dimensions below as further customDimensions.  No dimension ever holds an email,
a name, a phone number or a key.
"""

from __future__ import annotations

from typing import Final

# customDimensions keys
DIM_EVENT: Final = "event"
DIM_EXPORT: Final = "export"
DIM_RUN: Final = "run"
DIM_SHARD: Final = "shard"
DIM_ACCOUNT_HOST: Final = "account_host"
DIM_STATUS: Final = "status"
DIM_QUEUE: Final = "queue"
DIM_OUTCOME: Final = "outcome"  # metric attribute of METRIC_PROFILES
DIM_STATUS_CODE: Final = "status_code"  # metric attribute of METRIC_AC_RESPONSES

# Log events (one structured record each)
EVENT_RUN_STARTED: Final = "run.started"
EVENT_RUN_FINISHED: Final = "run.finished"  # + status and every count of the run, duration_s, rate_limited
EVENT_SHARD_FINISHED: Final = "shard.finished"  # + sent, confirmed, rejected, retries, duration_ms, lane_wait_s
EVENT_EXPORT_CHECKED: Final = "export.checked"  # the timer saw an enabled export (+ due: true/false)
EVENT_MESSAGE_POISONED: Final = "message.poisoned"  # + queue

# Counts carried by run.finished (customDimensions keys)
RUN_COUNT_KEYS: Final = (
    "profiles_read",
    "invalid",
    "duplicates",
    "unchanged",
    "to_send",
    "sent",
    "confirmed",
    "rejected",
    "removed",
    "opted_out",
    "rate_limited",
    "duration_s",
)

# Metrics (customMetrics.name); attributes are dimensions above plus `outcome` / `status_code`
METRIC_PROFILES: Final = "ac_export.profiles"  # counter, attribute outcome=read|sent|confirmed|rejected|invalid
METRIC_AC_RESPONSES: Final = "ac_export.ac.responses"  # counter, attribute status_code (429, 503, ...)
METRIC_SEND_RATE: Final = "ac_export.send.rate"  # histogram, contacts per second per shard
METRIC_LANE_WAIT: Final = "ac_export.lane.wait"  # histogram, seconds a shard waited for its account lane
METRIC_RUN_DURATION: Final = "ac_export.run.duration"  # histogram, seconds from start to a final status

# Run statuses (as shown by the API and in run.finished)
FINAL_STATUSES: Final = ("Succeeded", "PartiallySucceeded", "Failed", "Canceled", "Skipped")
