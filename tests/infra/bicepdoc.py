"""Helpers over pycep-parser's view of the Bicep files in infra/ (parsed once per session).

pycep gives each file as a dict of parameters / variables / resources / modules / outputs, with
expressions as nested dicts: {"function": {"type": ..., "parameters": {...}}} for calls and
{"operator": {"type": ..., "operands": {...}}} for operators. Identifiers and string literals are both
plain strings, so tests compare them against the exact text they expect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
APP = INFRA / "app"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> dict[str, Any]:
    doc = BicepParser().parse(file_path=path)
    assert isinstance(doc, dict)
    return doc


def doc(name: str) -> dict[str, Any]:
    """Parse infra/<name> (e.g. "main.bicep", "app/api.bicep")."""
    return parse(INFRA / name)


def source(name: str) -> str:
    return (INFRA / name).read_text(encoding="utf-8")


def unwrap(config: Any) -> Any:
    """Strip pycep's wrappers for `if (...)` conditions and `[for ...]` loops."""
    while isinstance(config, dict) and "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config


def condition(config: dict[str, Any]) -> Any:
    return config.get("condition") if "config" in config else None


def resources(d: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    """Symbol -> (unwrapped) config of every non-existing resource of that type."""
    return {
        symbol: unwrap(res["config"])
        for symbol, res in d.get("resources", {}).items()
        if res["type"] == type_ and not res["existing"]
    }


def only_resource(d: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = resources(d, type_)
    assert len(found) == 1, f"expected exactly one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def resource_named(d: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    matches = [cfg for cfg in resources(d, type_).values() if cfg.get("name") == name]
    assert len(matches) == 1, f"expected one {type_} named {name!r}, found {len(matches)}"
    return matches[0]


def chain(expr: Any) -> list[str]:
    """`a.b.c` -> ["a", "b", "c"]; anything that is not a property access -> []."""
    if isinstance(expr, str):
        return [expr]
    if isinstance(expr, dict) and expr.get("operator", {}).get("type") == "property_accessor":
        operands = expr["operator"]["operands"]
        left, right = chain(operands["operand_1"]), chain(operands["operand_2"])
        return left + right if left and right else []
    return []


def function(expr: Any, type_: str) -> dict[str, Any]:
    """The parameters of a call of the given pycep function type (e.g. "guid", "union")."""
    assert isinstance(expr, dict) and "function" in expr, f"expected a {type_}() call, got {expr!r}"
    assert expr["function"]["type"] == type_, f"expected {type_}(), got {expr['function']['type']}()"
    params = expr["function"]["parameters"]
    assert isinstance(params, dict)
    return params


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def property_chains(node: Any) -> list[list[str]]:
    """Every maximal `a.b.c` property access anywhere under node."""
    found: list[list[str]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        parts = chain(item) if isinstance(item, dict) else []
        if parts:
            found.append(parts)
            continue
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def loaded_files(d: dict[str, Any]) -> list[str]:
    """Paths given to loadTextContent / loadJsonContent in a file."""
    return [
        node["function"]["parameters"]["file_path"]
        for node in walk(d)
        if isinstance(node, dict)
        and isinstance(node.get("function"), dict)
        and node["function"].get("type") in {"load_text_content", "load_json_content"}
    ]


def kql_text(bicep_name: str, expr: Any) -> str:
    """Resolve `kql.<key>` in a Bicep file to the text of the .kql file it loads."""
    d = doc(bicep_name)
    parts = chain(expr)
    assert len(parts) == 2, f"expected a kql.<name> reference, got {expr!r}"
    var_name, key = parts
    table = d["variables"][var_name]["value"]
    path = function(table[key], "load_text_content")["file_path"]
    return ((INFRA / bicep_name).parent / path).read_text(encoding="utf-8")


def main_parameters() -> dict[str, Any]:
    params = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert isinstance(params, dict)
    return params


ENV_REF = re.compile(r"^\$\{(?P<var>[A-Z0-9_]+)(?:=(?P<default>[^}]*))?\}$")


def module(d: dict[str, Any], symbol: str) -> dict[str, Any]:
    """A module's (unwrapped) config: name, params, dependsOn; its `if (...)` condition is dropped."""
    config = unwrap(d["modules"][symbol]["config"])
    assert isinstance(config, dict)
    return config


def evaluate(expr: Any, env: dict[str, Any]) -> Any:
    """Evaluate the few Bicep operators tests need (==, &&, ||, !, ?:, contains, empty) over known names.

    pycep writes identifiers and string literals alike as plain strings: a string that names a key of
    `env` is read as that variable, any other string is a literal.
    """
    if isinstance(expr, str):
        return env.get(expr, expr)
    if isinstance(expr, bool | int) or expr is None:
        return expr
    if isinstance(expr, list):
        return [evaluate(item, env) for item in expr]
    if "function" in expr:
        kind, params = expr["function"]["type"], expr["function"]["parameters"]
        if kind == "contains":
            return evaluate(params["item_to_find"], env) in evaluate(params["container"], env)
        if kind == "empty":
            return not evaluate(params["item_to_test"], env)
        raise AssertionError(f"evaluate() does not know {kind}()")
    kind, operands = expr["operator"]["type"], expr["operator"]["operands"]
    if kind == "conditional":
        branch = "true_value" if evaluate(operands["condition"], env) else "false_value"
        return evaluate(operands[branch], env)
    if kind == "not":
        return not evaluate(operands["bool_value"], env)
    left, right = evaluate(operands["operand_1"], env), evaluate(operands["operand_2"], env)
    if kind == "equals":
        return left == right
    if kind == "and":
        return bool(left and right)
    if kind == "or":
        return bool(left or right)
    raise AssertionError(f"evaluate() does not know the {kind} operator")
