"""The hostname and address checks (shared/security/hostname.py) called directly, without the API around them.

tests/security/test_ssrf.py drives the same cases through `PUT /connections` on a stand-in host; here each case
goes through `normalise_hostname` and then the save-time DNS check with the same stubbed DNS (a name resolves to
the address it spells), and must be refused with the reason meant for it.  Fast enough for mutation testing
(`make mutate`), and precise about the messages and the address classes.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from shared.errors import InvalidInput
from shared.security.hostname import (
    address_refusal,
    check_resolves_publicly,
    is_public_address,
    normalise_hostname,
    refused_addresses,
)
from tests.security.test_ssrf import CASES, INSIDE, INVALID, LITERAL, NO_ANSWER, PORT, spelled_getaddrinfo


async def refusal(hostname: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The message that refuses `hostname` (name checks, then the DNS check), or '' when it passes both."""
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", spelled_getaddrinfo)
    try:
        host = normalise_hostname(hostname)
        await check_resolves_publicly(host)
    except InvalidInput as exc:
        assert [d.field for d in exc.details] == ["hostname"]
        return str(exc)
    return ""


@pytest.mark.parametrize(("hostname", "reason", "detail"), CASES)
async def test_each_notation_is_refused_by_the_check_meant_for_it(
    monkeypatch: pytest.MonkeyPatch, hostname: str, reason: str, detail: str
) -> None:
    message = await refusal(hostname, monkeypatch)

    assert message.startswith("hostname: ") and reason in message and detail in message, message


@pytest.mark.parametrize(
    ("hostname", "stored"),
    [
        ("acct.api-us1.com", "acct.api-us1.com"),
        ("  https://Acct.api-us1.com/  ", "acct.api-us1.com"),
        ("https://acct.api-us1.com/api/3", "acct.api-us1.com"),
        ("https://acct.api-us1.com/api/3/", "acct.api-us1.com"),
        ("http://acct.api-us1.com", "acct.api-us1.com"),
        ("acct.api-us1.com.", "acct.api-us1.com"),
        ("acct.api-us1.com:443", "acct.api-us1.com"),
        ("\uff21\uff23\uff23\uff34\uff0eapi-us1.com", "acct.api-us1.com"),  # fullwidth, mapped by UTS 46
        ("52.20.1.7.nip.io", "52.20.1.7.nip.io"),  # a name that spells a public address is a public name
        ("\u0430pi-us1.com", "xn--pi-us1-2nf.com"),  # a look-alike is stored as punycode
        ("a-b.example-1.io", "a-b.example-1.io"),
    ],
)
def test_public_names_are_normalised(hostname: str, stored: str) -> None:
    assert normalise_hostname(hostname) == stored


@pytest.mark.parametrize(
    ("hostname", "reason"),
    [
        ("", "is required"),
        ("   ", "is required"),
        ("acct\x7f.api-us1.com", "must not contain control characters"),
        ("acct\x1f.api-us1.com", "must not contain control characters"),
        ("https://acct.api-us1.com/?x=1", "must not carry credentials, a query or a fragment"),
        ("https://acct.api-us1.com/#top", "must not carry credentials, a query or a fragment"),
        ("https://user@acct.api-us1.com/", "must not carry credentials, a query or a fragment"),
        ("https://:pw@acct.api-us1.com/", "must not carry credentials, a query or a fragment"),
        ("https://acct.api-us1.com/api/3/contacts", "without a path"),
        ("acct@api-us1.com", "must be a hostname such as"),
        ("acct.api-us1.com:80", PORT),
        ("acct.api-us1.com:", PORT),
        ("-acct.api-us1.com", INVALID),
        ("acct-.api-us1.com", INVALID),
        ("a..b.com", INVALID),
        ("x" * 64 + ".com", INVALID),
        (".".join(["a" * 60] * 4) + ".com", INVALID),  # 249 characters with the dots: fine
        (".".join(["a" * 62] * 4) + ".com", INVALID),  # 255 characters: too long
        ("\udcff.com", INVALID),
        ("[acct.api-us1.com]", LITERAL),
        ("1.2.3.4.5", LITERAL),  # a numeric last label
        ("x.123", LITERAL),
        ("x.0x", LITERAL),
        ("www.localhost", "names an internal host"),
        ("instance-data", "names an internal host"),
        ("a.home", "names an internal host"),
        ("x.arpa", "names an internal host"),
        ("svc.onion", "names an internal host"),
    ],
)
def test_each_malformed_name_is_refused_with_its_reason(hostname: str, reason: str) -> None:
    if hostname.startswith("a" * 60 + ".") and len(hostname) < 253:
        assert normalise_hostname(hostname) == hostname  # the control: the long name below differs only in length
        return
    with pytest.raises(InvalidInput) as refused:
        normalise_hostname(hostname)
    assert reason in str(refused.value), str(refused.value)


def test_every_control_character_is_refused_and_the_boundaries_are_not() -> None:
    for code in (0x00, 0x0A, 0x1F, 0x7F):
        with pytest.raises(InvalidInput, match="control characters"):
            normalise_hostname(f"acct{chr(code)}.api-us1.com")
    assert normalise_hostname("acct.api-us1.com ") == "acct.api-us1.com"  # 0x20 is trimmed, never refused


