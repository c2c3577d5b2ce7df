"""A run against an "ActiveCampaign" that redirects its bulk import to another host.

End to end (function_app in the stand-in host): the connection and export are saved against
a fake account that behaves, until its bulk import answers with a redirect to another
loopback host.  The shard sends the request once, does not follow, and the run fails
saying why; the other host receives nothing, so the key never travels there.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from local.sample_data import SampleOptions
from tests.e2e.stack import Stack
from tests.security.conftest import AC_LIST, AC_USER, FakeFactory, FakeHost, json_answer, redirect_to


@pytest.fixture
async def hosts(fake_host: FakeFactory) -> AsyncIterator[tuple[FakeHost, FakeHost]]:
    other = await fake_host({"POST /api/3/import/bulk_import": json_answer({"success": 1, "batchId": "stolen"})})
    account = await fake_host(
        {
            "GET /api/3/users/me": AC_USER,
            "GET /api/3/lists/1": AC_LIST,
            "POST /api/3/import/bulk_import": redirect_to(f"{other.url}/api/3/import/bulk_import", 307),
        }
    )
    yield account, other


@pytest.fixture
def stack_options(hosts: tuple[FakeHost, FakeHost]) -> dict[str, Any]:
    account, other = hosts
    return {"AC_ALLOWED_LOCAL_HOSTS": f"{account.host},{other.host}"}


async def test_a_bulk_import_redirected_to_another_host_fails_the_run_and_the_other_host_gets_nothing(
    stack: Stack, hosts: tuple[FakeHost, FakeHost]
) -> None:
    account, other = hosts
    key = f"redirect-test-key-{secrets.token_hex(12)}"
    await stack.api.put_connection("ac", hostname=account.host, api_key=key, usable_by="admins")
    await stack.create_export("redirected", mapping={"email": "Email"})
    await stack.write_sample(SampleOptions(profiles=30, seed=2, partitions=1))

    run = await stack.run("redirected")

    assert run["status"] == "Failed", run
    assert "redirect" in run["error"]["message"] and "not followed" in run["error"]["message"], run["error"]
    bulk = [path for method, path, _ in account.seen if method == "POST"]
    assert bulk == ["/api/3/import/bulk_import"]  # sent once: a redirect is not retried either
    assert other.seen == []
    assert all(headers.get("Api-Token") == key for _, _, headers in account.seen)
