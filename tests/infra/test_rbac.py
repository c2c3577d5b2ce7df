"""Role assignments: all in app/rbac.bicep, each idempotently named, each with an explicit principalType."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.bicepdoc import (
    INFRA,
    bicep_files,
    chain,
    doc,
    evaluate,
    function,
    main_parameters,
    module,
    parse,
    resources,
    source,
)

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
RBAC = "app/rbac.bicep"

# Built-in role definition ids (the same everywhere in public Azure).
ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}

# (role, principal parameter, scope resource type) the deployment needs.
REQUIRED = [
    ("Storage Blob Data Owner", "managedIdentityPrincipalId", "Microsoft.Storage/storageAccounts"),
    ("Storage Queue Data Contributor", "managedIdentityPrincipalId", "Microsoft.Storage/storageAccounts"),
    ("Key Vault Secrets Officer", "managedIdentityPrincipalId", "Microsoft.KeyVault/vaults"),
    ("Monitoring Metrics Publisher", "managedIdentityPrincipalId", "Microsoft.Insights/components"),
    ("Storage Blob Data Owner", "userPrincipalId", "Microsoft.Storage/storageAccounts"),
    ("Storage Queue Data Contributor", "userPrincipalId", "Microsoft.Storage/storageAccounts"),
    ("Key Vault Secrets Officer", "userPrincipalId", "Microsoft.KeyVault/vaults"),
    (
        "Storage Blob Data Contributor",
        "snapshotWriterPrincipalId",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
    ),
]


def _role_vars() -> dict[str, str]:
    """Role variable name -> GUID, for variables holding a built-in role id."""
    variables = doc(RBAC)["variables"]
    return {name: v["value"] for name, v in variables.items() if v["value"] in ROLES.values()}


def _assignments() -> dict[str, dict[str, Any]]:
    return resources(doc(RBAC), ROLE_ASSIGNMENT)


def _scope_type(symbol: str) -> str:
    return str(doc(RBAC)["resources"][symbol]["type"])


def test_role_assignments_live_only_in_rbac_bicep() -> None:
    for path in bicep_files():
        if path == INFRA / RBAC:
            continue
        assert not resources(parse(path), ROLE_ASSIGNMENT), f"{path.name} assigns roles; move them to {RBAC}"


def test_each_role_id_is_a_variable_with_a_comment_naming_the_role() -> None:
    text = source(RBAC)
    for role, guid in ROLES.items():
        line = next((ln for ln in text.splitlines() if f"'{guid}'" in ln and ln.lstrip().startswith("var ")), None)
        assert line is not None, f"no variable holds the {role} role id"
        assert re.search(r"//\s*" + re.escape(role) + r"\s*$", line), f"the {role} variable lacks its comment"


@pytest.mark.parametrize(("role", "principal", "scope_type"), REQUIRED, ids=[f"{r}:{p}" for r, p, _ in REQUIRED])
def test_required_role_assignment_exists(role: str, principal: str, scope_type: str) -> None:
    role_var = next(name for name, guid in _role_vars().items() if guid == ROLES[role])
    matches = []
    for symbol, cfg in _assignments().items():
        name = function(cfg["name"], "guid")
        if name.get("extra_string_1") == principal and name.get("extra_string_2") == role_var:
            matches.append((symbol, cfg, name))
    assert len(matches) == 1, f"expected one {role} assignment for {principal}, found {len(matches)}"
    symbol, cfg, name = matches[0]
    scope = cfg["scope"]
    assert chain(name["base_string"]) == [scope, "id"], f"{symbol} is not named guid({scope}.id, principal, role)"
    assert _scope_type(scope) == scope_type
    definition = function(cfg["properties"]["roleDefinitionId"], "subscription_resource_id")
    assert definition["resource_type"] == "Microsoft.Authorization/roleDefinitions"
    assert definition["resource_name_1"] == role_var
    assert cfg["properties"]["principalId"] == principal


def test_every_assignment_is_named_with_guid_and_sets_principal_type() -> None:
    assignments = _assignments()
    assert len(assignments) == len(REQUIRED)
    for symbol, cfg in assignments.items():
        name = function(cfg["name"], "guid")
        assert chain(name["base_string"]) == [cfg["scope"], "id"], symbol
        assert name["extra_string_1"] == cfg["properties"]["principalId"], symbol
        assert name["extra_string_2"] in _role_vars(), symbol
        assert cfg["properties"].get("principalType"), f"{symbol} has no principalType"


def test_managed_identity_is_a_service_principal_and_optional_principals_are_conditional() -> None:
    raw = doc(RBAC)["resources"]
    for symbol, cfg in _assignments().items():
        principal = cfg["properties"]["principalId"]
        conditional = "condition" in raw[symbol]["config"] and raw[symbol]["config"]["condition"] is not None
        if principal == "managedIdentityPrincipalId":
            assert cfg["properties"]["principalType"] == "ServicePrincipal"
            assert not conditional, f"{symbol}: the app always needs its roles"
        else:
            assert conditional, f"{symbol}: assignments for an optional principal must be conditional"
        if principal == "userPrincipalId":
            # A person running azd is a User, a CI login a ServicePrincipal: azd passes AZURE_PRINCIPAL_TYPE.
            assert cfg["properties"]["principalType"] == "userPrincipalType"
    main_rbac = module(doc("main.bicep"), "rbac")["params"]
    assert main_rbac["userPrincipalType"] == "principalType"


def test_the_deploying_principals_data_roles_are_opt_in() -> None:
    main = doc("main.bicep")
    passed = module(main, "rbac")["params"]["userPrincipalId"]
    assert main["parameters"]["grantDeployerDataRoles"]["default"] is False
    env = {"principalId": "00000000-0000-0000-0000-0000000000aa"}
    assert evaluate(passed, {**env, "grantDeployerDataRoles": False}) == ""
    assert evaluate(passed, {**env, "grantDeployerDataRoles": True}) == env["principalId"]
    # rbac.bicep makes each of the user's assignments only for a non-empty principal.
    raw = doc(RBAC)["resources"]
    conditions = {
        raw[symbol]["config"]["condition"]
        for symbol, cfg in _assignments().items()
        if cfg["properties"]["principalId"] == "userPrincipalId"
    }
    assert conditions == {"hasUser"}
    has_user = doc(RBAC)["variables"]["hasUser"]["value"]
    assert evaluate(has_user, {"userPrincipalId": ""}) is False
    assert evaluate(has_user, {"userPrincipalId": env["principalId"]}) is True
    assert main_parameters()["grantDeployerDataRoles"]["value"] == "${GRANT_DEPLOYER_DATA_ROLES=false}"


def test_the_function_app_waits_for_its_role_assignments() -> None:
    # The site starts its host as soon as it exists, and the host reaches storage with the managed identity.
    assert module(doc("main.bicep"), "api").get("dependsOn") == ["rbac"]
