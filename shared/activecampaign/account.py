"""Which ActiveCampaign account a hostname reaches: the key that budgets, lanes and incremental state share.

AC names each account once, as the first label of its hosts: the API host `<account>.api-us1.com` (other
regions: `api-<xx><n>.com`) and the app host `<account>.activehosted.com` reach the same account, which
accepts `/api/3` on both.  Two connections that name one account by different hosts must share its one rate
budget and lane, and one export's incremental state must not fork because a hostname was respelled.  Any
other host (a custom domain, the local emulator's `127.0.0.1:<port>`) is its own account, keyed by its
normalised host and port.
"""

from __future__ import annotations

import re
from typing import Final

AC_HOST: Final = re.compile(
    r"^(?P<account>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.(?:api-[a-z]{2}\d+\.com|activehosted\.com)$"
)
AC_SUFFIX: Final = ".activecampaign"


def account_key(hostname: str) -> str:
    """'Acme.api-us1.com.' and 'acme.activehosted.com:443' -> 'acme.activecampaign'; '127.0.0.1:8085' stays."""
    host = hostname.strip().lower().rstrip(".").removesuffix(":443").rstrip(".")
    match = AC_HOST.fullmatch(host)
    return match["account"] + AC_SUFFIX if match else host


def storage_key(hostname: str) -> str:
    """The account key as one blob-name segment (no ':' or '/')."""
    return account_key(hostname).replace(":", "_").replace("/", "_")


__all__ = ["account_key", "storage_key"]
