"""SSRF: an ActiveCampaign hostname can never make the app call inside the network.

Every notation is refused by the check meant for it, and each case asserts that check's reason.
The world's DNS is stubbed the way real resolvers answer, so that deleting one check lets its
cases through to another check (with another reason) or all the way to "ActiveCampaign" (201):
- a name resolves to the address it spells (`127.0.0.1.nip.io` -> 127.0.0.1, as nip.io does);
- an IP literal in any notation getaddrinfo reads resolves to itself (`2130706433` -> 127.0.0.1);
- internal names resolve inside (localhost -> 127.0.0.1, metadata.google.internal -> 169.254.169.254);
- `WORLD` names resolve to what it says (public names, and names an attacker points inside).
The product's own save-time check (check_resolves_publicly) runs with the event loop's getaddrinfo
replaced by the stub; the connect-time resolver (PublicOnlyResolver) is fed the same addresses.
Also here: DNS rebinding at request time, and redirects from ActiveCampaign.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

import shared.security.resolver as resolver_module
from shared.errors import InvalidInput
from shared.secrets import LocalSecretProvider
from shared.security import check_resolves_publicly
from shared.services import Services, close_services, use_services
from tests.api.client import ADMIN, ApiClient
from tests.api.conftest import Emu, ProdFactory, api_settings, connection_body
from tests.security.conftest import AC_USER, FakeFactory, redirect_to

LITERAL = "must be a DNS name, not an IP address"
INTERNAL = "names an internal host"
SINGLE_LABEL = "single-label names are internal"
PORT = "must not name a port"
INSIDE = "resolves to a private or internal address"
NO_ANSWER = "does not resolve"
INVALID = "is not a valid DNS name"

WORLD: dict[str, list[str]] = {
    # public names
    "acct.api-us1.com": ["52.20.1.7"],
    "xn--pi-us1-2nf.com": ["52.20.1.8"],  # a Cyrillic look-alike of api-us1.com: another, public, name
    # internal names, as an internal resolver answers them
    "localhost": ["127.0.0.1"],
    "metadata": ["169.254.169.254"],
    "metadata.google.internal": ["169.254.169.254"],
    "instance-data.ec2.internal": ["169.254.169.254"],
    "printer.local": ["192.168.1.20"],
    "db.corp": ["10.0.0.9"],
    "intranet": ["10.0.0.7"],
    "xn--lcalhost-nbh": ["127.0.0.1"],  # "localhost" with a Cyrillic o (U+043E)
    # names an attacker points inside
    "loop6.attacker.net": ["::1"],
    "mapped.attacker.net": ["::ffff:10.0.0.1"],
    "mapped-public.attacker.net": ["::ffff:52.20.1.7"],
    "compat.attacker.net": ["::7f00:1"],
    "sixtofour.attacker.net": ["2002:7f00:1::1"],
    "sixtofour-public.attacker.net": ["2002:3414:107::1"],
    "teredo.attacker.net": ["2001:0:4136:e378:8000:63bf:80ff:fffe"],
    "nat64.attacker.net": ["64:ff9b::a9fe:a9fe"],
    "sitelocal.attacker.net": ["fec0::1"],
    "ula.attacker.net": ["fd12:3456::1"],
    "linklocal6.attacker.net": ["fe80::1"],
    "mixed.attacker.net": ["52.20.1.9", "192.168.1.10"],  # one inside answer among public ones
}


def spelled_address(host: str) -> list[str]:
    """What the stubbed DNS answers for `host`: WORLD, the address a nip.io name spells, or a literal itself."""
    if host in WORLD:
        return WORLD[host]
    if host.endswith(".nip.io"):
        return [str(ipaddress.IPv4Address(host.removesuffix(".nip.io").replace("-", ".")))]
    bare = host.strip("[]").split("%")[0]
    try:
        return [str(ipaddress.ip_address(bare))]
    except ValueError:
        pass
    try:
        return [socket.inet_ntoa(socket.inet_aton(host))]  # 2130706433, 0x7f.1, 127.1: what getaddrinfo reads
    except OSError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


async def spelled_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """The event loop's getaddrinfo, answered by `spelled_address`."""
    return [
        (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
        for a in spelled_address(host)
    ]


# (hostname as typed, the reason that must refuse it, what else the message must say)
CASES: list[tuple[str, str, str]] = [
    # IP literals, in every notation, refused before any DNS
    ("2130706433", LITERAL, ""),  # 127.0.0.1 as one decimal number
    ("0x7f000001", LITERAL, ""),  # ... as hex
    ("017700000001", LITERAL, ""),  # ... as octal
    ("0177.0.0.1", LITERAL, ""),  # octal first octet
    ("127.1", LITERAL, ""),  # short form
    ("0x7f.0x0.0x0.0x1", LITERAL, ""),
    ("0", LITERAL, ""),
    ("0.0.0.0", LITERAL, ""),
    ("100.64.0.1", LITERAL, ""),  # carrier-grade NAT
    ("168.63.129.16", LITERAL, ""),  # Azure's WireServer
    ("169.254.169.254", LITERAL, ""),
    ("1.2.3.4", LITERAL, ""),  # a public literal is still a literal
    ("1.2.3.4:443", LITERAL, ""),
    ("127.0.0.1:8085", LITERAL, ""),  # a port does not make it a name
    ("[::ffff:127.0.0.1]", LITERAL, ""),  # IPv4-mapped IPv6
    ("[::ffff:a9fe:a9fe]", LITERAL, ""),  # 169.254.169.254, mapped, in hex
    ("[fd00::1]", LITERAL, ""),  # unique local
    ("[fe80::1%25eth0]", LITERAL, ""),  # link-local with a zone
    ("[2002:7f00:1::1]", LITERAL, ""),  # 6to4 of 127.0.0.1
    ("::1", LITERAL, ""),
    ("https://169.254.169.254/", LITERAL, ""),
    ("http://[::1]/", LITERAL, ""),
    ("127\u30020\u30020\u30021", LITERAL, ""),  # ideographic full stops, which IDNA maps to dots
    ("\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11", LITERAL, ""),  # fullwidth digits and dots
    ("\uff11\uff12\uff17.0.0.1\uff1a\uff14\uff14\uff13", LITERAL, ""),  # fullwidth digits and port
    ("foo.0x7f", LITERAL, ""),  # a numeric last label: URL parsers read the name as an IPv4 address
    # names that resolve inside: the DNS check names the address and why it is not public
    ("127.0.0.1.nip.io", INSIDE, "127.0.0.1: loopback"),
    ("10.1.2.3.nip.io", INSIDE, "10.1.2.3: private"),
    ("100.64.0.1.nip.io", INSIDE, "100.64.0.1: carrier-grade NAT"),
    ("168.63.129.16.nip.io", INSIDE, "168.63.129.16: Azure's WireServer address"),
    ("169.254.169.254.nip.io", INSIDE, "169.254.169.254: the instance metadata address"),
    ("0.0.0.0.nip.io", INSIDE, "0.0.0.0: unspecified"),
    ("224.0.0.1.nip.io", INSIDE, "224.0.0.1: multicast"),
    ("loop6.attacker.net", INSIDE, "::1: loopback"),
    ("mapped.attacker.net", INSIDE, "::ffff:10.0.0.1: IPv4-mapped, embedding 10.0.0.1"),
    ("mapped-public.attacker.net", INSIDE, "IPv4-mapped, embedding 52.20.1.7"),
    ("compat.attacker.net", INSIDE, "::7f00:1: IPv4-compatible, embedding 127.0.0.1"),
    ("sixtofour.attacker.net", INSIDE, "2002:7f00:1::1: 6to4, embedding 127.0.0.1"),
    ("sixtofour-public.attacker.net", INSIDE, "6to4, embedding 52.20.1.7"),
    ("teredo.attacker.net", INSIDE, "Teredo, embedding 127.0.0.1"),
    ("nat64.attacker.net", INSIDE, "NAT64, embedding 169.254.169.254"),
    ("sitelocal.attacker.net", INSIDE, "fec0::1: site-local"),
    ("ula.attacker.net", INSIDE, "fd12:3456::1: private"),
    ("linklocal6.attacker.net", INSIDE, "fe80::1: link-local"),
    ("mixed.attacker.net", INSIDE, "192.168.1.10: private"),
    ("nowhere.attacker.net", NO_ANSWER, ""),
    # internal names (they resolve inside too: the name check refuses them first)
    ("localhost", INTERNAL, ""),
    ("LOCALHOST", INTERNAL, ""),
    ("localhost.", INTERNAL, ""),
    ("\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54", INTERNAL, ""),  # fullwidth "localhost"
    ("metadata", INTERNAL, ""),
    ("metadata.google.internal", INTERNAL, ""),
    ("instance-data.ec2.internal", INTERNAL, ""),
    ("printer.local", INTERNAL, ""),
    ("db.corp", INTERNAL, ""),
    # single-label names
    ("intranet", SINGLE_LABEL, ""),
    ("l\u043ecalhost", SINGLE_LABEL, ""),  # Cyrillic o: not localhost, but still one label
    # ports and URL shapes
    ("acct.api-us1.com:8443", PORT, ""),
    ("http://acct.api-us1.com:80/", PORT, ""),
    ("https://user:pass@acct.api-us1.com/", "must not carry credentials", ""),
    ("ftp://acct.api-us1.com", "must be a hostname or an https:// URL", ""),
    ("//acct.api-us1.com", "must be a hostname such as", ""),
    ("acct.api-us1.com/../../latest/meta-data", "must be a hostname such as", ""),
    ("https://acct.api-us1.com/latest/meta-data", "without a path", ""),
    ("acct.api-us1.com\x00.internal", "must not contain control characters", ""),
    ("acct_1.api-us1.com", INVALID, ""),
]


@pytest.fixture
async def spelled(prod: ProdFactory, monkeypatch: pytest.MonkeyPatch) -> Services:
    """Production settings, the product's own DNS check, and a DNS where names resolve to what they spell."""
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", spelled_getaddrinfo)
    return await prod(auth_enabled=True, resolver=check_resolves_publicly)  # AC hostnames reach the emulator


@pytest.mark.parametrize(("hostname", "reason", "detail"), CASES)
async def test_each_notation_is_refused_by_the_check_meant_for_it(
    api: ApiClient, spelled: Services, emu: Emu, unique: str, hostname: str, reason: str, detail: str
) -> None:
    services = spelled
    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(hostname, emu.key))

    assert (reply.status, reply.fields) == (400, ["hostname"]), reply.body
    message = reply.error["details"][0]["message"]
    assert reason in message and detail in message, message
    assert emu.server.metrics.request_counts() == {}  # the key went nowhere
    assert await services.connections.find(unique) is None


