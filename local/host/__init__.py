"""The stand-in Functions host: runs function_app's real entry points against Azurite.

There is no Functions host on this machine (Core Tools downloads its binary from a CDN),
so this package does, for our three trigger types, what the host does:

- indexes `app.get_functions()` (duplicate names and unsupported bindings fail at start);
- timer triggers fire on their NCRONTAB schedule (the `%SETTING%` indirection resolved
  from the app settings), at start-up with runOnStartup, and once on request
  (`POST /admin/functions/<name>`, as the real host's admin API);
- queue triggers poll Azurite honouring host.json `queues` (batchSize, newBatchThreshold,
  maxPollingInterval, visibilityTimeout, maxDequeueCount -> `<queue>-poison`, base64);
- HTTP triggers are served by aiohttp at http://127.0.0.1:7071/<routePrefix>/<route>, with
  route parameters;
- queue output bindings are sent after the function succeeds;
- settings come from local.settings.json `Values`, under the process environment.

What it does NOT do that the real host does:
- no scale controller: one process, no instances added or removed (run several processes
  with `--functions` to split an app, as tests do to kill a worker);
- no identity-based connections: a binding's `connection` must name a connection string;
- no bindings other than timer, queue and HTTP triggers and queue/HTTP outputs;
- no Easy Auth in front of HTTP: the X-MS-CLIENT-PRINCIPAL header arrives as the client sent it;
- no timer singleton lock or schedule monitor (useMonitor) across processes;
- a message over maxDequeueCount found on receive (its worker died every time) goes to
  poison without running, where the real host would run it once more first;
- no function keys (every route is anonymous) and no Application Insights wiring.
"""

from local.host.config import HostConfig, QueuesConfig, load_app_settings
from local.host.host import StandInHost
from local.host.index import FunctionSpec, index_app

__all__ = ["FunctionSpec", "HostConfig", "QueuesConfig", "StandInHost", "index_app", "load_app_settings"]
