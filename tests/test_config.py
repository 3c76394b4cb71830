"""Numeric settings: a positive number, fractions allowed; anything else names the variable."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import trigger
from shared.config import Settings
from shared.errors import ConfigurationError
from shared.trigger.read_cadence import ReadCadence
from tests.support import moto_codedeploy
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext

NUMERIC = [
    "POLL_INTERVAL_SECONDS",
    "DEADLINE_MARGIN_SECONDS",
    "STATUS_READ_INTERVAL_SECONDS",
    "STATUS_READ_MIN_INTERVAL_SECONDS",
    "STATUS_READ_MAX_INTERVAL_SECONDS",
    "FALLBACK_POLL_INTERVAL_SECONDS",
    "FALLBACK_POLL_MAX_INTERVAL_SECONDS",
    "STATUS_TTL_DAYS",
    "IDEMPOTENCY_TTL_SECONDS",
]


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("value", ["0", "-5", "abc", "nan", "inf", "1e999"])
def test_bad_numeric_settings_name_the_variable(name: str, value: str) -> None:
    generous = {
        "FALLBACK_POLL_MAX_INTERVAL_SECONDS": "1e9",
        "STATUS_READ_MAX_INTERVAL_SECONDS": "1e9",
    }
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**generous, name: value})


def test_defaults_and_fractions() -> None:
    settings = Settings.from_env({"POLL_INTERVAL_SECONDS": "0.25"})
    assert settings.poll_interval == 0.25
    defaults = Settings.from_env({})
    assert (defaults.deadline_margin, defaults.status_read_interval) == (30, 1)
    assert (defaults.status_read_min_interval, defaults.status_read_max_interval) == (0.1, 4)
    assert (defaults.fallback_poll_interval, defaults.fallback_poll_max_interval) == (60, 300)
    assert (defaults.status_ttl_days, defaults.idempotency_ttl) == (30, 3600)
    assert (defaults.terraform_key, defaults.status_table_name) == ("tf", None)


@pytest.mark.parametrize(
    ("low", "fixed", "high"), [("2", "1", "4"), ("0.1", "5", "4"), ("0.5", "0.2", "4")]
)
def test_read_intervals_out_of_order_are_rejected(low: str, fixed: str, high: str) -> None:
    with pytest.raises(ConfigurationError, match="STATUS_READ_MIN_INTERVAL_SECONDS"):
        Settings.from_env(
            {
                "STATUS_READ_MIN_INTERVAL_SECONDS": low,
                "STATUS_READ_INTERVAL_SECONDS": fixed,
                "STATUS_READ_MAX_INTERVAL_SECONDS": high,
            }
        )


def test_equal_read_intervals_make_a_fixed_cadence() -> None:
    fixed = {name: "1" for name in ("MIN_", "", "MAX_")}
    settings = Settings.from_env({f"STATUS_READ_{k}INTERVAL_SECONDS": v for k, v in fixed.items()})
    assert not ReadCadence.from_settings(settings).adapts
    assert ReadCadence.from_settings(Settings.from_env({})).adapts


def test_an_explicit_fallback_cap_below_the_interval_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="FALLBACK_POLL_MAX_INTERVAL_SECONDS"):
        Settings.from_env(
            {"FALLBACK_POLL_INTERVAL_SECONDS": "120", "FALLBACK_POLL_MAX_INTERVAL_SECONDS": "60"}
        )


@pytest.mark.parametrize("unset", [{}, {"FALLBACK_POLL_MAX_INTERVAL_SECONDS": " "}])
def test_a_fallback_interval_above_the_default_cap_alone_is_valid(unset: dict[str, str]) -> None:
    """Raising only the interval is a complete setting: the unset cap follows it."""
    settings = Settings.from_env({"FALLBACK_POLL_INTERVAL_SECONDS": "600", **unset})

    assert (settings.fallback_poll_interval, settings.fallback_poll_max_interval) == (600, 600)


def test_an_unset_fallback_cap_keeps_its_default_above_the_interval() -> None:
    settings = Settings.from_env({"FALLBACK_POLL_INTERVAL_SECONDS": "30"})

    assert settings.fallback_poll_max_interval == 300


def test_an_explicit_fallback_cap_equal_to_the_interval_is_valid() -> None:
    settings = Settings.from_env(
        {"FALLBACK_POLL_INTERVAL_SECONDS": "600", "FALLBACK_POLL_MAX_INTERVAL_SECONDS": "600"}
    )

    assert settings.fallback_poll_max_interval == 600


def test_a_bad_poll_interval_creates_nothing(codedeploy: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "fast")

    with pytest.raises(ConfigurationError, match="POLL_INTERVAL_SECONDS must be a positive number"):
        trigger.lambda_handler(appspec_request(), FakeLambdaContext())

    assert moto_codedeploy.deployments() == {}