@pytest.mark.parametrize(
    ("hostname", "stored"),
    [
        ("acct.api-us1.com", "acct.api-us1.com"),
        ("https://Acct.api-us1.com/", "acct.api-us1.com"),
        ("acct.api-us1.com:443", "acct.api-us1.com"),
        ("\uff21\uff23\uff23\uff34\uff0eapi-us1.com", "acct.api-us1.com"),  # fullwidth, mapped by UTS 46
        ("52.20.1.7.nip.io", "52.20.1.7.nip.io"),  # a name that spells a public address is a public name
        ("\u0430pi-us1.com", "xn--pi-us1-2nf.com"),  # a look-alike is stored as punycode: admins see it
    ],
)
async def test_public_names_pass_the_same_checks_and_are_stored_normalised(
    api: ApiClient, spelled: Services, emu: Emu, unique: str, hostname: str, stored: str
) -> None:
    # the control: the same stubbed DNS and checks accept public names (the DNS does not refuse everything)
    services = spelled
    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(hostname, emu.key))

    assert reply.status == 201, reply.body
    assert reply.json()["hostname"] == stored
    assert (await services.connections.get(unique)).doc.hostname == stored


INSIDE_ADDRESSES = [(WORLD.get(h) or spelled_address(h))[-1] for h, reason, _ in CASES if reason == INSIDE]


@pytest.mark.parametrize("address", INSIDE_ADDRESSES)
async def test_save_time_and_connect_time_refuse_an_address_for_the_same_reason(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    # one name, resolving to `address`, checked by the save-time DNS check and by the connect-time resolver
    monkeypatch.setitem(WORLD, "probe.attacker.net", [address])
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", spelled_getaddrinfo)
    resolver = resolver_module.PublicOnlyResolver(ScriptedResolver({"probe.attacker.net": [address]}))

    with pytest.raises(InvalidInput) as at_save:
        await check_resolves_publicly("probe.attacker.net")
    with pytest.raises(resolver_module.PrivateAddressRefused) as at_connect:
        await resolver.resolve("probe.attacker.net", 443)

    # both say the name resolves inside, and give the same "(<address>: <why>)"
    saved, connected = at_save.value.details[0].message, str(at_connect.value)
    why = re.search(r"\((.+)\)$", saved)
    assert why is not None and why.group(1).startswith(f"{address}: "), saved
    assert INSIDE in saved and INSIDE in connected and connected.endswith(f"({why.group(1)})"), connected


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
