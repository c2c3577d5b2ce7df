"""A faithful local ActiveCampaign API v3 (one account), for tests, the demo and benchmarks.

Run it: `python -m local.activecampaign_emulator --port 8899 --api-key KEY` (see --help for every switch).
In process: `async with EmulatorServer(EmulatorConfig(...), port=0) as emu: ...` (see server.py).
Behaviour, switches and inspection routes: README.md in this package.
"""

from local.activecampaign_emulator.clock import ManualClock, monotonic_clock
from local.activecampaign_emulator.config import DEFAULT_API_KEY, EmulatorConfig
from local.activecampaign_emulator.config_io import ConfigError, config_docs
from local.activecampaign_emulator.emails import is_valid_email
from local.activecampaign_emulator.emulator import Emulator
from local.activecampaign_emulator.process import EmulatorProcess
from local.activecampaign_emulator.server import EmulatorServer, EmulatorThread, create_app
from local.activecampaign_emulator.state import AccountState

__all__ = [
    "DEFAULT_API_KEY",
    "AccountState",
    "ConfigError",
    "Emulator",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorServer",
    "EmulatorThread",
    "ManualClock",
    "config_docs",
    "create_app",
    "is_valid_email",
    "monotonic_clock",
]
