"""host.json and local.settings.json, read the way the Functions host reads them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2}(?:\.\d+)?)$")


def parse_timespan(value: str) -> float:
    """'00:00:30' / '1.02:00:00' / '00:00:00.5' -> seconds (the host's TimeSpan format)."""
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise ValueError(f"not a TimeSpan (d.hh:mm:ss): {value!r}")
    days = int(match["days"] or 0)
    return days * 86400 + int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])


@dataclass(frozen=True)
class QueuesConfig:
    """host.json extensions.queues, with the runtime's defaults for anything left out."""

    batch_size: int = 16
    new_batch_threshold: int | None = None
    max_polling_interval_s: float = 60.0
    visibility_timeout_s: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @property
    def fetch_threshold(self) -> int:
        # The runtime's default newBatchThreshold is batchSize / 2 (per core on Consumption).
        return self.new_batch_threshold if self.new_batch_threshold is not None else self.batch_size // 2

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> QueuesConfig:
        encoding = str(block.get("messageEncoding", "base64")).lower()
        if encoding not in ("base64", "none"):
            raise ValueError(f"host.json queues.messageEncoding must be base64 or none, got {encoding!r}")
        batch = int(block.get("batchSize", 16))
        if not 1 <= batch <= 32:
            raise ValueError("host.json queues.batchSize must be between 1 and 32")
        threshold = block.get("newBatchThreshold")
        return cls(
            batch_size=batch,
            new_batch_threshold=None if threshold is None else int(threshold),
            max_polling_interval_s=parse_timespan(str(block.get("maxPollingInterval", "00:01:00"))),
            visibility_timeout_s=parse_timespan(str(block.get("visibilityTimeout", "00:00:00"))),
            max_dequeue_count=int(block.get("maxDequeueCount", 5)),
            message_encoding=encoding,
        )


@dataclass(frozen=True)
class HostConfig:
    queues: QueuesConfig
    route_prefix: str = "api"
    function_timeout_s: float | None = None

    @classmethod
    def load(cls, path: Path) -> HostConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != "2.0":
            raise ValueError(f"{path}: version must be '2.0'")
        extensions = data.get("extensions", {})
        http = extensions.get("http", {})
        timeout = data.get("functionTimeout")
        return cls(
            queues=QueuesConfig.from_json(extensions.get("queues", {})),
            route_prefix=str(http.get("routePrefix", "api")).strip("/"),
            function_timeout_s=parse_timespan(timeout) if timeout else None,
        )


def load_app_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """local.settings.json Values under the process environment, as `func start` does.

    A variable already set in the environment wins over the file's value (Core Tools
    prints "Skipping '<key>' from local settings as it's already defined").
    """
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    if path is not None and path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("IsEncrypted"):
            raise ValueError(f"{path}: encrypted local settings are not supported by the stand-in host")
        values = {str(k): str(v) for k, v in data.get("Values", {}).items()}
    merged = dict(values)
    merged.update(environ)
    return merged


def resolve_setting_reference(value: str, settings: Mapping[str, str]) -> str:
    """Resolve the host's %NAME% indirection (whole value or embedded)."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise KeyError(f"app setting {name!r} (referenced as %{name}%) is not set")
        return settings[name]

    return re.sub(r"%([A-Za-z0-9_:.\-]+)%", repl, value)
