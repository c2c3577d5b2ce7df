"""azure.yaml, main.parameters.json and the outputs: what azd reads and writes."""

from __future__ import annotations

import re

import yaml

from tests.infra.bicepdoc import ENV_REF, INFRA, REPO, doc, kql_text, main_parameters, resources

README = INFRA / "README.md"


def test_azure_yaml_names_the_api_service_and_the_infra_path() -> None:
    spec = yaml.safe_load((REPO / "azure.yaml").read_text(encoding="utf-8"))
    api = spec["services"]["api"]
    assert {key: api[key] for key in ("project", "language", "host")} == {
        "project": ".",
        "language": "python",
        "host": "function",
    }
    assert set(api) <= {"project", "language", "host", "hooks"}
    infra = spec["infra"]
    assert infra["provider"] == "bicep"
    assert (REPO / infra["path"] / f"{infra['module']}.bicep").is_file()
    assert (REPO / infra["path"]).resolve() == INFRA


def test_parameter_file_matches_main_bicep() -> None:
    declared = doc("main.bicep")["parameters"]
    mapped = main_parameters()
    unknown = set(mapped) - set(declared)
    assert not unknown, f"main.parameters.json sets parameters main.bicep lacks: {sorted(unknown)}"
    required = {name for name, p in declared.items() if p["default"] is None}
    assert required <= set(mapped), f"azd would prompt for {sorted(required - set(mapped))}"
    assert mapped["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert mapped["location"]["value"] == "${AZURE_LOCATION}"
    assert mapped["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"


def test_parameter_file_defaults_equal_the_bicep_defaults() -> None:
    declared = doc("main.bicep")["parameters"]
    for name, entry in main_parameters().items():
        ref = ENV_REF.match(entry["value"])
        assert ref, f"{name} is not a single ${{VAR}} reference"
        default = ref.group("default")
        if default is None:
            continue
        bicep_default = declared[name]["default"]
        kind = declared[name]["type"]
        # azd converts the substituted string to the parameter's type (bicep_provider.go, armParameterFileValue).
        coerced: object = default
        if kind == "int":
            coerced = int(default)
        elif kind == "bool":
            coerced = {"true": True, "false": False}[default]
        assert coerced == bicep_default, f"{name}: main.parameters.json says {default}, main.bicep {bicep_default}"


def test_location_is_an_azd_location() -> None:
    location = doc("main.bicep")["parameters"]["location"]
    assert {"type": "metadata", "argument": {"azd": {"type": "location"}}} in location["decorators"]


def test_outputs_are_upper_snake_and_cover_what_azd_and_operators_need() -> None:
    outputs = doc("main.bicep")["outputs"]
    for name in outputs:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), f"output {name} is not UPPER_SNAKE"
    needed = {
        "AZURE_FUNCTION_NAME",
        "SERVICE_API_NAME",
        "SERVICE_API_URI",
        "AZURE_RESOURCE_GROUP",
        "AZURE_KEY_VAULT_ENDPOINT",
        "AZURE_KEY_VAULT_NAME",
        "AZURE_STORAGE_ACCOUNT_NAME",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "AZURE_MANAGED_IDENTITY_CLIENT_ID",
    }
    assert needed <= set(outputs), f"missing outputs {sorted(needed - set(outputs))}"


def test_readme_documents_every_azd_variable_and_quotes_every_alert_query() -> None:
    readme = README.read_text(encoding="utf-8")
    for name, entry in main_parameters().items():
        ref = ENV_REF.match(entry["value"])
        assert ref
        assert ref.group("var") in readme, f"infra/README.md does not mention {ref.group('var')} ({name})"
    rules = resources(doc("app/monitoring.bicep"), "Microsoft.Insights/scheduledQueryRules")
    assert rules
    for rule in rules.values():
        query = kql_text("app/monitoring.bicep", rule["properties"]["criteria"]["allOf"][0]["query"])
        assert query.strip() in readme, f"infra/README.md does not quote the query of {rule['name']}"
