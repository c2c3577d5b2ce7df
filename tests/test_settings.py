"""Settings: each local relaxation has its own setting, all are off by default, and none starts in Azure."""

from __future__ import annotations

import logging

import pytest

from shared.config import (
    ALLOWED_HOSTS_SETTING,
    AZURE_MARKERS,
    LOCAL_SECRETS_SETTING,
    RETIRED_SETTING,
    TRUST_PRINCIPAL_SETTING,
    Settings,
)
from shared.errors import ConfigurationError
from shared.services import get_services

BASE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
# each relaxation, switched on, and the one Settings field it (and only it) turns on
RELAXATIONS = {
    TRUST_PRINCIPAL_SETTING: ("true", "trust_principal_header"),
    ALLOWED_HOSTS_SETTING: ("127.0.0.1:8085", "allowed_local_ac_hosts"),
    LOCAL_SECRETS_SETTING: ("true", "use_local_secrets"),
}


def relaxed(settings: Settings) -> set[str]:
    return {field for _, field in RELAXATIONS.values() if getattr(settings, field)}


def test_every_relaxation_is_off_by_default() -> None:
    assert relaxed(Settings.from_env(BASE)) == set()


@pytest.mark.parametrize("name", sorted(RELAXATIONS))
def test_each_relaxation_turns_on_only_itself(name: str) -> None:
    value, field = RELAXATIONS[name]
    assert relaxed(Settings.from_env({**BASE, name: value})) == {field}


@pytest.mark.parametrize("marker", AZURE_MARKERS)
@pytest.mark.parametrize("name", sorted(RELAXATIONS))
def test_a_relaxation_in_azure_is_refused_at_start_up_with_a_log_line_naming_it(
    name: str, marker: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = {**BASE, marker: "contoso-app", name: RELAXATIONS[name][0]}

    with caplog.at_level(logging.ERROR, logger="shared.config"), pytest.raises(ConfigurationError) as refused:
        Settings.from_env(env)

    assert name in str(refused.value) and marker in str(refused.value)
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "refusing to start" in line and name in line and marker in line


def test_every_relaxation_set_in_azure_gets_its_own_log_line(caplog: pytest.LogCaptureFixture) -> None:
    env = {**BASE, "WEBSITE_INSTANCE_ID": "0a1b2c", **{n: v for n, (v, _) in RELAXATIONS.items()}}

    with caplog.at_level(logging.ERROR, logger="shared.config"), pytest.raises(ConfigurationError):
        Settings.from_env(env)

    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sorted(n for n in RELAXATIONS for line in lines if f"setting {n} " in line) == sorted(RELAXATIONS)


def test_in_azure_without_relaxations_or_with_them_switched_off_it_starts() -> None:
    env = {**BASE, "WEBSITE_INSTANCE_ID": "0a1b2c", "WEBSITE_SITE_NAME": "contoso-app"}
    off = {TRUST_PRINCIPAL_SETTING: "false", ALLOWED_HOSTS_SETTING: " ", LOCAL_SECRETS_SETTING: "0"}

    assert relaxed(Settings.from_env(env)) == set()
    assert relaxed(Settings.from_env({**env, **off})) == set()


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_leftover_local_development_fails_naming_its_replacements(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="shared.config"), pytest.raises(ConfigurationError) as refused:
        Settings.from_env({**BASE, RETIRED_SETTING: value})

    for replacement in RELAXATIONS:
        assert replacement in str(refused.value)
    assert any(RETIRED_SETTING in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


async def test_the_composition_root_refuses_to_build_services_in_azure_with_a_relaxation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # what every trigger calls first (functions/_http.py, _queue.py): get_services() -> Settings.from_env()
    for key, value in {**BASE, "WEBSITE_SITE_NAME": "contoso-app", TRUST_PRINCIPAL_SETTING: "true"}.items():
        monkeypatch.setenv(key, value)

    with caplog.at_level(logging.ERROR, logger="shared.config"), pytest.raises(ConfigurationError):
        get_services()

    assert any(TRUST_PRINCIPAL_SETTING in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("raw", "roots"),
    [
        ("", ("ci_1",)),  # unset: only SNAPSHOT_ROOT
        (" ", ("ci_1",)),
        ("a, /b/c/ ,", ("a", "b/c")),
        ("/", ("",)),  # the whole container
    ],
)
def test_snapshot_allowed_roots_are_folder_prefixes_defaulting_to_snapshot_root(
    raw: str, roots: tuple[str, ...]
) -> None:
    settings = Settings.from_env({**BASE, "SNAPSHOT_ROOT": "/ci_1/", "SNAPSHOT_ALLOWED_ROOTS": raw})
    assert settings.allowed_snapshot_roots == roots


def test_snapshot_allowed_roots_refuse_dot_dot() -> None:
    with pytest.raises(ConfigurationError, match="SNAPSHOT_ALLOWED_ROOTS"):
        Settings.from_env({**BASE, "SNAPSHOT_ALLOWED_ROOTS": "ci/../config"})
