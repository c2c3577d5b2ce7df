"""SSRF: an ActiveCampaign hostname can never make the app call inside the network.

tests/api covers the plain cases (10.0.0.5, 169.254.169.254, localhost, an intranet name,
0x7f.1, [::1], a name the fake DNS maps to 10.0.0.5).  Here: IP literals in every odd notation,
Unicode look-alikes, names that resolve inside (through the product's own DNS check, with the
event loop's resolver replaced: tests have no DNS), DNS rebinding at request time, and
redirects from ActiveCampaign, at save time and during a run.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

import shared.security.resolver as resolver_module
from shared.secrets import LocalSecretProvider
from shared.security import check_resolves_publicly
from shared.services import Services, close_services, use_services
from tests.api.client import ADMIN, ApiClient
from tests.api.conftest import Emu, ProdFactory, api_settings, connection_body
from tests.security.conftest import AC_USER, FakeFactory, redirect_to

INTERNAL_WRITINGS = [
    "2130706433",  # 127.0.0.1 as one decimal number
    "0x7f000001",  # ... as hex
    "017700000001",  # ... as octal
    "0177.0.0.1",  # octal first octet
    "127.1",  # short form
    "0x7f.0x0.0x0.0x1",
    "0",
    "0.0.0.0",
    "100.64.0.1",  # carrier-grade NAT
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:a9fe:a9fe]",  # 169.254.169.254, mapped, in hex
    "[fd00::1]",  # unique local
    "[fe80::1%25eth0]",  # link-local with a zone
    "::1",
    "1.2.3.4:443",  # a public literal is still a literal
    "https://169.254.169.254/",
    "http://[::1]/",
    "127\u30020\u30020\u30021",  # ideographic full stops, which IDNA reads as dots
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # fullwidth digits
    "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54",  # fullwidth "localhost"
    "l\u043ecalhost",  # Cyrillic o
    "localhost.",
    "LOCALHOST",
    "metadata",
    "metadata.google.internal",
    "instance-data.ec2.internal",
    "printer.local",
    "db.corp",
    "acct.api-us1.com:8443",  # another port
    "http://acct.api-us1.com:80/",
    "https://user:pass@acct.api-us1.com/",
    "ftp://acct.api-us1.com",
    "//acct.api-us1.com",
    "acct.api-us1.com/../../latest/meta-data",
]


@pytest.mark.parametrize("hostname", INTERNAL_WRITINGS)
async def test_internal_and_literal_hosts_are_refused_outside_local_development(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str, hostname: str
) -> None:
    services = await prod(auth_enabled=True)  # every AC hostname would be routed to the emulator

    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(hostname, emu.key))

    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body
    assert emu.server.metrics.request_counts() == {}  # the key went nowhere
    assert await services.connections.find(unique) is None


async def test_a_hostname_with_a_nul_byte_is_a_400_naming_hostname(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str
) -> None:
    await prod(auth_enabled=True)
    body = connection_body("acct.api-us1.com\x00.internal", emu.key)

    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=body)

    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body


async def test_a_look_alike_of_a_public_name_is_stored_in_its_punycode_form(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str
) -> None:
    # A Cyrillic "a" is a different (public) name: it is stored as punycode, so admins see it is not theirs.
    async def homograph_dns(host: str) -> None:
        assert host == "xn--pi-us1-2nf.com"

    await prod(auth_enabled=True, resolver=homograph_dns)
    reply = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("\u0430pi-us1.com", emu.key)
    )
    assert reply.status == 201, reply.body
    assert reply.json()["hostname"] == "xn--pi-us1-2nf.com"


def fake_getaddrinfo(world: dict[str, list[str]]) -> Any:
    """The event loop's getaddrinfo, answered from `world` (name -> addresses)."""

    async def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in world:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in world[host]
        ]

    return getaddrinfo


DNS = {
    "acct.api-us1.com": ["52.20.1.7"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "meta.example-cloud.com": ["169.254.169.254"],
    "ten.example.com": ["10.1.2.3"],
    "cgnat.example.com": ["100.64.1.1"],
    "zero.example.com": ["0.0.0.0"],
    "loop6.example.com": ["::1"],
    "mapped6.example.com": ["::ffff:10.0.0.1"],
    "ula6.example.com": ["fd12:3456::1"],
    "mixed.example.com": ["52.20.1.9", "192.168.1.10"],  # one private answer among public ones
}


@pytest.mark.parametrize(
    ("hostname", "why"),
    [
        *((name, "resolves to a private or internal address") for name in DNS if name != "acct.api-us1.com"),
        ("nowhere.example.com", "does not resolve"),
    ],
)
async def test_the_product_dns_check_refuses_names_that_resolve_inside(
    api: ApiClient,
    prod: ProdFactory,
    emu: Emu,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
    hostname: str,
    why: str,
) -> None:
    # the product's own check_resolves_publicly, with the loop's resolver answering from DNS
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo(DNS))
    services = await prod(auth_enabled=True, resolver=check_resolves_publicly)

    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(hostname, emu.key))

    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body
    assert why in reply.error["message"]
    assert emu.server.metrics.request_counts() == {}
    assert await services.connections.find(unique) is None


