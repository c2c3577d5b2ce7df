"""The ActiveCampaign REST endpoint hostname: normalised, and refused when it could reach inside (SSRF).

A hostname must be a public DNS name.  `normalise_hostname` maps the text with IDNA's
UTS 46 rules first (the `idna` package: fullwidth digits and dots, ideographic full
stops, case), so every later check sees what a resolver would see, then refuses, each
with its own reason:
- IP literals in any notation (dotted, decimal, hex, octal, short forms, a numeric last
  label, bracketed or bare IPv6): LITERAL_REASON;
- ports other than 443, URLs with credentials, a query, a path or another scheme;
- localhost, metadata names and internal suffixes (.local, .internal, .corp...): INTERNAL_REASON;
- single-label names: SINGLE_LABEL_REASON; anything IDNA refuses: INVALID_REASON.
An allowed local host (AC_ALLOWED_LOCAL_HOSTS, refused in Azure) is an exact `host:port`
entry reached over plain http without the DNS check, for the emulator.

`address_refusal` classifies one resolved address with `ipaddress`: only `is_global`
addresses pass, and an explicit deny list refuses what `is_global` lets through or what
can reach inside: IPv4-mapped and IPv4-compatible IPv6, 6to4 and Teredo (whatever IPv4 they
embed, named in the reason), NAT64, site-local fec0::/10, CGNAT 100.64.0.0/10, multicast,
and Azure's platform addresses 168.63.129.16 (WireServer) and 169.254.169.254 (IMDS).
The save-time DNS check (`check_resolves_publicly`) and the connect-time resolver
(shared/security/resolver.py) both use it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

import idna

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
NUMERIC_LABEL: Final = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")  # what URL parsers read as an IPv4 part
FIELD: Final = "hostname"

LITERAL_REASON: Final = "must be a DNS name, not an IP address"
INTERNAL_REASON: Final = "names an internal host"
SINGLE_LABEL_REASON: Final = "single-label names are internal"
INVALID_REASON: Final = "is not a valid DNS name"
PORT_REASON: Final = "must not name a port (ActiveCampaign is reached over https on 443)"
PRIVATE_REASON: Final = "resolves to a private or internal address"
NO_ANSWER_REASON: Final = "does not resolve"

AZURE_PLATFORM: Final = {
    ipaddress.IPv4Address("168.63.129.16"): "Azure's WireServer address",
    ipaddress.IPv4Address("169.254.169.254"): "the instance metadata address",
}
DENIED_V4: Final = (
    (ipaddress.IPv4Network("100.64.0.0/10"), "carrier-grade NAT"),
    (ipaddress.IPv4Network("224.0.0.0/4"), "multicast"),
)
# IPv6 ranges that carry an IPv4 address (refused whatever it is; the reason names it)
EMBEDDING_V6: Final = (
    (ipaddress.IPv6Network("::ffff:0:0/96"), "IPv4-mapped"),
    (ipaddress.IPv6Network("::/96"), "IPv4-compatible"),
    (ipaddress.IPv6Network("2002::/16"), "6to4"),
    (ipaddress.IPv6Network("2001::/32"), "Teredo"),
    (ipaddress.IPv6Network("64:ff9b::/96"), "NAT64"),
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "local NAT64"),
)
DENIED_V6: Final = (
    (ipaddress.IPv6Network("fec0::/10"), "site-local"),
    (ipaddress.IPv6Network("ff00::/8"), "multicast"),
)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput.for_field(FIELD, message)


def normalise_hostname(raw: str, *, allowed_local: Iterable[str] = ()) -> str:
    """'https://Acct.api-us1.com/' -> 'acct.api-us1.com'.  Raises InvalidInput naming `hostname`."""
    text = raw.strip()
    if not text:
        raise _refuse("is required")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise _refuse("must not contain control characters")
    try:  # UTS 46 mapping first: what a resolver would look up (fullwidth forms, ideographic dots, case)
        text = idna.uts46_remap(text, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise _refuse(INVALID_REASON) from None
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("https", "http"):
            raise _refuse("must be a hostname or an https:// URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise _refuse("must not carry credentials, a query or a fragment")
        if parts.path not in ("", "/", "/api/3", "/api/3/"):
            raise _refuse("paste the API URL from ActiveCampaign's Settings > Developer, without a path")
        text = parts.netloc
    elif "/" in text or "@" in text:
        raise _refuse("must be a hostname such as youraccount.api-us1.com")
    host = text.rstrip(".")
    if host in {h.lower() for h in allowed_local}:
        return host  # exactly an allowed local host:port (the emulator)
    if host.startswith("[") or _is_ip_literal(host):
        raise _refuse(LITERAL_REASON)  # bracketed or bare IPv6 (a port cannot make it a name)
    port = None
    if ":" in host:
        host, _, port = host.rpartition(":")
    try:
        host = idna.encode(host, uts46=True, std3_rules=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        raise _refuse(LITERAL_REASON if _is_ip_literal(host) else INVALID_REASON) from None
    labels = host.split(".")
    if _is_ip_literal(host) or NUMERIC_LABEL.match(labels[-1]):
        raise _refuse(LITERAL_REASON)
    if port is not None and port != "443":
        raise _refuse(PORT_REASON)
    if len(host) > 253 or not all(LABEL.match(label) for label in labels):
        raise _refuse(INVALID_REASON)
    if host in BLOCKED_NAMES or host.endswith(INTERNAL_SUFFIXES):
        raise _refuse(INTERNAL_REASON)
    if len(labels) < 2:
        raise _refuse(f"must be a fully qualified name such as youraccount.api-us1.com ({SINGLE_LABEL_REASON})")
    return host


def _is_ip_literal(host: str) -> bool:
    """Any text a resolver or URL parser would take as an address: ipaddress's forms and inet_aton's shorthands."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    # inet_aton also accepts 127.1, 2130706433, 0x7f.1, 0177.0.0.1 and other shorthands
    try:
        socket.inet_aton(host)
        return True
    except (OSError, ValueError):
        return False


