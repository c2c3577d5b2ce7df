"""Emulator: one AC account in memory, plus its budgets, faults, metrics and clock.

This object is what the HTTP routes work on and what in-process tests inspect (`EmulatorServer.emulator`,
with `.state`, `.budgets`, `.metrics`, `.faults` and `.config`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from local.activecampaign_emulator.clock import Clock, monotonic_clock
from local.activecampaign_emulator.config import EmulatorConfig
from local.activecampaign_emulator.config_io import apply_patch, coerce_patch, config_to_dict
from local.activecampaign_emulator.faults import Faults
from local.activecampaign_emulator.gcwatch import GcWatch
from local.activecampaign_emulator.metrics import Metrics
from local.activecampaign_emulator.ratelimit import AccountBudgets
from local.activecampaign_emulator.state import AccountState


class Emulator:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock = monotonic_clock,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config if config is not None else EmulatorConfig()
        coerce_patch(config_to_dict(self.config))  # the same checks as a run-time patch (raises ConfigError)
        self.initial_config = copy.deepcopy(self.config)
        self.clock = clock
        self.wall = wall
        self.origin = clock()
        self.state = AccountState(self.config, wall)
        self.budgets = AccountBudgets(self.config)
        self.metrics = Metrics(self.config.log_limit)
        self.metrics.reset(self.origin)
        self.faults = Faults(self.config)
        self.faults.arm_storm(self.origin)
        self.gc_watch = GcWatch()

    def since_start(self) -> float:
        """Seconds since start/reset on the emulator clock (the time base of every inspection log)."""
        return self.clock() - self.origin

    def is_valid_key(self, key: str | None) -> bool:
        return key is not None and key in self.config.api_keys and key not in self.config.revoked_keys

    def user_id(self, key: str) -> int:
        return self.config.api_keys.index(key) + 1

    def patch_config(self, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a config patch (all or nothing; raises ConfigError) and re-arm what depends on it."""
        changed = apply_patch(self.config, patch)
        self.metrics.log_limit = self.config.log_limit
        self.faults.on_config(changed, self.clock())
        return config_to_dict(self.config)

    def reset(self, *, config: bool = False) -> None:
        """Forget state, counters and logs; with config=True also go back to the config given at start."""
        if config:
            for name, value in config_to_dict(self.initial_config).items():
                setattr(self.config, name, copy.deepcopy(value))
        self.origin = self.clock()
        self.state.reset()
        self.budgets.reset()
        self.metrics.log_limit = self.config.log_limit
        self.metrics.reset(self.origin)
        self.faults.reset()
        self.faults.on_config(("fault_seed", "stall_bulk_after", "hold_bulk_answer_after"), self.origin)
        self.faults.arm_storm(self.origin)
