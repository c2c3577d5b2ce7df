"""Settings: the one place that reads the process environment.

`Settings.from_env()` is called once per process by the composition root and the
result is passed explicitly to everything else.  A bad value fails fast with the
setting's name.  Secrets are wrapped in `Secret`, whose repr is masked.

Local relaxations: each has its own setting, all off by default, and none is allowed
in Azure.  When the process runs in App Service / Functions (WEBSITE_INSTANCE_ID or
WEBSITE_SITE_NAME is present), `from_env` logs an error naming every relaxation that
is set and refuses to build settings, so no function runs with one.  The retired
all-in-one LOCAL_DEVELOPMENT is refused everywhere, naming its replacements.

| Setting                        | Relaxes                                                           |
|--------------------------------|-------------------------------------------------------------------|
| LOCAL_TRUST_PRINCIPAL_HEADER   | trust X-MS-CLIENT-PRINCIPAL without Easy Auth                     |
| AC_ALLOWED_LOCAL_HOSTS         | these exact host:port, over plain http, without the DNS check     |
| LOCAL_SECRETS                  | API keys in LOCAL_SECRETS_FILE / ACSECRET__* instead of Key Vault |
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from shared.errors import ConfigurationError
from shared.names import STORAGE_CONNECTION

T = TypeVar("T")
logger = logging.getLogger(__name__)

SNAPSHOT_CONNECTION: Final = "SNAPSHOT_STORAGE"
TRUST_PRINCIPAL_SETTING: Final = "LOCAL_TRUST_PRINCIPAL_HEADER"
ALLOWED_HOSTS_SETTING: Final = "AC_ALLOWED_LOCAL_HOSTS"
LOCAL_SECRETS_SETTING: Final = "LOCAL_SECRETS"
RETIRED_SETTING: Final = "LOCAL_DEVELOPMENT"
AZURE_MARKERS: Final = ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME")  # set by App Service on every instance
TRUE_WORDS: Final = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS: Final = frozenset({"0", "false", "no", "off", ""})


class Secret:
    """A string that never shows itself in repr/str/logs.  Call reveal() at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class StorageSettings:
    """How to reach one storage account: a connection string (local) or identity-based URIs (Azure)."""

    connection_string: Secret | None = None
    blob_service_uri: str | None = None
    queue_service_uri: str | None = None
    client_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], name: str, *, required: bool) -> StorageSettings | None:
        conn = env.get(name, "").strip()
        blob = env.get(f"{name}__blobServiceUri", "").strip() or None
        queue = env.get(f"{name}__queueServiceUri", "").strip() or None
        account = env.get(f"{name}__accountName", "").strip()
        if account and not blob:
            blob = f"https://{account}.blob.core.windows.net"
        if account and not queue:
            queue = f"https://{account}.queue.core.windows.net"
        if conn:
            return cls(connection_string=Secret(conn))
        if blob or queue:
            return cls(blob_service_uri=blob, queue_service_uri=queue, client_id=env.get(f"{name}__clientId") or None)
        if required:
            raise ConfigurationError(
                f"storage setting {name} is missing: set {name} (connection string) or {name}__blobServiceUri "
                f"and {name}__queueServiceUri (identity-based)"
            )
        return None


@dataclass(frozen=True)
class AcLimits:
    """The client's view of ActiveCampaign's budgets and timeouts (defaults are AC's documented values)."""

    requests_per_second: float = 5.0
    bulk_per_minute: float = 100.0
    bulk_single_per_minute: float = 20.0
    bulk_max_contacts: int = 250
    bulk_max_bytes: int = 399_999
    timeout_s: float = 30.0
    max_attempts: int = 8
    max_retry_after_s: float = 120.0
    send_concurrency: int = 4
    poll_interval_s: float = 2.0
    poll_timeout_s: float = 900.0


