"""The Entra app registration: created by `azd up` with the Microsoft Graph Bicep extension, or skipped for the
manual path, and wired into Easy Auth either way.

Shapes are checked against Microsoft's Graph Bicep type catalogue (microsoftgraph/msgraph-bicep-types,
generated/microsoftgraph/microsoft.graph/v1.0/1.0.0) and its quickstart templates.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.infra.bicepdoc import (
    INFRA,
    bicep_files,
    chain,
    doc,
    evaluate,
    function,
    main_parameters,
    module,
    only_resource,
    parse,
    resources,
    unwrap,
)

ENTRA = "app/entra.bicep"
APPLICATION = "Microsoft.Graph/applications"
SERVICE_PRINCIPAL = "Microsoft.Graph/servicePrincipals"
CREDENTIAL = "Microsoft.Graph/applications/federatedIdentityCredentials"
ROLE_ASSIGNMENT = "Microsoft.Graph/appRoleAssignedTo"
GRAPH_EXTENSION_REF = "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
APP_ROLES = ["Admin", "Contributor", "Viewer"]


def _app() -> dict[str, Any]:
    return only_resource(doc(ENTRA), APPLICATION)[1]


def _roles_file() -> list[dict[str, Any]]:
    roles = json.loads((INFRA / "auth" / "app-roles.json").read_text(encoding="utf-8"))
    assert isinstance(roles, list)
    return roles


def test_bicepconfig_enables_the_graph_extension_as_microsoft_documents() -> None:
    config = json.loads((INFRA / "bicepconfig.json").read_text(encoding="utf-8"))
    assert config["extensions"] == {"microsoftGraphV1": GRAPH_EXTENSION_REF}
    assert doc(ENTRA).get("extensions") == {"microsoftGraphV1": {}}


def test_graph_resources_live_only_in_the_entra_module() -> None:
    for path in bicep_files():
        graph = [r for r in parse(path).get("resources", {}).values() if r["type"].startswith("Microsoft.Graph/")]
        if path == INFRA / ENTRA:
            assert {r["api_version"] for r in graph} == {"v1.0"}
            continue
        assert not graph, f"{path.name} declares Graph resources; they belong in {ENTRA}"
        assert not parse(path).get("extensions"), f"{path.name} loads an extension"


def test_app_roles_are_admin_contributor_viewer_with_fixed_ids() -> None:
    roles = _roles_file()
    assert [role["value"] for role in roles] == APP_ROLES
    ids = [role["id"] for role in roles]
    assert len(set(ids)) == len(ids)
    for role in roles:
        assert str(uuid.UUID(role["id"])) == role["id"], "a literal GUID, the same on every deployment"
        assert role["isEnabled"] is True
        assert set(role["allowedMemberTypes"]) <= {"User", "Application"}
        assert set(role) == {"allowedMemberTypes", "description", "displayName", "id", "isEnabled", "value"}
    d = doc(ENTRA)
    assert _app()["appRoles"] == "appRoles"
    assert function(d["variables"]["appRoles"]["value"], "load_json_content")["file_path"] == "../auth/app-roles.json"
    # The Admin assignment takes the id of the first role, which must be Admin.
    admin = d["variables"]["adminAppRoleId"]["value"]["operator"]["operands"]
    first = {"operand_1": "appRoles", "operand_2": 0}
    assert admin["operand_1"] == {"operator": {"type": "index_accessor", "operands": first}}
    assert admin["operand_2"] == "id"
    assert roles[0]["value"] == "Admin"


def test_app_identity_uri_scope_and_cli_pre_authorisation() -> None:
    d = doc(ENTRA)
    app = _app()
    assert app["uniqueName"] == "uniqueName"
    assert app["signInAudience"] == "AzureADMyOrg"
    # api://<tenantId>/<string>: a format Entra's default app management policy accepts.
    assert app["identifierUris"] == ["identifierUri"]
    assert d["variables"]["identifierUri"]["value"] == "api://${tenant().tenantId}/${uniqueName}"
    api = app["api"]
    assert api["requestedAccessTokenVersion"] == 2
    (scope,) = api["oauth2PermissionScopes"]
    assert (scope["value"], scope["type"], scope["isEnabled"]) == ("user_impersonation", "User", True)
    assert scope["id"] == "userImpersonationScopeId"
    scope_id = function(d["variables"]["userImpersonationScopeId"]["value"], "guid")
    assert scope_id == {"base_string": "uniqueName", "extra_string_1": "user_impersonation"}, "stable per app"
    (cli,) = api["preAuthorizedApplications"]
    assert cli["appId"] == "azureCliAppId"
    assert d["variables"]["azureCliAppId"]["value"] == AZURE_CLI_APP_ID
    assert cli["delegatedPermissionIds"] == ["userImpersonationScopeId"]
    assert d["outputs"]["scope"]["value"] == "${identifierUri}/user_impersonation"


def test_redirect_uris_are_easy_auths_callback_and_the_console() -> None:
    d = doc(ENTRA)
    web = _app()["web"]
    assert web["redirectUris"] == "redirectUris"
    assert d["variables"]["redirectUris"]["value"] == [
        "https://${hostName}/.auth/login/aad/callback",
        "https://${hostName}${consolePath}",
    ]
    # Easy Auth's hybrid sign-in (code id_token) needs ID tokens; access tokens never come from the implicit flow.
    assert web["implicitGrantSettings"] == {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}
    main = doc("main.bicep")
    params = module(main, "entra")["params"]
    assert params["hostName"] == "functionAppHostName"
    assert main["variables"]["functionAppHostName"]["value"] == "${functionAppName}.azurewebsites.net"
    # ...the same name the site gets.
    assert module(main, "api")["params"]["name"] == "functionAppName"
    assert params["consolePath"] == "consolePath"


def test_service_principal_requires_an_app_role_assignment() -> None:
    _, sp = only_resource(doc(ENTRA), SERVICE_PRINCIPAL)
    assert chain(sp["appId"]) == ["app", "appId"]
    assert sp["appRoleAssignmentRequired"] is True


def test_easy_auth_signs_in_with_the_managed_identity_as_federated_credential() -> None:
    _, credential = only_resource(doc(ENTRA), CREDENTIAL)
    assert credential["name"].startswith("${app.uniqueName}/")
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    assert credential["issuer"] == "${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0"
    assert credential["subject"] == "identityPrincipalId"
    # ...the principal id of the identity the site runs as, whose client id api.bicep hands to Easy Auth.
    assert chain(module(doc("main.bicep"), "entra")["params"]["identityPrincipalId"]) == [
        "apiIdentity",
        "outputs",
        "principalId",
    ]
    assert chain(module(doc("main.bicep"), "api")["params"]["identityClientId"]) == [
        "apiIdentity",
        "outputs",
        "clientId",
    ]


def test_admin_role_for_the_deploying_user_is_opt_in() -> None:
    d = doc(ENTRA)
    raw = d["resources"]
    ((symbol, assignment),) = resources(d, ROLE_ASSIGNMENT).items()
    assert assignment["appRoleId"] == "adminAppRoleId"
    assert chain(assignment["resourceId"]) == ["servicePrincipal", "id"]
    assert assignment["principalId"] == "adminPrincipalId"
    condition = raw[symbol]["config"]["condition"]
    assert evaluate(condition, {"adminPrincipalId": ""}) is False
    assert evaluate(condition, {"adminPrincipalId": "someone"}) is True
    main = doc("main.bicep")
    assert main["parameters"]["assignAdminRole"]["default"] is False
    passed = module(main, "entra")["params"]["adminPrincipalId"]
    me = {"principalId": "22222222-2222-2222-2222-222222222222"}
    assert evaluate(passed, {**me, "assignAdminRole": False}) == ""
    assert evaluate(passed, {**me, "assignAdminRole": True}) == me["principalId"]
    assert main_parameters()["assignAdminRole"]["value"] == "${ASSIGN_ADMIN_ROLE=false}"


def test_azd_up_creates_the_registration_and_the_manual_path_switches_it_off() -> None:
    main = doc("main.bicep")
    assert main["parameters"]["createAppRegistration"]["default"] is True
    assert main["modules"]["entra"]["config"]["condition"] == "createAppRegistration"
    assert main_parameters()["createAppRegistration"]["value"] == "${CREATE_APP_REGISTRATION=true}"
    # The registration lands at a stable key: the same app is found and updated on every `azd up`.
    unique = module(main, "entra")["params"]["uniqueName"]
    assert unique == "ac-segment-export-${resourceToken}"
    assert not re.search(r"newGuid|utcNow", json.dumps(unwrap(main["modules"]["entra"]["config"])))
    # Easy Auth gets the Graph-created app's id, or the manual one.
    client = main["variables"]["effectiveAuthClientId"]["value"]
    created = {"createAppRegistration": True, "authClientId": "manual-id"}
    assert chain(client["operator"]["operands"]["true_value"]) == ["entra", "outputs", "appId"]
    assert evaluate(client, {**created, "createAppRegistration": False}) == "manual-id"
    assert evaluate(client["operator"]["operands"]["condition"], created) is True
    assert module(main, "api")["params"]["authClientId"] == "effectiveAuthClientId"
    uri = main["variables"]["effectiveIdentifierUri"]["value"]
    manual = {"createAppRegistration": False, "authClientId": "manual-id"}
    assert evaluate(uri, manual) == "api://${authClientId}"  # the manual path's identifier URI (infra/README.md)
    assert evaluate(uri, {**manual, "authClientId": ""}) == ""
    assert module(main, "api")["params"]["authIdentifierUri"] == "effectiveIdentifierUri"
    # The Graph-created app lives in this tenant; only the manual one may sit in another.
    tenant = main["variables"]["effectiveAuthTenantId"]["value"]["operator"]["operands"]
    assert evaluate(tenant["condition"], {"createAppRegistration": True, "authTenantId": "other"}) is True
    assert evaluate(tenant["condition"], {"createAppRegistration": False, "authTenantId": "other"}) is False
    assert evaluate(tenant["condition"], {"createAppRegistration": False, "authTenantId": ""}) is True
    assert chain(tenant["true_value"]["operator"]["operands"]["operand_2"]) == ["tenantId"]
    assert tenant["true_value"]["operator"]["operands"]["operand_1"] == {"function": {"type": "tenant"}}
    assert tenant["false_value"] == "authTenantId"
    outputs = main["outputs"]
    for name in ("AUTH_APP_ID", "AUTH_IDENTIFIER_URI", "AUTH_SCOPE", "SERVICE_CONSOLE_URI"):
        assert name in outputs, f"azd writes {name} to the environment; the README uses it"


def test_manual_path_uses_the_same_roles_and_documents_the_same_registration() -> None:
    readme = (INFRA / "README.md").read_text(encoding="utf-8")
    manual = readme[readme.index("## Manual app registration") :]
    assert "--app-roles @infra/auth/app-roles.json" in manual
    assert AZURE_CLI_APP_ID in manual
    assert "/.auth/login/aad/callback" in manual
    assert "federated-credential create" in manual
    assert "CREATE_APP_REGISTRATION false" in manual
