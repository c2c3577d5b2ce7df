"""Which AC account a hostname reaches: two hostnames of one account share its budget, lane and state."""

from __future__ import annotations

import pytest

from shared.activecampaign import BudgetRegistry
from shared.activecampaign.account import account_key, storage_key
from shared.config import AcLimits


@pytest.mark.parametrize(
    "host",
    ["acme.api-us1.com", "ACME.api-us1.com.", "acme.activehosted.com", "acme.api-eu1.com:443", "Acme.ActiveHosted.com"],
)
def test_every_host_of_one_account_has_one_key(host: str) -> None:
    assert account_key(host) == "acme.activecampaign"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("acme.api-us1.com", "acme2.api-us1.com"),
        ("acme.api-us1.com", "crm.acme.com"),  # a custom domain is its own account
        ("127.0.0.1:8085", "127.0.0.1:8086"),  # two local emulators
    ],
)
def test_different_accounts_have_different_keys(a: str, b: str) -> None:
    assert account_key(a) != account_key(b)


def test_a_key_is_one_blob_name_segment() -> None:
    assert storage_key("127.0.0.1:8085") == "127.0.0.1_8085"


def test_two_hostnames_of_one_account_share_one_budget() -> None:
    budgets = BudgetRegistry(AcLimits())
    assert budgets.for_host("acme.api-us1.com") is budgets.for_host("acme.activehosted.com")
    assert budgets.for_host("acme.api-us1.com") is not budgets.for_host("other.api-us1.com")


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("  Acme.API-US1.com  ", "acme.activecampaign"),
        ("acme.api-us1.com.:443", "acme.activecampaign"),
        ("acme.api-us1.com:443.", "acme.activecampaign"),
        ("a.api-ca12.com", "a.activecampaign"),
        ("a-b1.activehosted.com", "a-b1.activecampaign"),
        # not AC's hosts: each its own account, keyed by its normalised host (and port)
        ("Crm.Acme.com.", "crm.acme.com"),
        ("crm.acme.com:443", "crm.acme.com"),
        ("acme.api-us1.com:8443", "acme.api-us1.com:8443"),
        ("acme.api-us.com", "acme.api-us.com"),
        ("acme.api-usa1.com", "acme.api-usa1.com"),
        ("acme.api-us1.com.evil.io", "acme.api-us1.com.evil.io"),
        ("evil.io.acme.api-us1.com", "evil.io.acme.api-us1.com"),
        ("acme-.api-us1.com", "acme-.api-us1.com"),
        ("-acme.activehosted.com", "-acme.activehosted.com"),
        ("acme.activehosted.co", "acme.activehosted.co"),
        ("acme.activehostedxcom", "acme.activehostedxcom"),
        ("127.0.0.1:8085", "127.0.0.1:8085"),
    ],
)
def test_the_key_of_each_host(host: str, key: str) -> None:
    assert account_key(host) == key


def test_a_storage_key_has_no_colon_or_slash() -> None:
    assert storage_key("Acme.api-us1.com") == "acme.activecampaign"
    assert storage_key("host/x:1") == "host_x_1"
