"""Easy Auth principal parsing (shared/security/principal.py), called directly.

tests/security/test_roles.py proves over HTTP that forged or odd principals never grant a role; these pin the
parsing itself: which claims give the roles, the id and the name, in what order, and every refusal's reason.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest

from shared.errors import Unauthenticated
from shared.security.principal import (
    MAX_HEADER_BYTES,
    PRINCIPAL_HEADER,
    Principal,
    Role,
    encode_principal,
    principal_from_headers,
)

OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
LONG_ROLE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
LONG_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"


def header(body: Any, *, pad: bool = True) -> str:
    raw = base64.b64encode(json.dumps(body).encode()).decode()
    return raw if pad else raw.rstrip("=")


def claims(*pairs: tuple[Any, Any], **extra: Any) -> str:
    return header({"claims": [{"typ": t, "val": v} for t, v in pairs], **extra})


def parse(value: str, **more: str) -> Principal:
    return principal_from_headers({PRINCIPAL_HEADER: value, **more}, trusted=True)


def refused(headers: dict[str, str], *, trusted: bool = True) -> str:
    with pytest.raises(Unauthenticated) as caught:
        principal_from_headers(headers, trusted=trusted)
    return str(caught.value)


def test_the_header_easy_auth_sends_parses_back() -> None:
    principal = parse(encode_principal("ann@contoso.com", "Admin", "Viewer", user_id="oid-1"))

    assert principal == Principal(id="oid-1", name="ann@contoso.com", roles=frozenset({Role.ADMIN, Role.VIEWER}))
    assert principal.is_admin is True and principal.is_contributor is False
    assert principal.has_any(Role.CONTRIBUTOR, Role.VIEWER) and not principal.has_any(Role.CONTRIBUTOR)
    assert not principal.has_any()


def test_without_a_user_id_the_name_is_the_id() -> None:
    assert parse(encode_principal("bob", "Contributor")) == Principal("bob", "bob", frozenset({Role.CONTRIBUTOR}))
    assert parse(encode_principal("bob", "Contributor")).is_contributor is True
    assert parse(encode_principal("bob", "Contributor")).is_admin is False


def test_an_untrusted_header_is_never_read() -> None:
    message = refused({PRINCIPAL_HEADER: encode_principal("ann", "Admin")}, trusted=False)

    assert message == (
        "authentication is not enabled for this app: requests cannot be attributed to a user. "
        "Enable App Service Authentication (or set LOCAL_TRUST_PRINCIPAL_HEADER=true on a developer machine)."
    )


@pytest.mark.parametrize("headers", [{}, {PRINCIPAL_HEADER: ""}, {PRINCIPAL_HEADER: "   "}, {"x-other": "1"}])
def test_no_principal_means_sign_in_first(headers: dict[str, str]) -> None:
    assert refused(headers) == "sign in first: the request carries no X-MS-CLIENT-PRINCIPAL"


def test_header_names_are_case_insensitive_and_the_value_is_trimmed() -> None:
    value = f"  {encode_principal('ann', 'Viewer')}  "

    principal = principal_from_headers(
        {"X-MS-CLIENT-PRINCIPAL": value, "X-MS-CLIENT-PRINCIPAL-ID": "id-h", "X-Ms-Client-Principal-Name": "n-h"},
        trusted=True,
    )

    assert principal == Principal("id-h", "n-h", frozenset({Role.VIEWER}))


def test_roles_come_from_the_role_claim_types_and_only_known_values_count() -> None:
    value = claims(
        ("roles", "Admin"),
        (LONG_ROLE, "Contributor"),
        ("roles", "admin"),  # app roles are case-sensitive
        ("roles", "Owner"),
        ("groups", "Viewer"),  # not a role claim
        ("name", "ann"),
    )

    assert parse(value).roles == frozenset({Role.ADMIN, Role.CONTRIBUTOR})


def test_a_custom_role_claim_type_is_honoured_as_well() -> None:
    value = claims(("app-role", "Viewer"), ("roles", "Admin"), ("name", "ann"), role_typ="app-role")

    assert parse(value).roles == frozenset({Role.VIEWER, Role.ADMIN})


def test_the_id_is_the_first_id_claim_in_claim_order() -> None:
    value = claims(("name", "ann"), ("sub", "sub-1"), ("oid", "oid-1"), (OID, "objid-1"))
    assert parse(value).id == "sub-1"
    assert parse(claims(("oid", ""), (OID, "objid-1"), ("name", "ann"))).id == "objid-1"  # an empty claim is skipped
    assert parse(claims(("oid", "oid-2"), ("name", "ann"))).id == "oid-2"


def test_the_name_comes_from_the_name_claim_types_then_the_id() -> None:
    assert parse(claims(("preferred_username", "ann@x"), ("sub", "s"))).name == "ann@x"
    assert parse(claims((LONG_NAME, "long ann"), ("sub", "s"))).name == "long ann"
    assert parse(claims(("upn", "u@x"), ("name", "plain"), ("sub", "s"), name_typ="upn")).name == "u@x"
    assert parse(claims(("name", "plain"), ("sub", "s"), name_typ="upn")).name == "plain"
    assert parse(claims(("name", "plain"), ("sub", "s"), name_typ=None)).name == "plain"
    assert parse(claims(("sub", "only-id"))) == Principal("only-id", "only-id", frozenset())


def test_a_name_without_an_id_is_the_id_too() -> None:
    assert parse(claims(("name", "ann"))) == Principal("ann", "ann", frozenset())


def test_id_and_name_are_cut_at_200_characters() -> None:
    principal = parse(claims(("sub", "i" * 300), ("name", "n" * 300)))

    assert (principal.id, principal.name) == ("i" * 200, "n" * 200)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"claims": []}, "the X-MS-CLIENT-PRINCIPAL header names no user"),
        ({}, "the X-MS-CLIENT-PRINCIPAL header names no user"),
        ({"claims": [{"typ": "name", "val": ""}]}, "the X-MS-CLIENT-PRINCIPAL header names no user"),
        ({"claims": {"typ": "name"}}, "the X-MS-CLIENT-PRINCIPAL header has no claims list"),
        ([{"typ": "name", "val": "ann"}], "the X-MS-CLIENT-PRINCIPAL header has no claims list"),
        ("ann", "the X-MS-CLIENT-PRINCIPAL header has no claims list"),
    ],
)
def test_a_principal_that_names_nobody_is_refused(body: Any, reason: str) -> None:
    assert refused({PRINCIPAL_HEADER: header(body)}) == reason


def test_malformed_claims_are_skipped_not_trusted() -> None:
    body = {
        "claims": [
            "roles=Admin",
            {"typ": "roles", "val": ["Admin"]},
            {"typ": ["roles"], "val": "Admin"},
            {"typ": "roles"},
            {"val": "Admin"},
            {"typ": "roles", "val": "Viewer"},
            {"typ": "name", "val": "ann"},
        ]
    }

    assert parse(header(body)) == Principal("ann", "ann", frozenset({Role.VIEWER}))


@pytest.mark.parametrize(
    "value",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"\xff\xfe{}").decode(),
        "a" * 5,
    ],
)
def test_a_header_that_is_not_base64_json_is_refused(value: str) -> None:
    assert refused({PRINCIPAL_HEADER: value}) == "the X-MS-CLIENT-PRINCIPAL header is not base64-encoded JSON"


def test_missing_base64_padding_is_tolerated() -> None:
    value = header({"claims": [{"typ": "name", "val": "ann"}]}, pad=False)
    assert len(value) % 4

    assert parse(value).name == "ann"


def test_a_header_up_to_16_kb_is_read_and_a_larger_one_is_refused_unread() -> None:
    def of_length(length: int) -> str:
        body: dict[str, Any] = {"claims": [{"typ": "name", "val": "ann"}], "pad": ""}
        body["pad"] = "p" * (length * 3 // 4 - len(json.dumps(body)))
        value = header(body)
        assert len(value) == length
        return value

    assert MAX_HEADER_BYTES == 16_384
    assert parse(of_length(16_384)).name == "ann"
    assert refused({PRINCIPAL_HEADER: of_length(16_388)}) == ("the X-MS-CLIENT-PRINCIPAL header is too large")


def test_encode_principal_writes_what_easy_auth_writes() -> None:
    body = json.loads(base64.b64decode(encode_principal("ann", "Admin", user_id="u1")))

    assert body == {
        "auth_typ": "aad",
        "claims": [{"typ": "roles", "val": "Admin"}, {"typ": "name", "val": "ann"}, {"typ": OID, "val": "u1"}],
        "name_typ": "name",
        "role_typ": "roles",
    }


def test_any_missing_padding_is_tolerated() -> None:
    for name in ("a", "ab", "abc", "abcd"):
        value = header({"claims": [{"typ": "name", "val": name}]}, pad=False)
        assert parse(value).name == name, len(value) % 4


def test_a_principal_is_an_immutable_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse(encode_principal("ann")).name = "bob"  # type: ignore[misc]


def test_a_character_outside_base64_is_refused_not_skipped() -> None:
    value = encode_principal("ann", "Admin")

    assert refused({PRINCIPAL_HEADER: value[:8] + "!" + value[8:]}) == (
        "the X-MS-CLIENT-PRINCIPAL header is not base64-encoded JSON"
    )
