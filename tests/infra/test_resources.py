"""The resources exist with the security and hosting properties the deployment promises."""

from __future__ import annotations

import json
import re

from tests.infra.bicepdoc import (
    INFRA,
    REPO,
    chain,
    doc,
    evaluate,
    function,
    module,
    only_resource,
    resource_named,
    source,
)

SITE = "Microsoft.Web/sites"
SITE_CONFIG = "Microsoft.Web/sites/config"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the Azure CLI's well-known client id
FIC_ASSERTION_SETTING = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"


def test_storage_account_refuses_shared_keys_and_public_blobs() -> None:
    _, storage = only_resource(doc("app/storage.bicep"), "Microsoft.Storage/storageAccounts")
    props = storage["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True


def test_key_vault_is_rbac_only_with_soft_delete_and_purge_protection() -> None:
    d = doc("app/keyvault.bicep")
    _, vault = only_resource(d, "Microsoft.KeyVault/vaults")
    props = vault["properties"]
    assert props["enableRbacAuthorization"] is True
    assert "accessPolicies" not in props
    assert props["enableSoftDelete"] is True
    assert props["enablePurgeProtection"] is True
    retention = d["parameters"][props["softDeleteRetentionInDays"]]
    assert {"type": "min_value", "argument": 7} in retention["decorators"]


def test_log_analytics_and_app_insights_have_local_auth_disabled() -> None:
    d = doc("app/telemetry.bicep")
    workspace_symbol, workspace = only_resource(d, "Microsoft.OperationalInsights/workspaces")
    assert workspace["properties"]["features"]["disableLocalAuth"] is True
    _, insights = only_resource(d, "Microsoft.Insights/components")
    # ARM spells this property with a capital D on Microsoft.Insights/components.
    assert insights["properties"]["DisableLocalAuth"] is True
    assert chain(insights["properties"]["WorkspaceResourceId"]) == [workspace_symbol, "id"]


def test_plan_is_flex_consumption() -> None:
    _, plan = only_resource(doc("app/api.bicep"), "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True


def test_site_uses_only_the_user_assigned_identity() -> None:
    _, site = only_resource(doc("app/api.bicep"), SITE)
    identity = site["identity"]
    assert identity["type"] == "UserAssigned"
    assert list(identity["userAssignedIdentities"]) == ["'${identityId}'"]
    storage = site["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityId",
    }
    assert site["properties"]["httpsOnly"] is True
    assert site["kind"] == "functionapp,linux"


def test_site_runs_python_311_on_flex_with_bounded_scale() -> None:
    d = doc("app/api.bicep")
    _, site = only_resource(d, SITE)
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    scale = config["scaleAndConcurrency"]
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"
    # No 512 MB instances (a shard worker alone peaks near 305 MB); main.bicep says why next to the parameter.
    for where in (d, doc("main.bicep")):
        memory = where["parameters"]["instanceMemoryMB"]
        assert {"type": "allowed", "argument": [2048, 4096]} in memory["decorators"]
        assert memory["default"] == 2048
    assert "No 512 MB instances" in source("main.bicep")
    # main.bicep exposes both as parameters and passes them through.
    main = doc("main.bicep")
    params = main["modules"]["api"]["config"]["params"]
    assert params["maximumInstanceCount"] == "maximumInstanceCount"
    assert params["instanceMemoryMB"] == "instanceMemoryMB"
    assert main["parameters"]["maximumInstanceCount"]["default"] >= 1


def test_scale_comment_matches_host_json() -> None:
    """The comment on scaleAndConcurrency quotes host.json's queue batch numbers; they must stay true."""
    text = source("app/api.bicep")
    comment = "\n".join(
        line.strip() for line in text[: text.index("scaleAndConcurrency: {")].splitlines()[-12:] if "//" in line
    )
    assert "maximumInstanceCount" in comment
    assert "lane" in comment
    queues = json.loads((REPO / "host.json").read_text(encoding="utf-8"))["extensions"]["queues"]
    quoted = re.search(r"\((?:host\.json[^:]*): (\d+) \+ (\d+)\)", comment)
    assert quoted, "the comment quotes host.json batchSize + newBatchThreshold"
    assert (int(quoted.group(1)), int(quoted.group(2))) == (queues["batchSize"], queues["newBatchThreshold"])


def test_easy_auth_refuses_unauthenticated_requests_with_401() -> None:
    d = doc("app/api.bicep")
    auth = resource_named(d, SITE_CONFIG, "authsettingsV2")["properties"]
    assert auth["platform"]["enabled"] is True
    assert auth["globalValidation"]["requireAuthentication"] is True
    # a browser without a session goes to the Entra sign-in (the console); XHR calls get 401 from Easy Auth
    assert auth["globalValidation"]["unauthenticatedClientAction"] == "RedirectToLoginPage"
    assert auth["globalValidation"]["redirectToProvider"] == "azureactivedirectory"
    # Nothing is public by default: the excluded paths come from a parameter that defaults to [].
    excluded = auth["globalValidation"]["excludedPaths"]
    assert d["parameters"][excluded]["default"] == []
    assert doc("main.bicep")["parameters"]["authExcludedPaths"]["default"] == []
    aad = auth["identityProviders"]["azureActiveDirectory"]
    assert aad["registration"]["clientId"] == "authClientId"
    assert "authTenantId" in aad["registration"]["openIdIssuer"]


def test_easy_auth_signs_in_with_the_managed_identity_not_a_secret() -> None:
    aad = resource_named(doc("app/api.bicep"), SITE_CONFIG, "authsettingsV2")["properties"]["identityProviders"]
    registration = aad["azureActiveDirectory"]["registration"]
    assert registration["clientSecretSettingName"] == FIC_ASSERTION_SETTING
    for secret in ("clientSecretCertificateThumbprint", "clientSecretCertificateIssuer"):
        assert secret not in registration
    settings = function(resource_named(doc("app/api.bicep"), SITE_CONFIG, "appsettings")["properties"], "union")
    # The setting holds the client id of the identity the app registration trusts (its FIC in entra.bicep).
    assert settings["arg_2"][FIC_ASSERTION_SETTING] == "identityClientId"


def test_easy_auth_accepts_tokens_only_from_this_app_the_cli_and_named_clients() -> None:
    validation = resource_named(doc("app/api.bicep"), SITE_CONFIG, "authsettingsV2")["properties"]["identityProviders"][
        "azureActiveDirectory"
    ]["validation"]
    allowed = validation["defaultAuthorizationPolicy"]["allowedApplications"]
    env = {"authClientId": "11111111-1111-1111-1111-111111111111", "authAllowedClientApps": []}
    evaluated = _evaluate_union(allowed, env)
    assert evaluated == [env["authClientId"], AZURE_CLI_APP_ID]
    assert _evaluate_union(allowed, {**env, "authAllowedClientApps": ["automation"]})[-1] == "automation"
    assert _evaluate_union(allowed, {**env, "authClientId": ""}) == []
    assert doc("app/api.bicep")["variables"]["azureCliAppId"]["value"] == AZURE_CLI_APP_ID
    audiences = _evaluate_union(validation["allowedAudiences"], {**env, "authIdentifierUri": "api://tenant/app"})
    assert audiences == [env["authClientId"], "api://tenant/app"]
    main = module(doc("main.bicep"), "api")["params"]
    assert main["authAllowedClientApps"] == "authAllowedClientApps"
    assert doc("main.bicep")["parameters"]["authAllowedClientApps"]["default"] == []


def _evaluate_union(expr: object, env: dict[str, object]) -> object:
    """authConfigured ? union(a, b) : [] with authConfigured = !empty(authClientId), as api.bicep writes it."""
    env = {"azureCliAppId": AZURE_CLI_APP_ID, "authConfigured": bool(env["authClientId"]), **env}
    assert isinstance(expr, dict)
    operands = expr["operator"]["operands"]
    if not evaluate(operands["condition"], env):
        return evaluate(operands["false_value"], env)
    parts = function(operands["true_value"], "union")
    merged: list[object] = []
    for part in parts.values():
        for item in evaluate(part, env):
            if item not in merged:
                merged.append(item)
    return merged


def test_entra_client_id_tenant_and_app_roles_are_parameters() -> None:
    main = doc("main.bicep")
    for name in ("authClientId", "authTenantId", "authAppRoles"):
        assert name in main["parameters"]
    roles = json.loads((INFRA / "auth" / "app-roles.json").read_text(encoding="utf-8"))
    manifest_values = [role["value"] for role in roles]
    assert manifest_values == ["Admin", "Contributor", "Viewer"]
    assert main["parameters"]["authAppRoles"]["default"] == manifest_values
    assert len({role["id"] for role in roles}) == len(roles)


def test_basic_auth_publishing_is_disabled() -> None:
    d = doc("app/api.bicep")
    for name in ("ftp", "scm"):
        policy = resource_named(d, "Microsoft.Web/sites/basicPublishingCredentialsPolicies", name)
        assert policy["properties"]["allow"] is False


def test_site_is_tagged_for_azd_service_api() -> None:
    _, site = only_resource(doc("app/api.bicep"), SITE)
    tags = function(site["tags"], "union")
    assert tags["arg_2"] == {"'azd-service-name'": "serviceName"}
    assert doc("app/api.bicep")["parameters"]["serviceName"]["default"] == "api"
