"""Careless code in a child process, for the leak probe's self-test (never run by the suite otherwise).

    python -m tests.security.child_tap tests.security.plant_child KEY EMAIL

Logs KEY and EMAIL raw at DEBUG on a product logger, puts KEY hex-encoded in a span attribute, builds
an ExportError with KEY URL-encoded, then dies of an uncaught exception whose text holds KEY inside a
base64-encoded JSON document.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from urllib.parse import quote

from shared.errors import InvalidInput
from shared.tracing import tracer

logger = logging.getLogger("shared.planted")


def main() -> None:
    key, email = sys.argv[1:3]
    logger.debug("calling ActiveCampaign with %s for %s", key, email)
    with tracer.start_as_current_span("planted", attributes={"digest": key.encode().hex()}):
        pass
    InvalidInput.for_field("hostname", f"refused https://acct.api-us1.com/?api_key={quote(key, safe='')}")
    token = base64.b64encode(json.dumps({"v": 1, "apiKey": key}).encode()).decode()
    raise RuntimeError(f"could not parse the session token {token}")


if __name__ == "__main__":
    main()
