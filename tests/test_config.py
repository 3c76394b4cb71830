"""Numeric settings: a positive number, fractions allowed; anything else names the variable."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import trigger
from shared.config import Settings
from shared.errors import ConfigurationError
from tests.conftest import appspec_request
from tests.support import moto_codedeploy
from tests.support.lambda_context import FakeLambdaContext

NUMERIC = [
    "POLL_INTERVAL_SECONDS",
    "DEADLINE_MARGIN_SECONDS",
    "STATUS_READ_INTERVAL_SECONDS",
    "FALLBACK_POLL_INTERVAL_SECONDS",
    "FALLBACK_POLL_MAX_INTERVAL_SECONDS",
    "STATUS_TTL_DAYS",
    "IDEMPOTENCY_TTL_SECONDS",
]


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("value", ["0", "-5", "abc", "nan", "inf", "1e999"])
def test_bad_numeric_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env(
            {name: value, "FALLBACK_POLL_MAX_INTERVAL_SECONDS": "1e9"}
            if name != "FALLBACK_POLL_MAX_INTERVAL_SECONDS"
            else {name: value}
        )


def test_defaults_and_fractions() -> None:
    settings = Settings.from_env({"POLL_INTERVAL_SECONDS": "0.25"})
    assert settings.poll_interval == 0.25
    defaults = Settings.from_env({})
    assert (defaults.deadline_margin, defaults.status_read_interval) == (30, 1)
    assert (defaults.fallback_poll_interval, defaults.fallback_poll_max_interval) == (60, 300)
    assert (defaults.status_ttl_days, defaults.idempotency_ttl) == (30, 3600)
    assert (defaults.terraform_key, defaults.status_table_name) == ("tf", None)


def test_fallback_cap_below_the_interval_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="FALLBACK_POLL_MAX_INTERVAL_SECONDS"):
        Settings.from_env(
            {"FALLBACK_POLL_INTERVAL_SECONDS": "120", "FALLBACK_POLL_MAX_INTERVAL_SECONDS": "60"}
        )


def test_a_bad_poll_interval_creates_nothing(codedeploy: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "fast")

    with pytest.raises(ConfigurationError, match="POLL_INTERVAL_SECONDS must be a positive number"):
        trigger.lambda_handler(appspec_request(), FakeLambdaContext())

    assert moto_codedeploy.deployments() == {}