def test_an_allowed_local_host_passes_exactly_as_listed() -> None:
    assert normalise_hostname("127.0.0.1:8085", allowed_local=["127.0.0.1:8085"]) == "127.0.0.1:8085"
    assert normalise_hostname("http://Emu.Local:8085/", allowed_local=["EMU.local:8085"]) == "emu.local:8085"
    with pytest.raises(InvalidInput, match=LITERAL):
        normalise_hostname("127.0.0.1:8086", allowed_local=["127.0.0.1:8085"])
    with pytest.raises(InvalidInput, match=LITERAL):
        normalise_hostname("127.0.0.1:8085")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("52.20.1.7", None),
        ("2606:4700::1111", None),
        ("2606:4700::1111%eth0", None),  # a zone is not part of the address
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("168.63.129.16", "Azure's WireServer address"),
        ("169.254.169.254", "the instance metadata address"),
        ("169.254.1.1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("10.0.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.255", "carrier-grade NAT"),
        ("100.128.0.1", None),  # just past CGNAT
        ("224.0.0.1", "multicast"),
        ("239.255.255.255", "multicast"),
        ("240.0.0.1", "private"),  # Python 3.11 counts 240.0.0.0/4 as private
        ("4000::1", "reserved"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("::ffff:8.8.8.8", "IPv4-mapped, embedding 8.8.8.8"),
        ("::8.8.8.8", "IPv4-compatible, embedding 8.8.8.8"),
        ("2002:808:808::1", "6to4, embedding 8.8.8.8"),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "Teredo, embedding 8.8.8.8"),
        ("64:ff9b::808:808", "NAT64, embedding 8.8.8.8"),
        ("64:ff9b:1::808:808", "local NAT64, embedding 8.8.8.8"),
        ("2001:db8::1", "private"),  # documentation
        ("nonsense", "not an IP address"),
    ],
)
def test_each_address_class_is_named(address: str, reason: str | None) -> None:
    assert address_refusal(address) == reason
    assert is_public_address(address) is (reason is None)


def test_refused_addresses_names_the_first_address_that_is_not_public() -> None:
    assert refused_addresses(["8.8.8.8", "10.0.0.1", "127.0.0.1"]) == "10.0.0.1: private"
    assert refused_addresses(["8.8.8.8", "1.1.1.1"]) is None
    assert refused_addresses([]) is None


async def test_a_name_without_addresses_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nothing(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        assert (port, kwargs.get("type")) == (443, socket.SOCK_STREAM)
        return []

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", nothing)
    with pytest.raises(InvalidInput) as refused:
        await check_resolves_publicly("acct.api-us1.com")
    assert str(refused.value) == (f"hostname: acct.api-us1.com {NO_ANSWER}; check the REST endpoint hostname")


async def test_a_mixed_answer_is_refused_naming_the_inside_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", spelled_getaddrinfo)

    with pytest.raises(InvalidInput) as refused:
        await check_resolves_publicly("mixed.attacker.net")

    assert str(refused.value) == f"hostname: mixed.attacker.net {INSIDE} (192.168.1.10: private)"
    await check_resolves_publicly("acct.api-us1.com")  # the control: a public answer passes


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("", "hostname: is required"),
        ("a\x00.com", "hostname: must not contain control characters"),
        ("ftp://acct.api-us1.com", "hostname: must be a hostname or an https:// URL"),
        ("https://acct.api-us1.com/?q", "hostname: must not carry credentials, a query or a fragment"),
        (
            "https://acct.api-us1.com/x",
            "hostname: paste the API URL from ActiveCampaign's Settings > Developer, without a path",
        ),
        ("acct.api-us1.com/x", "hostname: must be a hostname such as youraccount.api-us1.com"),
        ("1.2.3.4", "hostname: must be a DNS name, not an IP address"),
        ("printer.local", "hostname: names an internal host"),
        (
            "intranet",
            "hostname: must be a fully qualified name such as youraccount.api-us1.com"
            " (single-label names are internal)",
        ),
        ("acct_1.api-us1.com", "hostname: is not a valid DNS name"),
        ("acct .api-us1.com", "hostname: is not a valid DNS name"),  # a space inside is not a control character
        ("acct.api-us1.com:8443", "hostname: must not name a port (ActiveCampaign is reached over https on 443)"),
    ],
)
def test_each_refusal_has_its_exact_message(hostname: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_hostname(hostname)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "suffix",
    [
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
    ],
)
def test_every_internal_suffix_is_refused(suffix: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_hostname(f"acct.api{suffix}")
    assert str(refused.value) == "hostname: names an internal host"
    assert normalise_hostname(f"acct.api{suffix}x.com") == f"acct.api{suffix}x.com"  # only as the last labels


@pytest.mark.parametrize("name", ["localhost", "metadata", "instance-data", "metadata.google.internal"])
def test_every_blocked_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="names an internal host"):
        normalise_hostname(name)


def test_a_name_of_253_characters_is_the_longest_accepted() -> None:
    longest = ".".join(["a" * 62] * 4)[:249] + ".com"
    assert len(longest) == 253

    assert normalise_hostname(longest) == longest
    with pytest.raises(InvalidInput, match=INVALID):
        normalise_hostname("a" + longest)


async def test_a_name_that_fails_to_resolve_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", failing)
    with pytest.raises(InvalidInput) as refused:
        await check_resolves_publicly("acct.api-us1.com")
    assert str(refused.value) == f"hostname: acct.api-us1.com {NO_ANSWER}; check the REST endpoint hostname"
