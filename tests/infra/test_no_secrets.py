"""Nothing in the deployment carries or fetches a key: identities and Entra ID only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.bicepdoc import INFRA, REPO

FILES = sorted(p for p in INFRA.rglob("*") if p.is_file() and p.suffix in {".bicep", ".json", ".kql"})
FILES.append(REPO / "azure.yaml")

SECRET_PATTERNS = {
    "listKeys(": re.compile(r"\blist[A-Za-z]*Keys\s*\(", re.IGNORECASE),
    "AccountKey=": re.compile(r"AccountKey\s*=", re.IGNORECASE),
    "SharedAccessKey=": re.compile(r"SharedAccessKey(Name)?\s*=", re.IGNORECASE),
    "SharedAccessSignature=": re.compile(r"SharedAccessSignature\s*=", re.IGNORECASE),
    "DefaultEndpointsProtocol=": re.compile(r"DefaultEndpointsProtocol\s*=", re.IGNORECASE),
    "StorageAccountConnectionString": re.compile(r"StorageAccountConnectionString"),
    "access policies": re.compile(r"\baccessPolicies\b"),
    "client secret": re.compile(r"clientSecret", re.IGNORECASE),
    "secure parameter": re.compile(r"@secure\(\)"),
}


# The one "client secret" setting allowed: Easy Auth's managed-identity assertion, which names an app setting
# holding the identity's client id, not a secret (App Service docs: "Use a managed identity instead of a secret").
NO_SECRET_ASSERTION = re.compile(r"clientSecretSettingName:\s*'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'")


def secret_patterns_in(text: str) -> list[str]:
    text = NO_SECRET_ASSERTION.sub("", text)
    return [label for label, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO)) for p in FILES])
def test_file_has_no_secret_bearing_pattern(path: Path) -> None:
    found = secret_patterns_in(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(REPO)} contains {found}"


def test_patterns_catch_what_they_are_for() -> None:
    # Guard against a pattern that can never match (which would make the test above pointless).
    samples = {
        "listKeys(": "storage.listKeys().keys[0].value",
        "AccountKey=": "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc",
        "SharedAccessKey=": "Endpoint=sb://x/;SharedAccessKeyName=root;SharedAccessKey=abc",
        "SharedAccessSignature=": "BlobEndpoint=https://x;SharedAccessSignature=sv=1",
        "DefaultEndpointsProtocol=": "DefaultEndpointsProtocol=https;AccountName=x",
        "StorageAccountConnectionString": "type: 'StorageAccountConnectionString'",
        "access policies": "accessPolicies: []",
        "client secret": "clientSecretSettingName: 'X'",
        "secure parameter": "@secure()\nparam apiKey string",
    }
    for label, sample in samples.items():
        assert SECRET_PATTERNS[label].search(sample), label
    # Only the managed-identity assertion is let through; a setting that holds a real secret is not.
    assert secret_patterns_in("clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'") == []
    assert secret_patterns_in("clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'") == [
        "client secret"
    ]
