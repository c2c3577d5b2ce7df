"""Reading EmulatorConfig from JSON patches and CLI flags, with type checks and value checks."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

import orjson

from local.activecampaign_emulator.config import EmulatorConfig

_PROBABILITIES = (
    "error_500_probability",
    "error_502_probability",
    "error_503_probability",
    "reset_probability",
    "batch_failure_probability",
)
_NON_NEGATIVE = (
    "rate_scale",
    "general_rps",
    "bulk_multi_per_min",
    "bulk_single_per_min",
    "initial_false_s",
    "processing_delay_s",
    "latency_ms",
    "latency_jitter_ms",
    "storm_start_after_s",
    "storm_duration_s",
    "bulk_max_contacts",
    "bulk_max_bytes",
    "log_limit",
)


class ConfigError(ValueError):
    """A config patch or flag names an unknown field or has a bad value; the message says which."""


@cache
def _hints() -> dict[str, Any]:
    return typing.get_type_hints(EmulatorConfig)


def field_specs() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(EmulatorConfig))


def _coerce(name: str, hint: Any, value: Any) -> Any:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        inner = next(a for a in args if a is not type(None))
        return _coerce(name, inner, value)
    if typing.get_origin(hint) is list:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v] if value else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of strings")
        return list(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{name} must be true or false")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConfigError(f"{name} must be an integer")
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name} must be an integer") from None
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConfigError(f"{name} must be a number")
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number") from None
    if hint is str:
        if not isinstance(value, str | int):
            raise ConfigError(f"{name} must be a string")
        return str(value)
    raise ConfigError(f"{name} has an unsupported type")  # pragma: no cover - all fields are covered above


def coerce_patch(patch: Mapping[str, Any]) -> dict[str, Any]:
    """Check a patch (field -> value) and return it with values converted to the fields' types."""
    hints = _hints()
    specs = {f.name: f for f in field_specs()}
    out: dict[str, Any] = {}
    for name, raw in patch.items():
        if name not in specs:
            raise ConfigError(f"unknown config field {name!r}; see GET /_emulator/config")
        value = _coerce(name, hints[name], raw)
        choices = specs[name].metadata.get("choices") or ()
        if choices and value is not None and value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}")
        if name in _PROBABILITIES and not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1")
        if name in _NON_NEGATIVE and value < 0:
            raise ConfigError(f"{name} must not be negative")
        out[name] = value
    return out


def apply_patch(config: EmulatorConfig, patch: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the whole patch first, then set every field (all or nothing); returns the coerced patch."""
    clean = coerce_patch(patch)
    for name, value in clean.items():
        setattr(config, name, value)
    return clean


def config_to_dict(config: EmulatorConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_docs() -> dict[str, dict[str, Any]]:
    """field -> {"doc", "default", "choices"} for GET /_emulator/config?docs=1 and --help."""
    defaults = config_to_dict(EmulatorConfig())
    return {
        f.name: {"doc": f.metadata.get("doc", ""), "default": defaults[f.name], "choices": list(f.metadata["choices"])}
        for f in field_specs()
    }


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field: --rate-scale 60, --no-limits-enabled, --api-key K (repeatable), --fault-routes a,b."""
    group = parser.add_argument_group("switches (EmulatorConfig fields; also patchable at run time)")
    hints = _hints()
    for spec in field_specs():
        flag = "--" + spec.name.replace("_", "-")
        doc = str(spec.metadata.get("doc", "")).replace("%", "%%")
        if hints[spec.name] is bool:
            group.add_argument(flag, dest=spec.name, action=argparse.BooleanOptionalAction, default=None, help=doc)
        elif spec.name == "api_keys":
            group.add_argument("--api-key", dest="api_keys", action="append", default=None, help=doc + " Repeatable.")
        else:
            group.add_argument(flag, dest=spec.name, default=None, metavar="VALUE", help=doc)
    parser.add_argument("--config-json", default=None, help="a JSON object of switches, or @path to a JSON file")


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    config = EmulatorConfig()
    if args.config_json:
        text = args.config_json
        if text.startswith("@"):
            with open(text[1:], "rb") as handle:
                text = handle.read()
        loaded = orjson.loads(text)
        if not isinstance(loaded, dict):
            raise ConfigError("--config-json must be a JSON object")
        apply_patch(config, loaded)
    flags = {spec.name: getattr(args, spec.name) for spec in field_specs() if getattr(args, spec.name) is not None}
    apply_patch(config, flags)
    return config