@dataclass(frozen=True)
class Settings:
    storage: StorageSettings
    snapshot_storage: StorageSettings
    snapshot_container: str = "customerinsights"
    snapshot_root: str = ""
    snapshot_allowed_roots: tuple[str, ...] | None = None  # None: only snapshot_root (see allowed_snapshot_roots)
    key_vault_url: str | None = None
    auth_enabled: bool = False
    trust_principal_header: bool = False
    allowed_local_ac_hosts: frozenset[str] = frozenset()
    use_local_secrets: bool = False
    ac: AcLimits = field(default_factory=AcLimits)
    shard_size: int = 20_000
    rows_per_bucket: int = 250_000  # planning cuts a segment in buckets of about this many rows (a power of two)
    plan_tasks_per_process: int = 1  # splits / bucket plans one process runs at once (each holds a bucket's rows)
    lane_lease_s: int = 30
    lane_busy_delay_s: int = 10
    progress_every_s: float = 5.0  # how often a worker process writes its sending shards' progress to the run
    applicationinsights_connection_string: str | None = None
    local_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    local_secrets_file: str | None = None

    @property
    def allowed_snapshot_roots(self) -> tuple[str, ...]:
        """The folders (prefixes) of the snapshot container whose subfolders contributors may name as snapshotRoot."""
        return self.snapshot_allowed_roots if self.snapshot_allowed_roots is not None else (self.snapshot_root,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        relaxations = local_relaxations(env)  # first: a refused relaxation is what the log must say
        storage = StorageSettings.from_env(env, STORAGE_CONNECTION, required=True)
        assert storage is not None
        snapshot = StorageSettings.from_env(env, SNAPSHOT_CONNECTION, required=False) or storage
        limits = AcLimits(
            requests_per_second=_get(env, "AC_RATE_PER_SECOND", float, 5.0, minimum=0.01),
            bulk_per_minute=_get(env, "AC_BULK_PER_MINUTE", float, 100.0, minimum=0.01),
            bulk_single_per_minute=_get(env, "AC_BULK_SINGLE_PER_MINUTE", float, 20.0, minimum=0.01),
            bulk_max_contacts=_get(env, "AC_BULK_MAX_CONTACTS", int, 250, minimum=1, maximum=250),
            bulk_max_bytes=_get(env, "AC_BULK_MAX_BYTES", int, 399_999, minimum=1024, maximum=399_999),
            timeout_s=_get(env, "AC_TIMEOUT_SECONDS", float, 30.0, minimum=0.05),
            max_attempts=_get(env, "AC_MAX_ATTEMPTS", int, 8, minimum=1),
            max_retry_after_s=_get(env, "AC_MAX_RETRY_AFTER_SECONDS", float, 120.0, minimum=0.0),
            send_concurrency=_get(env, "AC_SEND_CONCURRENCY", int, 4, minimum=1, maximum=64),
            poll_interval_s=_get(env, "AC_POLL_INTERVAL_SECONDS", float, 2.0, minimum=0.0),
            poll_timeout_s=_get(env, "AC_POLL_TIMEOUT_SECONDS", float, 900.0, minimum=1.0),
        )
        hosts = frozenset(h.strip().lower() for h in env.get(ALLOWED_HOSTS_SETTING, "").split(",") if h.strip())
        return cls(
            storage=storage,
            snapshot_storage=snapshot,
            snapshot_container=env.get("SNAPSHOT_CONTAINER", "").strip() or "customerinsights",
            snapshot_root=env.get("SNAPSHOT_ROOT", "").strip().strip("/"),
            snapshot_allowed_roots=_folders(env, "SNAPSHOT_ALLOWED_ROOTS"),
            key_vault_url=env.get("KEY_VAULT_URL", "").strip() or None,
            auth_enabled=_get(env, "WEBSITE_AUTH_ENABLED", _bool, False),
            trust_principal_header=TRUST_PRINCIPAL_SETTING in relaxations,
            allowed_local_ac_hosts=hosts,
            use_local_secrets=LOCAL_SECRETS_SETTING in relaxations,
            ac=limits,
            shard_size=_get(env, "SHARD_SIZE", int, 20_000, minimum=1, maximum=100_000),
            rows_per_bucket=_get(env, "PLAN_ROWS_PER_BUCKET", int, 250_000, minimum=100, maximum=2_000_000),
            plan_tasks_per_process=_get(env, "PLAN_TASKS_PER_PROCESS", int, 1, minimum=1, maximum=16),
            lane_lease_s=_get(env, "LANE_LEASE_SECONDS", int, 30, minimum=15, maximum=60),
            lane_busy_delay_s=_get(env, "LANE_BUSY_DELAY_SECONDS", int, 10, minimum=0, maximum=600),
            progress_every_s=_get(env, "RUN_PROGRESS_SECONDS", float, 5.0, minimum=0.1, maximum=300.0),
            applicationinsights_connection_string=env.get("APPLICATIONINSIGHTS_CONNECTION_STRING") or None,
            local_secrets={k: v for k, v in env.items() if k.startswith(LOCAL_SECRET_PREFIX)},
            local_secrets_file=env.get("LOCAL_SECRETS_FILE", "").strip() or None,
        )


# App settings a deployment must set (infra/ sets each; tests/infra checks).  Everything else
# Settings reads has a default equal to ActiveCampaign's documented value or a safe local one.
DEPLOYMENT_SETTINGS: Final = (
    f"{STORAGE_CONNECTION}__blobServiceUri",
    f"{STORAGE_CONNECTION}__queueServiceUri",
    f"{STORAGE_CONNECTION}__credential",
    f"{STORAGE_CONNECTION}__clientId",
    f"{SNAPSHOT_CONNECTION}__blobServiceUri",
    f"{SNAPSHOT_CONNECTION}__credential",
    f"{SNAPSHOT_CONNECTION}__clientId",
    "SNAPSHOT_CONTAINER",
    "SNAPSHOT_ROOT",
    "SNAPSHOT_ALLOWED_ROOTS",
    "KEY_VAULT_URL",
    "AZURE_CLIENT_ID",
    "REFRESH_SCHEDULE",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
)
LOCAL_SECRET_PREFIX: Final = "ACSECRET__"  # noqa: S105 (a name prefix, not a secret)


def local_relaxations(env: Mapping[str, str]) -> frozenset[str]:
    """The local relaxations that are on; ConfigurationError (logged) for any in Azure, and for LOCAL_DEVELOPMENT."""
    if env.get(RETIRED_SETTING, "").strip():
        message = (
            f"setting {RETIRED_SETTING} is no longer supported: remove it and turn on only the relaxations you need: "
            f"{TRUST_PRINCIPAL_SETTING}=true (trust X-MS-CLIENT-PRINCIPAL without Easy Auth), "
            f"{ALLOWED_HOSTS_SETTING}=<host:port,...> (plain-http hosts such as the emulator, no DNS check), "
            f"{LOCAL_SECRETS_SETTING}=true (API keys in LOCAL_SECRETS_FILE or ACSECRET__* instead of Key Vault)"
        )
        logger.error("refusing to start: %s", message)
        raise ConfigurationError(message)
    on = {
        name
        for name, is_on in (
            (TRUST_PRINCIPAL_SETTING, _get(env, TRUST_PRINCIPAL_SETTING, _bool, False)),
            (ALLOWED_HOSTS_SETTING, any(h.strip() for h in env.get(ALLOWED_HOSTS_SETTING, "").split(","))),
            (LOCAL_SECRETS_SETTING, _get(env, LOCAL_SECRETS_SETTING, _bool, False)),
        )
        if is_on
    }
    marker = next((m for m in AZURE_MARKERS if env.get(m, "").strip()), None)
    if on and marker is not None:
        for name in sorted(on):
            logger.error(
                "refusing to start: local-only setting %s is set, but this app runs in Azure (%s is present); "
                "remove %s from the app settings",
                name,
                marker,
                name,
            )
        names = ", ".join(sorted(on))
        raise ConfigurationError(
            f"local-only setting(s) {names} must not be set in Azure ({marker} is present): remove them from the "
            "app settings (Easy Auth, public https hosts and Key Vault are what Azure uses)"
        )
    return frozenset(on)


def telemetry_connection_string(env: Mapping[str, str] | None = None) -> str | None:
    """The Application Insights connection string, read before anything else is configured."""
    env = os.environ if env is None else env
    return env.get("APPLICATIONINSIGHTS_CONNECTION_STRING", "").strip() or None


def _folders(env: Mapping[str, str], key: str) -> tuple[str, ...] | None:
    """Comma-separated folder prefixes ('/' alone is the container root); None when the setting is empty."""
    entries = [e.strip() for e in env.get(key, "").split(",") if e.strip()]
    folders = tuple(e.strip("/") for e in entries)
    if any(".." in f.split("/") for f in folders):
        raise ConfigurationError(f"setting {key} is invalid: a folder must not contain '..'")
    return folders or None


def _bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _get(
    env: Mapping[str, str],
    key: str,
    parse: Callable[[str], T],
    default: T,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> T:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw.strip())
    except ValueError as exc:
        raise ConfigurationError(f"setting {key} is invalid: {exc}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigurationError(f"setting {key} must be a finite number, got {raw.strip()!r}")
        if minimum is not None and value < minimum:
            raise ConfigurationError(f"setting {key} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ConfigurationError(f"setting {key} must be at most {maximum}, got {value}")
    return value


__all__ = [
    "ALLOWED_HOSTS_SETTING",
    "AZURE_MARKERS",
    "DEPLOYMENT_SETTINGS",
    "LOCAL_SECRETS_SETTING",
    "LOCAL_SECRET_PREFIX",
    "RETIRED_SETTING",
    "SNAPSHOT_CONNECTION",
    "TRUST_PRINCIPAL_SETTING",
    "AcLimits",
    "Secret",
    "Settings",
    "StorageSettings",
    "local_relaxations",
    "telemetry_connection_string",
]
