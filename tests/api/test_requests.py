"""Bad requests get clear 4xx answers; unexpected failures a generic 500 with a correlation id."""

from __future__ import annotations

import logging

import pytest
from azure.core.exceptions import ServiceResponseError

from shared.config import Secret
from shared.secrets import LocalSecretProvider
from shared.services import Services
from tests.api.client import ADMIN, ApiClient
from tests.api.conftest import Emu, ProdFactory, connection_body
from tests.api.leaks import Ledger


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"", "body", "is required"),
        (b"{not json", "body", "is not valid JSON (line 1, column 2)"),
        (b"[1, 2]", "body", "must be a JSON object, not an array"),
        (b'"text"', "body", "must be a JSON object, not a string"),
        (b"\xff\xfe\x00{", "body", "is not"),
        (b"[" * 5000 + b"]" * 5000, "body", ""),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_400_naming_body(
    api: ApiClient, dev: Services, body: bytes, field: str, words: str
) -> None:
    reply = await api.call("PUT", "connections/crm", as_=ADMIN, body=body)
    assert (reply.status, reply.fields) == (400, [field])
    assert words in reply.error["details"][0]["message"]


async def test_unknown_fields_and_wrong_types_are_named(api: ApiClient, dev: Services, emu: Emu) -> None:
    body = connection_body(emu.host, emu.key, displayName=7, usableBy="everyone", colour="red")
    reply = await api.call("PUT", "connections/crm", as_=ADMIN, json_body=body)

    assert reply.status == 400
    assert sorted(reply.fields) == ["colour", "displayName", "usableBy"]
    assert "is not a known field" in str(reply.error["details"])
    # the key the caller sent is never echoed back
    assert emu.key.encode() not in reply.body


async def test_an_oversize_body_is_413(api: ApiClient, dev: Services, emu: Emu) -> None:
    padded = connection_body(emu.host, emu.key, displayName="x" * (70 * 1024))
    reply = await api.call("PUT", "connections/crm", as_=ADMIN, json_body=padded)
    declared = await api.call("PUT", "connections/crm", as_=ADMIN, body=b"{}", headers={"Content-Length": "999999"})

    assert reply.status == declared.status == 413
    assert reply.error["code"] == "payload_too_large" and "64 KiB" in reply.error["message"]
    assert await dev.connections.find("crm") is None


@pytest.mark.parametrize("name", ["-starts-with-dash", "has space", "a" * 64, "dots..and%2F", "ünïcode"])
async def test_names_in_urls_must_be_url_safe(api: ApiClient, dev: Services, emu: Emu, name: str) -> None:
    reply = await api.call("PUT", f"connections/{name}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    assert (reply.status, reply.fields) == (400, ["name"])


async def test_a_connection_name_must_fit_a_key_vault_secret_name(api: ApiClient, dev: Services, emu: Emu) -> None:
    reply = await api.call("PUT", f"connections/{'A' * 61}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    assert (reply.status, reply.fields) == (400, ["name"])
    assert "at most 60 characters" in reply.error["message"]


async def test_an_unreachable_account_is_503_and_nothing_is_saved(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await emu.server.stop()  # the allowed host no longer answers

    reply = await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))

    assert reply.status == 503 and reply.error["code"] == "activecampaign_unavailable"
    assert await dev.connections.find(unique) is None


class ExplodingSecrets(LocalSecretProvider):
    """A secret store that fails in an unexpected way, quoting the value it was given."""

    async def set(self, name: str, value: Secret) -> None:
        raise RuntimeError(f"disk on fire while writing {value.reveal()}")


async def test_an_unexpected_failure_is_a_generic_500_with_a_correlation_id(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    await prod(auth_enabled=True, secrets=ExplodingSecrets())
    caplog.set_level(logging.DEBUG)

    reply = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("acct.api-us1.com", emu.key)
    )

    assert reply.status == 500
    error = reply.error
    correlation = error["correlationId"]
    assert error["code"] == "internal_error" and error["details"] == []
    assert correlation in error["message"] and reply.header("X-Correlation-Id") == correlation
    assert b"disk on fire" not in reply.body and b"Traceback" not in reply.body
    # the operator finds the failure in the log by the correlation id, with its type but not the key
    logged = [r for r in caplog.records if correlation in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR and logged[0].exc_info
    assert "KeyHandlingError" in caplog.text
    assert emu.key not in caplog.text and "disk on fire" not in caplog.text


async def test_storage_that_does_not_answer_is_a_503_with_retry_after_not_a_500(
    api: ApiClient, dev: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def times_out(name: str) -> None:
        raise ServiceResponseError("Timeout on reading data from socket")

    monkeypatch.setattr(dev.exports, "get", times_out)  # Azure Storage too busy to answer in time
    reply = await api.call("GET", "exports/anything/runs/20261204T185206Z-d44ecb", as_=ADMIN)

    assert reply.status == 503 and reply.error["code"] == "storage_unavailable"
    assert reply.header("Retry-After") == "5" and "try again" in reply.error["message"]
