"""Settings refuse malformed numbers by name, non-finite ones included."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.errors import ConfigurationError

BASE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", " +inf "])
@pytest.mark.parametrize("key", ["AC_RATE_PER_SECOND", "AC_TIMEOUT_SECONDS", "AC_POLL_TIMEOUT_SECONDS"])
def test_a_non_finite_number_is_refused_with_the_settings_name(key: str, raw: str) -> None:
    with pytest.raises(ConfigurationError, match=f"setting {key} must be a finite number"):
        Settings.from_env({**BASE, key: raw})


def test_finite_numbers_within_the_bounds_are_accepted_and_out_of_bounds_ones_named() -> None:
    settings = Settings.from_env({**BASE, "AC_RATE_PER_SECOND": "2.5", "AC_MAX_RETRY_AFTER_SECONDS": "0"})
    assert settings.ac.requests_per_second == 2.5 and settings.ac.max_retry_after_s == 0.0
    with pytest.raises(ConfigurationError, match=r"setting AC_RATE_PER_SECOND must be at least 0\.01"):
        Settings.from_env({**BASE, "AC_RATE_PER_SECOND": "0"})
