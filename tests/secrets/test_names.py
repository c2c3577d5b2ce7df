"""Connection name -> Key Vault secret name: valid, documented, and never two connections on one secret."""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.secrets import (
    MAX_CONNECTION_NAME_LENGTH,
    connection_name_from_secret_name,
    new_secret_name,
    secret_name_for_connection,
    validate_secret_name,
)
from shared.secrets.names import SECRET_NAME_PATTERN

CONNECTION_CHARS = string.ascii_letters + string.digits + "-_."
connection_names = st.text(alphabet=CONNECTION_CHARS, min_size=1, max_size=MAX_CONNECTION_NAME_LENGTH)


@pytest.mark.parametrize(
    ("connection", "secret"),
    [
        ("crm", "ac-key-crm"),
        ("crm-eu", "ac-key-crm--eu"),
        ("crm_eu", "ac-key-crm-0eu"),
        ("crm.eu", "ac-key-crm-1eu"),
        ("crm_eu.Prod", "ac-key-crm-0eu-1-prod"),
        ("CRM", "ac-key--c-r-m"),
    ],
)
def test_documented_examples(connection: str, secret: str) -> None:
    assert secret_name_for_connection(connection) == secret
    assert connection_name_from_secret_name(secret) == connection


@given(connection_names)
def test_every_connection_name_gives_a_valid_key_vault_name(connection: str) -> None:
    secret = secret_name_for_connection(connection)
    assert SECRET_NAME_PATTERN.fullmatch(secret)
    assert len(secret) <= 127
    assert validate_secret_name(secret) == secret


@given(connection_names)
def test_mapping_is_deterministic_and_decodable(connection: str) -> None:
    # A left inverse proves injectivity; lowercase output proves it survives Key Vault's case folding.
    secret = secret_name_for_connection(connection)
    assert secret == secret_name_for_connection(connection)
    assert secret == secret.lower()
    assert connection_name_from_secret_name(secret) == connection


@given(connection_names, connection_names)
def test_distinct_connections_never_share_a_secret(a: str, b: str) -> None:
    if a != b:
        assert secret_name_for_connection(a).lower() != secret_name_for_connection(b).lower()


def test_tricky_names_are_pairwise_distinct_even_ignoring_case() -> None:
    tricky = [
        "a-b",
        "a_b",
        "a.b",
        "a--b",
        "a-0b",
        "a-1b",
        "A-b",
        "a-B",
        "ab",
        "Ab",
        "aB",
        "AB",
        "a0b",
        "a1b",
        "a__b",
        "a_.b",
        "a._b",
        "a-",
        "a_",
        "a.",
        "-a",
        "_a",
        ".a",
        "-",
        "_",
        ".",
        "--",
        "-0",
        "0",
        "1",
    ]
    secrets = {c: secret_name_for_connection(c).lower() for c in tricky}
    for a, b in itertools.combinations(tricky, 2):
        assert secrets[a] != secrets[b], (a, b)


def test_longest_worst_case_name_fits_key_vault() -> None:
    secret = secret_name_for_connection("_" * MAX_CONNECTION_NAME_LENGTH)
    assert len(secret) == 127
    assert SECRET_NAME_PATTERN.fullmatch(secret)


@pytest.mark.parametrize("bad", ["", "a/b", "a b", "caf\u00e9", "a:b", "x" * (MAX_CONNECTION_NAME_LENGTH + 1)])
def test_names_outside_the_connection_alphabet_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        secret_name_for_connection(bad)
    assert info.value.details[0].field == "name"


@pytest.mark.parametrize("other", ["other", "ac-key-", "ac-key-a-", "ac-key-A", "ac-key-a-2", "ac-key-a-_"])
def test_names_not_made_by_the_mapping_do_not_decode(other: str) -> None:
    assert connection_name_from_secret_name(other) is None


@pytest.mark.parametrize("bad", ["", "a_b", "a.b", "x" * 128, "k\u00e9y"])
def test_validate_secret_name_refuses_what_key_vault_refuses(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid Key Vault secret name"):
        validate_secret_name(bad)


@given(connection_names)
def test_a_fresh_name_per_write_is_valid_says_its_connection_and_is_never_a_stable_name(connection: str) -> None:
    fresh = {new_secret_name(connection) for _ in range(3)}
    assert len(fresh) == 3  # a new name for every write
    for secret in fresh:
        assert SECRET_NAME_PATTERN.fullmatch(secret) and secret == secret.lower() and len(secret) <= 127
        # it says its connection (unless the connection's escaped name did not fit: then it says none) ...
        assert connection_name_from_secret_name(secret) in (connection, None)
        # ... and it is no connection's stable name (the "-2" mark is never an escape)
        decoded = connection_name_from_secret_name(secret)
        assert decoded is None or secret != secret_name_for_connection(decoded)


@pytest.mark.parametrize(
    ("connection", "decodes"),
    [("crm", True), ("a-2", True), ("a-", True), ("x" * 60, True), ("X" * 53, True), ("X" * 54, False)],
)
def test_fresh_names_say_their_connection_while_it_fits(connection: str, decodes: bool) -> None:
    secret = new_secret_name(connection)
    assert secret.startswith(secret_name_for_connection(connection) if decodes else "ac-key--2")
    assert connection_name_from_secret_name(secret) == (connection if decodes else None)
