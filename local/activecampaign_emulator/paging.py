"""Query helpers shared by the collection routes: limit/offset (default 20, max 100), orders, ints."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from local.activecampaign_emulator.config import EmulatorConfig
from local.activecampaign_emulator.render import json_response

MAX_LIMIT = 100


def int_param(query: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return default


def page(query: Mapping[str, str], config: EmulatorConfig, default_limit: int = 20) -> tuple[int, int] | web.Response:
    """(limit, offset); a limit over 100 is capped or refused per `config.limit_over_max`."""
    limit = int_param(query, "limit", default_limit) or default_limit
    if limit < 0:
        limit = default_limit
    if limit > MAX_LIMIT:
        if config.limit_over_max == "error":
            return json_response({"message": f"The limit may not be greater than {MAX_LIMIT}."}, status=400)
        limit = MAX_LIMIT
    offset = max(0, int_param(query, "offset", 0) or 0)
    return limit, offset


def descending(query: Mapping[str, str], field: str) -> bool | None:
    """orders[field]=ASC|DESC -> False|True; None when absent."""
    raw = query.get(f"orders[{field}]")
    return None if raw is None else raw.strip().upper() == "DESC"
