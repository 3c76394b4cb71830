"""The module's plan-time checks (examples/terraform/variables.tf) state the rules the
functions apply at start (shared/config.py), so a value the plan accepts is one the functions
accept, and a value they refuse fails the plan. `terraform test` (tests/validation.tftest.hcl)
proves each validation fails its bad value; this keeps their bounds equal to the code's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.config import DEFAULTS, Settings
from shared.errors import ConfigurationError

VARIABLES_TF = Path(__file__).resolve().parents[1] / "examples" / "terraform" / "variables.tf"

# Module variable -> the environment variable the module sets from it.
POSITIVE = {
    "poll_interval_seconds": "POLL_INTERVAL_SECONDS",
    "fallback_poll_interval_seconds": "FALLBACK_POLL_INTERVAL_SECONDS",
    "deadline_margin_seconds": "DEADLINE_MARGIN_SECONDS",
    "status_ttl_days": "STATUS_TTL_DAYS",
    "idempotency_ttl_seconds": "IDEMPOTENCY_TTL_SECONDS",
}


def _variable_block(name: str) -> str:
    text = VARIABLES_TF.read_text(encoding="utf-8")
    block = text[text.index(f'variable "{name}"') :]
    return block[: block.index("\n}\n")]


@pytest.mark.parametrize(("variable", "environment"), sorted(POSITIVE.items()))
def test_a_positive_setting_is_validated_as_positive(variable: str, environment: str) -> None:
    assert f"var.{variable} > 0" in _variable_block(variable)
    with pytest.raises(ConfigurationError, match=environment):
        Settings.from_env({environment: "0"})
    assert Settings.from_env({environment: "0.5"}) is not None


def test_the_read_interval_bounds_are_the_fastest_and_slowest_read() -> None:
    block = _variable_block("status_read_interval_seconds")
    found = re.search(
        r"var\.status_read_interval_seconds >= ([0-9.]+) && "
        r"var\.status_read_interval_seconds <= ([0-9.]+)",
        block,
    )
    assert found is not None
    low, high = (float(x) for x in found.groups())
    assert (low, high) == (
        DEFAULTS["STATUS_READ_MIN_INTERVAL_SECONDS"],
        DEFAULTS["STATUS_READ_MAX_INTERVAL_SECONDS"],
    )
    for accepted in (low, high):
        assert Settings.from_env({"STATUS_READ_INTERVAL_SECONDS": f"{accepted:g}"})
    for refused in (low / 2, high + 0.5):
        with pytest.raises(ConfigurationError, match="STATUS_READ_INTERVAL_SECONDS"):
            Settings.from_env({"STATUS_READ_INTERVAL_SECONDS": f"{refused:g}"})


def test_the_terraform_key_must_not_be_blank_in_both() -> None:
    assert 'trimspace(var.terraform_key) != ""' in _variable_block("terraform_key")
    with pytest.raises(ConfigurationError, match="TERRAFORM_KEY"):
        Settings.from_env({"TERRAFORM_KEY": "  "})