async def test_the_product_dns_check_accepts_a_public_name(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo(DNS))
    await prod(auth_enabled=True, resolver=check_resolves_publicly)

    reply = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("acct.api-us1.com", emu.key)
    )

    assert reply.status == 201, reply.body  # the control: the same path accepts a public name


class ScriptedResolver(AbstractResolver):
    """Answers each lookup of a name with the next address of its script (the last one repeats)."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        answers = self.script.get(host)
        if not answers:
            raise OSError(f"{host} does not resolve")
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        fam = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [ResolveResult(hostname=host, host=address, port=port, family=fam, proto=0, flags=0)]

    async def close(self) -> None:
        return None


async def test_the_request_time_resolver_refuses_a_name_that_starts_resolving_inside() -> None:
    # DNS rebinding: public when the connection was saved, private when the request is made
    inner = ScriptedResolver({"rebind.example.com": ["52.20.1.7", "127.0.0.1"], "acct.api-us1.com": ["52.20.1.8"]})
    resolver = resolver_module.PublicOnlyResolver(inner)

    first = await resolver.resolve("rebind.example.com", 443)
    with pytest.raises(OSError, match="private or internal"):
        await resolver.resolve("rebind.example.com", 443)
    for address in ("169.254.169.254", "::1", "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0"):
        inner.script["rebind.example.com"] = [address]
        with pytest.raises(OSError, match="private or internal"):
            await resolver.resolve("rebind.example.com", 443)

    assert first[0]["host"] == "52.20.1.7"
    assert (await resolver.resolve("acct.api-us1.com", 443))[0]["host"] == "52.20.1.8"


class LoopbackRoutedServices(Services):
    """Production Services whose AC base URL keeps the DNS name but names the fake account's port."""

    def __init__(self, *args: Any, port: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.port = port

    def account_base_url(self, hostname: str) -> str:
        return f"http://{hostname}:{self.port}/api/3"


async def test_a_rebound_name_is_refused_when_the_key_is_verified_and_the_inside_host_gets_nothing(
    api: ApiClient, app_containers: str, fake_host: FakeFactory, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an inside service on loopback, and a name the save-time DNS check saw as public ...
    inside = await fake_host({"GET /api/3/users/me": AC_USER})
    rebinding = ScriptedResolver({"rebind.example.com": ["127.0.0.1"]})
    monkeypatch.setattr(resolver_module, "DefaultResolver", lambda: rebinding)  # what the app's session resolves with

    async def public_at_save_time(host: str) -> None:
        return None

    settings = api_settings(app_containers, trust_principal_header=False, auth_enabled=True)
    services = LoopbackRoutedServices(
        settings, secrets=LocalSecretProvider(), resolver=public_at_save_time, port=inside.port
    )
    use_services(services)
    try:
        # ... when an admin saves a connection to it
        reply = await api.call(
            "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("rebind.example.com", "k" * 40)
        )
        saved = await services.connections.find(unique)
    finally:
        await close_services()

    # then the app's own resolver refused the private address: nothing reached the inside host, nothing was saved
    assert rebinding.lookups and set(rebinding.lookups) == {"rebind.example.com"}
    assert inside.seen == []
    assert saved is None
    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body  # refused at once, not retried as 503


async def test_a_rebound_name_is_refused_with_a_reason_that_says_it_resolves_inside(
    api: ApiClient, app_containers: str, fake_host: FakeFactory, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = await fake_host({"GET /api/3/users/me": AC_USER})
    monkeypatch.setattr(
        resolver_module, "DefaultResolver", lambda: ScriptedResolver({"rebind.example.com": ["127.0.0.1"]})
    )

    async def public_at_save_time(host: str) -> None:
        return None

    settings = api_settings(app_containers, trust_principal_header=False, auth_enabled=True)
    use_services(
        LoopbackRoutedServices(settings, secrets=LocalSecretProvider(), resolver=public_at_save_time, port=inside.port)
    )
    try:
        reply = await api.call(
            "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("rebind.example.com", "k" * 40)
        )
    finally:
        await close_services()

    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body
    assert "private or internal address" in reply.error["message"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_from_activecampaign_is_not_followed_when_the_key_is_verified(
    api: ApiClient, app_containers: str, fake_host: FakeFactory, unique: str, status: int
) -> None:
    other = await fake_host({"GET /api/3/users/me": AC_USER})
    account = await fake_host({"GET /api/3/users/me": redirect_to(f"{other.url}/api/3/users/me", status)})
    settings = api_settings(app_containers, local_hosts=frozenset({account.host, other.host}))
    services = Services(settings, secrets=LocalSecretProvider())
    use_services(services)
    try:
        reply = await api.call(
            "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(account.host, "k" * 40)
        )
        saved = await services.connections.find(unique)
    finally:
        await close_services()

    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body
    assert "did not answer like an ActiveCampaign API" in reply.error["message"]
    assert len(account.seen) == 1 and other.seen == []  # asked once; the key never travelled on
    assert saved is None
