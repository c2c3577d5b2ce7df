"""Every Bicep file parses, and the files fit together the way `bicep build` needs them to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.bicepdoc import INFRA, bicep_files, chain, doc, loaded_files, parse, unwrap, walk

FILES = bicep_files()
NAMES = [str(p.relative_to(INFRA)) for p in FILES]


def test_the_template_has_the_azd_shape() -> None:
    assert (INFRA / "main.bicep").is_file()
    assert (INFRA / "main.parameters.json").is_file()
    assert (INFRA / "abbreviations.json").is_file()
    assert (INFRA / "app" / "rbac.bicep").is_file()
    assert doc("main.bicep")["globals"]["scope"]["value"] == "subscription"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_every_bicep_file_parses(path: Path) -> None:
    parsed = parse(path)
    assert parsed.get("resources") or parsed.get("modules"), f"{path.name} declares nothing"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_loaded_files_exist(path: Path) -> None:
    for relative in loaded_files(parse(path)):
        assert (path.parent / relative).is_file(), f"{path.name} loads missing file {relative}"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_api_versions_are_stable(path: Path) -> None:
    for symbol, res in parse(path).get("resources", {}).items():
        assert "preview" not in res["api_version"], f"{path.name}:{symbol} uses {res['api_version']}"


def _modules() -> list[tuple[str, str, dict]]:
    found = []
    for path in FILES:
        for symbol, module in parse(path).get("modules", {}).items():
            found.append((str(path.relative_to(INFRA)), symbol, module))
    return found


MODULES = _modules()


def test_only_local_modules_are_used() -> None:
    # No registry (br:) modules: their parameters could not be verified offline.
    assert MODULES, "main.bicep composes modules"
    for where, symbol, module in MODULES:
        assert module["type"] == "local", f"{where}:{symbol} is a {module['type']} module"


@pytest.mark.parametrize(("where", "symbol", "module"), MODULES, ids=[f"{w}:{s}" for w, s, _ in MODULES])
def test_module_params_match_the_module(where: str, symbol: str, module: dict) -> None:
    target = (INFRA / where).parent / module["detail"]["path"]
    assert target.is_file(), f"{where}:{symbol} points at missing {target}"
    declared = parse(target).get("parameters", {})
    passed = unwrap(module["config"])["params"]
    unknown = set(passed) - set(declared)
    assert not unknown, f"{where}:{symbol} passes parameters {target.name} does not declare: {sorted(unknown)}"
    required = {name for name, p in declared.items() if p["default"] is None}
    missing = required - set(passed)
    assert not missing, f"{where}:{symbol} does not pass required parameters of {target.name}: {sorted(missing)}"


def test_module_outputs_used_in_main_exist() -> None:
    main = doc("main.bicep")
    outputs_of = {
        symbol: set(parse(INFRA / m["detail"]["path"]).get("outputs", {})) for symbol, m in main["modules"].items()
    }
    used = [parts for parts in _all_chains(main) if len(parts) >= 3 and parts[0] in outputs_of]
    assert used, "main.bicep reads module outputs"
    for parts in used:
        module, keyword, output = parts[0], parts[1], parts[2]
        assert keyword == "outputs"
        assert output in outputs_of[module], f"main.bicep reads {module}.outputs.{output}, which is not declared"


def _all_chains(d: dict) -> list[list[str]]:
    return [chain(node) for node in walk(d) if isinstance(node, dict) and len(chain(node)) > 1]
