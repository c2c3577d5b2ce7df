"""`make up`: the local equivalent of `func start`, in the foreground.  Ctrl-C stops everything it started.

- Azurite on 127.0.0.1:10000 (blob) and 10001 (queue), data kept in .local/azurite;
- the ActiveCampaign emulator on 127.0.0.1:8085 with API key local-dev-key;
- the stand-in host with function_app: the HTTP API on http://127.0.0.1:7071/api/, the web console on
  http://127.0.0.1:7071/api/console/ (built by `make up` first), the timer, the queues.

Settings come from local.settings.json (created from local.settings.sample.json if missing), under the
environment.  Override the ports and key with AC_EMULATOR_PORT, AC_EMULATOR_KEY and API_PORT.  Entries of
AC_ALLOWED_LOCAL_HOSTS in the environment are kept and the stack's emulator is added, so a second emulated
account (`python -m local.activecampaign_emulator --port 8086`) can be connected as http://127.0.0.1:8086/.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys

from local.azurite import REPO_ROOT
from local.host import load_app_settings
from local.stack import SAMPLE_SETTINGS, LocalStack, StackOptions

SETTINGS = REPO_ROOT / "local.settings.json"


async def main() -> int:
    if not SETTINGS.exists():
        shutil.copyfile(SAMPLE_SETTINGS, SETTINGS)
        print(f"up: created {SETTINGS.name} from {SAMPLE_SETTINGS.name}")
    emulator_port = int(os.environ.get("AC_EMULATOR_PORT", "8085"))
    key = os.environ.get("AC_EMULATOR_KEY", "local-dev-key")
    settings = load_app_settings(SETTINGS)  # AC_ALLOWED_LOCAL_HOSTS entries are kept; the stack adds its emulator's
    options = StackOptions(
        azurite_blob_port=10000,
        azurite_queue_port=10001,
        azurite_location=REPO_ROOT / ".local" / "azurite",
        emulator_port=emulator_port,
        emulator_key=key,
        http_port=int(os.environ.get("API_PORT", "7071")),
        settings={k: v for k, v in settings.items() if k != "AzureWebJobsStorage"},
        log_dir=REPO_ROOT / ".local",
    )
    (REPO_ROOT / ".local").mkdir(exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with LocalStack(options) as stack:
        assert stack.host is not None and stack.emulator is not None
        print("up: Azurite        blob 127.0.0.1:10000, queue 127.0.0.1:10001 (data in .local/azurite)")
        print(f"up: AC emulator    {stack.emulator.url}  API key: {key}")
        print(f"up: allowed AC hosts (plain http): {stack.settings['AC_ALLOWED_LOCAL_HOSTS']}")
        print(f"up: HTTP API       {stack.host.http_url}/api/  (OpenAPI: {stack.host.http_url}/api/openapi.json)")
        print(f"up: Console        {stack.console_url}  (local sign-in: pick a name and a role)")
        print(f"up: functions      {', '.join(sorted(stack.host.specs))}")
        print("up: ready; Ctrl-C stops everything")
        await stop.wait()
        print("\nup: stopping")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
