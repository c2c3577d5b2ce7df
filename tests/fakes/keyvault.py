"""A fake Azure Key Vault (secrets data plane) over HTTPS on 127.0.0.1, for the real SecretClient.

What it does, as Key Vault does it (see azure-local.md §3):
- a request without ``Authorization: Bearer ...`` gets 401 with the ``WWW-Authenticate``
  challenge the SDK's ChallengeAuthPolicy expects;
- ``GET /secrets/{name}[/{version}]``, ``PUT /secrets/{name}``, ``DELETE /secrets/{name}``
  (soft delete), ``GET /deletedsecrets/{name}``, ``POST /deletedsecrets/{name}/recover``,
  with Key Vault's JSON shapes; writing a soft-deleted name gives 409
  ObjectIsDeletedButRecoverable; a missing secret gives 404 SecretNotFound; a name outside
  ``[0-9a-zA-Z-]{1,127}`` gives 400 BadParameter;
- ``requests`` counts authorized requests per route (``"GET /secrets/{name}"``) plus
  ``"challenge"`` for the unauthenticated first requests;
- ``fail_status = 403`` (or 500, 429, ...) makes every authorized request fail that way.

Use it from another suite with ``from tests.fakes.keyvault import fake_vault, fake_vault_tls  # noqa: F401``
in a conftest, then build the provider with ``vault.client_kwargs`` and a `FakeAsyncCredential`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TENANT = "00000000-0000-0000-0000-000000000000"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'
NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
ERROR_CODES = {400: "BadParameter", 401: "Unauthorized", 403: "Forbidden", 429: "Throttled", 500: "InternalServerError"}


@dataclass(frozen=True)
class TlsFiles:
    cert_path: Path
    key_path: Path


def make_self_signed_cert(folder: Path) -> TlsFiles:
    """An EC P-256 certificate for localhost and 127.0.0.1, valid for a day; it is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-vault.localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(folder / "fake-vault.pem", folder / "fake-vault.key")
    files.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


