"""`python -m shared.api OUT.json`: write the OpenAPI document without a server.

The console's build (console/package.json `openapi`) generates its TypeScript types from it, so the
console's types are never copied by hand and a change to the routes table or a model breaks its type check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.api.openapi import openapi_document


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m shared.api OUT.json\n")
        return 2
    Path(argv[0]).write_text(json.dumps(openapi_document(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
