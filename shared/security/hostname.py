"""The ActiveCampaign REST endpoint hostname: normalised, and refused when it could reach inside (SSRF).

A hostname must be a public DNS name: IP literals (in any notation), localhost,
single-label and internal names are refused, and so is a name that resolves to a
private, loopback, link-local, reserved or metadata address.  A local-development
setting (AC_ALLOWED_LOCAL_HOSTS, refused in Azure) opens exact `host:port`
entries, reached over plain http without the DNS check, for the emulator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from shared.errors import InvalidInput

INTERNAL_SUFFIXES: Final = (
    ".local",
    ".localhost",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".private",
    ".arpa",
    ".test",
    ".invalid",
    ".example",
    ".onion",
)
BLOCKED_NAMES: Final = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data"})
LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
FIELD: Final = "hostname"


def _refuse(message: str) -> InvalidInput:
    return InvalidInput.for_field(FIELD, message)


def normalise_hostname(raw: str, *, allowed_local: Iterable[str] = ()) -> str:
    """'https://Acct.api-us1.com/' -> 'acct.api-us1.com'.  Raises InvalidInput naming `hostname`."""
    text = raw.strip()
    if not text:
        raise _refuse("is required")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise _refuse("must not contain control characters")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("https", "http"):
            raise _refuse("must be a hostname or an https:// URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise _refuse("must not carry credentials, a query or a fragment")
        if parts.path not in ("", "/", "/api/3", "/api/3/"):
            raise _refuse("paste the API URL from ActiveCampaign's Settings > Developer, without a path")
        text = parts.netloc
    elif "/" in text or "@" in text:
        raise _refuse("must be a hostname such as youraccount.api-us1.com")
    host = text.lower().rstrip(".")
    if host in {h.lower() for h in allowed_local}:
        return host  # exactly an allowed local-development host:port (the emulator)
    if ":" in host and not host.startswith("["):
        name, _, port = host.rpartition(":")
        if port != "443":
            raise _refuse("must not name a port (ActiveCampaign is reached over https on 443)")
        host = name
    if _is_ip_literal(host):
        raise _refuse("must be a DNS name, not an IP address")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _refuse("is not a valid DNS name") from None
    labels = host.split(".")
    if len(host) > 253 or not all(LABEL.match(label) for label in labels):
        raise _refuse("is not a valid DNS name")
    if len(labels) < 2:
        raise _refuse(
            "must be a fully qualified name such as youraccount.api-us1.com (single-label names are internal)"
        )
    if host in BLOCKED_NAMES or host.endswith(INTERNAL_SUFFIXES) or labels[-1].isdigit():
        raise _refuse("names an internal host")
    return host


def _is_ip_literal(host: str) -> bool:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
        return True
    except ValueError:
        pass
    # inet_aton also accepts 127.1, 2130706433, 0x7f.1 and other shorthands
    try:
        socket.inet_aton(candidate)
        return True
    except (OSError, ValueError):
        return False


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))
    )


async def check_resolves_publicly(host: str) -> None:
    """Refuse a name whose addresses include a non-public one (or that does not resolve)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        raise _refuse(f"{host} does not resolve; check the REST endpoint hostname") from None
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise _refuse(f"{host} resolves to a private or internal address")


__all__ = ["check_resolves_publicly", "is_public_address", "normalise_hostname"]
