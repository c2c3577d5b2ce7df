"""An aiohttp resolver that refuses names resolving to non-public addresses (SSRF, DNS rebinding).

The hostname was checked when the connection was saved; this re-checks every lookup
at request time, with the same classification (`address_refusal`), so a name that later
resolves inside the network is still refused.
IP literals never reach a resolver (aiohttp connects to them directly); the only IP
hosts we ever call are the local-development hosts an operator allowed explicitly.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from shared.security.hostname import PRIVATE_REASON, refused_addresses


class PrivateAddressRefused(OSError):
    """A name resolved to a private, loopback, link-local or metadata address: the connection is refused."""


class PublicOnlyResolver(AbstractResolver):
    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        refused = refused_addresses(str(r["host"]) for r in results) if results else "no address"
        if refused is not None:
            raise PrivateAddressRefused(f"refused to connect to {host}: it {PRIVATE_REASON} ({refused})")
        return results

    async def close(self) -> None:
        await self._inner.close()

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - passthrough for aiohttp internals
        return getattr(self._inner, name)


__all__ = ["PrivateAddressRefused", "PublicOnlyResolver"]