def address_refusal(address: str) -> str | None:
    """Why a resolved address must not be called (e.g. 'loopback'), or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if ip.is_loopback or ip.is_unspecified:
        return "loopback" if ip.is_loopback else "unspecified"
    if isinstance(ip, ipaddress.IPv4Address):
        if ip in AZURE_PLATFORM:
            return AZURE_PLATFORM[ip]
        denied = next((why for net, why in DENIED_V4 if ip in net), None)
    else:
        embedding = next((why for net, why in EMBEDDING_V6 if ip in net), None)
        if embedding is not None:
            return f"{embedding}, embedding {_embedded_ipv4(ip)}"
        denied = next((why for net, why in DENIED_V6 if ip in net), None)
    if denied is not None:
        return denied
    for flag in ("link_local", "private", "reserved", "multicast"):
        if getattr(ip, f"is_{flag}"):
            return flag.replace("_", "-")
    return None if ip.is_global else "not globally routable"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    """The IPv4 address a transition address carries (6to4: bits 16-47; Teredo: the client; others: the low 32)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def is_public_address(address: str) -> bool:
    return address_refusal(address) is None


def refused_addresses(addresses: Iterable[str]) -> str | None:
    """'10.0.0.5: private' for the first address that is not public, or None when every one is."""
    for address in addresses:
        why = address_refusal(address)
        if why is not None:
            return f"{address}: {why}"
    return None


async def check_resolves_publicly(host: str) -> None:
    """Refuse a name whose addresses include a non-public one (or that does not resolve)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        raise _refuse(f"{host} {NO_ANSWER_REASON}; check the REST endpoint hostname") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise _refuse(f"{host} {NO_ANSWER_REASON}; check the REST endpoint hostname")
    refused = refused_addresses(addresses)
    if refused is not None:
        raise _refuse(f"{host} {PRIVATE_REASON} ({refused})")


__all__ = [
    "INTERNAL_REASON",
    "INVALID_REASON",
    "LITERAL_REASON",
    "NO_ANSWER_REASON",
    "PORT_REASON",
    "PRIVATE_REASON",
    "SINGLE_LABEL_REASON",
    "address_refusal",
    "check_resolves_publicly",
    "is_public_address",
    "normalise_hostname",
    "refused_addresses",
]