@dataclass
class FakeAsyncCredential:
    """An azure.core AsyncTokenCredential that always has a token; records the scopes asked for."""

    token: str = "fake"
    scopes: list[str] = field(default_factory=list)
    closed: bool = False

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeAsyncCredential:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class FakeVault:
    def __init__(self, tls: TlsFiles) -> None:
        self.tls = tls
        self.url = ""
        self.secrets: dict[str, str] = {}  # name -> current value (tests may seed it directly)
        self.versions: dict[str, dict[str, str]] = {}  # name -> version -> value
        self.deleted: dict[str, str] = {}  # soft-deleted: name -> value at deletion
        self.requests: Counter[str] = Counter()
        self.tokens: list[str] = []
        self.fail_status: int | None = None
        self.fail_retry_after: str | None = None
        self._latest: dict[str, str] = {}
        self._runner: web.AppRunner | None = None

    @property
    def ca_path(self) -> Path:
        return self.tls.cert_path

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """What a SecretClient needs to talk to this vault (tests only)."""
        return {"verify_challenge_resource": False, "connection_verify": str(self.ca_path)}

    async def start(self) -> FakeVault:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/secrets/{name}", self._get)
        app.router.add_get("/secrets/{name}/", self._get)
        app.router.add_get("/secrets/{name}/{version}", self._get)
        app.router.add_put("/secrets/{name}", self._put)
        app.router.add_delete("/secrets/{name}", self._delete)
        app.router.add_get("/deletedsecrets/{name}", self._get_deleted)
        app.router.add_post("/deletedsecrets/{name}/recover", self._recover)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.tls.cert_path, self.tls.key_path)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"https://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- HTTP -------------------------------------------------------------------------------

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:]:
            self.requests["challenge"] += 1
            return _error(401, "Unauthorized", headers={"WWW-Authenticate": CHALLENGE})
        self.tokens.append(auth[7:])
        route = request.match_info.route.resource
        canonical = route.canonical if route is not None else request.path
        self.requests[f"{request.method} {canonical.rstrip('/').replace('/{version}', '')}"] += 1
        if self.fail_status is not None:
            headers = {"Retry-After": self.fail_retry_after} if self.fail_retry_after else {}
            if self.fail_status == 401:
                headers["WWW-Authenticate"] = CHALLENGE
            return _error(self.fail_status, ERROR_CODES.get(self.fail_status, "Error"), headers=headers)
        name = request.match_info.get("name", "")
        if not NAME.fullmatch(name):
            return _error(400, "BadParameter", "The request URI contains an invalid name")
        return await handler(request)

    async def _get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        version = request.match_info.get("version", "")
        if name not in self.secrets:
            return _not_found(name)
        if version:
            value = self.versions.get(name, {}).get(version)
            if value is None:
                return _not_found(name)
        else:
            value, version = self.secrets[name], self._latest_version(name)
        return web.json_response(self._bundle(name, version, value))

    async def _put(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name in self.deleted:
            return _error(
                409,
                "Conflict",
                f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; "
                "in this state, the secret can only be recovered or purged.",
                inner="ObjectIsDeletedButRecoverable",
            )
        body = await request.json()
        value = body.get("value")
        if not isinstance(value, str):
            return _error(400, "BadParameter", "Property value is required")
        version = uuid.uuid4().hex
        self.secrets[name] = value
        self.versions.setdefault(name, {})[version] = value
        self._latest[name] = version
        return web.json_response(self._bundle(name, version, value))

    async def _delete(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.secrets:
            return _not_found(name)
        version = self._latest_version(name)
        self.deleted[name] = self.secrets.pop(name)
        self.versions.pop(name, None)
        self._latest.pop(name, None)
        return web.json_response(self._deleted_bundle(name, version))

    async def _get_deleted(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.deleted:
            return _not_found(name, deleted=True)
        return web.json_response(self._deleted_bundle(name, "0"))

    async def _recover(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.deleted:
            return _not_found(name, deleted=True)
        version = uuid.uuid4().hex
        self.secrets[name] = self.deleted.pop(name)
        self.versions[name] = {version: self.secrets[name]}
        self._latest[name] = version
        bundle = self._bundle(name, version, None)
        return web.json_response(bundle)

    # --- shapes -----------------------------------------------------------------------------

    def _latest_version(self, name: str) -> str:
        if name not in self._latest:  # seeded directly through .secrets
            version = uuid.uuid4().hex
            self._latest[name] = version
            self.versions.setdefault(name, {})[version] = self.secrets[name]
        return self._latest[name]

    def _bundle(self, name: str, version: str, value: str | None) -> dict[str, Any]:
        now = int(time.time())
        bundle: dict[str, Any] = {
            "id": f"{self.url}/secrets/{name}/{version}",
            "attributes": {
                "enabled": True,
                "created": now,
                "updated": now,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
            },
            "tags": {},
        }
        if value is not None:
            bundle["value"] = value
        return bundle

    def _deleted_bundle(self, name: str, version: str) -> dict[str, Any]:
        now = int(time.time())
        bundle = self._bundle(name, version, None)
        bundle.update(
            recoveryId=f"{self.url}/deletedsecrets/{name}",
            deletedDate=now,
            scheduledPurgeDate=now + 90 * 86400,
        )
        return bundle


def _error(
    status: int, code: str, message: str = "", *, inner: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message or code}
    if inner:
        error["innererror"] = {"code": inner}
    return web.json_response({"error": error}, status=status, headers=headers)


def _not_found(name: str, *, deleted: bool = False) -> web.Response:
    what = "Deleted Secret" if deleted else "A secret with (name/id)"
    return _error(404, "SecretNotFound", f"{what} {name} was not found in this key vault.")


@pytest.fixture(scope="session")
def fake_vault_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_self_signed_cert(tmp_path_factory.mktemp("fake-vault-tls"))


@pytest.fixture
async def fake_vault(fake_vault_tls: TlsFiles) -> AsyncIterator[FakeVault]:
    vault = await FakeVault(fake_vault_tls).start()
    try:
        yield vault
    finally:
        await vault.stop()


@pytest.fixture
def fake_credential() -> FakeAsyncCredential:
    return FakeAsyncCredential()
