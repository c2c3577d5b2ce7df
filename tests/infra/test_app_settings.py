"""The function app's settings: everything the code needs, identity-based, and the names the code uses."""

from __future__ import annotations

import ast
import json
from typing import Any

from local.host.config import HostConfig
from shared.config import DEPLOYMENT_SETTINGS, SNAPSHOT_CONNECTION, Settings
from shared.names import (
    ALL_CONTAINERS,
    ALL_QUEUES,
    FINALIZE_QUEUE,
    POISON_SUFFIX,
    REFRESH_SCHEDULE_SETTING,
    RUN_QUEUE,
    SHARD_QUEUE,
    STORAGE_CONNECTION,
)
from tests.infra.bicepdoc import REPO, chain, doc, function, resource_named

SITE_CONFIG = "Microsoft.Web/sites/config"


def _app_settings() -> dict[str, Any]:
    config = resource_named(doc("app/api.bicep"), SITE_CONFIG, "appsettings")
    merged = function(config["properties"], "union")
    # union(appSettings, {...}): the literal object comes last, so it wins over the extra settings.
    assert merged["arg_1"] == "appSettings"
    settings = merged["arg_2"]
    assert isinstance(settings, dict)
    return settings


def test_every_deployment_setting_is_set() -> None:
    missing = [name for name in DEPLOYMENT_SETTINGS if name not in _app_settings()]
    assert not missing, f"infra/app/api.bicep does not set {missing}"


def test_storage_settings_are_identity_based() -> None:
    settings = _app_settings()
    for prefix in (STORAGE_CONNECTION, SNAPSHOT_CONNECTION):
        assert settings[f"{prefix}__credential"] == "managedidentity"
        assert settings[f"{prefix}__clientId"] == "identityClientId"
        # A plain <prefix> setting would be a connection string (with a key).
        assert prefix not in settings
    assert chain(settings[f"{STORAGE_CONNECTION}__blobServiceUri"]) == [
        "storage",
        "properties",
        "primaryEndpoints",
        "blob",
    ]
    assert chain(settings[f"{STORAGE_CONNECTION}__queueServiceUri"]) == [
        "storage",
        "properties",
        "primaryEndpoints",
        "queue",
    ]


def test_default_credential_and_telemetry_use_the_user_assigned_identity() -> None:
    settings = _app_settings()
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
    assert chain(settings["KEY_VAULT_URL"]) == ["keyVault", "properties", "vaultUri"]


def test_no_setting_carries_a_connection_string_with_a_key() -> None:
    for name, value in _app_settings().items():
        if name == "APPLICATIONINSIGHTS_CONNECTION_STRING":
            # The ingestion endpoint and instrumentation key; not a secret with local auth disabled.
            assert chain(value) == ["applicationInsights", "properties", "ConnectionString"]
            continue
        assert "ConnectionString" not in name
        assert "listKeys" not in str(value)


def test_schedule_and_snapshot_defaults_match_the_code() -> None:
    main = doc("main.bicep")
    schedule = main["parameters"]["refreshSchedule"]["default"]
    assert len(schedule.split()) == 6, "NCRONTAB for the Functions timer has six fields"
    assert schedule == "0 */5 * * * *"
    assert _app_settings()[REFRESH_SCHEDULE_SETTING] == "refreshSchedule"
    code_default = Settings.from_env({STORAGE_CONNECTION: "UseDevelopmentStorage=true"}).snapshot_container
    assert main["parameters"]["snapshotContainerName"]["default"] == code_default
    assert _app_settings()["SNAPSHOT_CONTAINER"] == "snapshotContainerName"


def test_queue_names_equal_shared_names() -> None:
    queues = doc("app/storage.bicep")["variables"]["queueNames"]["value"]
    assert sorted(queues) == sorted(ALL_QUEUES)
    for queue in (RUN_QUEUE, SHARD_QUEUE, FINALIZE_QUEUE):
        assert queue + POISON_SUFFIX in queues


def test_container_names_equal_shared_names() -> None:
    storage = doc("app/storage.bicep")
    assert storage["variables"]["appContainerNames"]["value"] == list(ALL_CONTAINERS)
    containers = storage["variables"]["containerNames"]["value"]
    assert function(containers, "union") == {"arg_1": "appContainerNames", "arg_2": "extraContainerNames"}


def test_snapshot_and_deployment_containers_are_created_in_the_app_account() -> None:
    params = doc("main.bicep")["modules"]["storage"]["config"]["params"]["extraContainerNames"]
    branches = params["operator"]["operands"]
    assert params["operator"]["type"] == "conditional"
    # Same account (no snapshotStorageAccountName): both; another account: only the package container.
    assert branches["true_value"] == ["effectiveSnapshotContainer", "deploymentStorageContainerName"]
    assert branches["false_value"] == ["deploymentStorageContainerName"]
    api_params = doc("main.bicep")["modules"]["api"]["config"]["params"]
    assert api_params["deploymentStorageContainerName"] == "deploymentStorageContainerName"


def test_each_log_record_is_ingested_once() -> None:
    """The host exports OpenTelemetry and leaves the worker's records to the worker's own exporter."""
    host = json.loads((REPO / "host.json").read_text(encoding="utf-8"))
    assert host["telemetryMode"] == "OpenTelemetry"
    # Sampling settings of the Application Insights SDK do not apply in OpenTelemetry mode.
    assert "applicationInsights" not in host.get("logging", {})
    settings = _app_settings()
    # The worker declares that it exports its own telemetry, so the host drops what the worker forwards...
    assert settings["PYTHON_ENABLE_OPENTELEMETRY"] == "true"
    # ...and it must not configure a second exporter next to shared/telemetry.py's.
    assert "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY" not in settings
    assert "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY" not in json.dumps(doc("app/api.bicep"))
    # function_app.py configures that exporter when it is imported.
    tree = ast.parse((REPO / "function_app.py").read_text(encoding="utf-8"))
    calls = [
        node.value.func.id
        for node in tree.body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
    ]
    assert "configure_telemetry" in calls
    # The stand-in host reads the same host.json.
    config = HostConfig.load(REPO / "host.json")
    assert config.queues.batch_size == host["extensions"]["queues"]["batchSize"]
