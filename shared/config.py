"""Configuration from the environment, read and checked in one place.

Settings are read at the start of every invocation, before any AWS call, so a
malformed value fails fast with the variable's name and nothing is created.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from shared.errors import ConfigurationError
from shared.text import cut

DEFAULTS: dict[str, float] = {
    "POLL_INTERVAL_SECONDS": 15,
    "DEADLINE_MARGIN_SECONDS": 30,
    "STATUS_READ_INTERVAL_SECONDS": 1,
    "STATUS_READ_MIN_INTERVAL_SECONDS": 0.1,
    "STATUS_READ_MAX_INTERVAL_SECONDS": 4,
    "FALLBACK_POLL_INTERVAL_SECONDS": 60,
    "FALLBACK_POLL_MAX_INTERVAL_SECONDS": 300,
    "STATUS_TTL_DAYS": 30,
    "IDEMPOTENCY_TTL_SECONDS": 3600,
    "REPLAY_WINDOW_SECONDS": 60,
}
DEFAULT_TERRAFORM_KEY = "tf"


class Settings(NamedTuple):
    """Every knob of both functions; see the environment table of docs/configuration.md."""

    poll_interval: float
    deadline_margin: float
    status_read_interval: float
    status_read_min_interval: float
    status_read_max_interval: float
    fallback_poll_interval: float
    fallback_poll_max_interval: float
    status_ttl_days: float
    idempotency_ttl: float
    replay_window: float
    terraform_key: str
    status_table_name: str | None
    include_log_tails: bool = True
    """INCLUDE_LOG_TAILS: false leaves hook log tails out of every error, whatever the input's
    includeLogTails says (the operator's ceiling)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        fallback = _positive(source, "FALLBACK_POLL_INTERVAL_SECONDS")
        fallback_max = _fallback_cap(source, fallback)
        read = _positive(source, "STATUS_READ_INTERVAL_SECONDS")
        read_min = _positive(source, "STATUS_READ_MIN_INTERVAL_SECONDS")
        read_max = _positive(source, "STATUS_READ_MAX_INTERVAL_SECONDS")
        if not read_min <= read <= read_max:
            # The fixed interval is the read budget's unit and the no-history cadence: it
            # must lie between the fastest and the slowest read (equal values: a fixed cadence).
            raise ConfigurationError(
                f"STATUS_READ_MIN_INTERVAL_SECONDS ({read_min:g}) <= STATUS_READ_INTERVAL_SECONDS "
                f"({read:g}) <= STATUS_READ_MAX_INTERVAL_SECONDS ({read_max:g}) must hold"
            )
        return cls(
            poll_interval=_positive(source, "POLL_INTERVAL_SECONDS"),
            deadline_margin=_positive(source, "DEADLINE_MARGIN_SECONDS"),
            status_read_interval=read,
            status_read_min_interval=read_min,
            status_read_max_interval=read_max,
            fallback_poll_interval=fallback,
            fallback_poll_max_interval=fallback_max,
            status_ttl_days=_positive(source, "STATUS_TTL_DAYS"),
            idempotency_ttl=_positive(source, "IDEMPOTENCY_TTL_SECONDS"),
            replay_window=_positive(source, "REPLAY_WINDOW_SECONDS"),
            terraform_key=_terraform_key(source),
            status_table_name=source.get("STATUS_TABLE_NAME", "").strip() or None,
            include_log_tails=_boolean(source, "INCLUDE_LOG_TAILS", default=True),
        )

    def require_status_table(
        self,
        needed_by: str = "the recorder needs the name of the DynamoDB status table it writes to",
    ) -> str:
        """The table name, for code that cannot work without one (the recorder, history).

        ``needed_by`` completes the error message: who needs the table, and why.
        """
        if self.status_table_name is None:
            raise ConfigurationError(f"STATUS_TABLE_NAME is not set: {needed_by}")
        return self.status_table_name


def _positive(env: Mapping[str, str], name: str) -> float:
    if not _is_set(env, name):
        return DEFAULTS[name]
    raw = env[name]
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name} must be a positive number (fractions allowed), got {raw!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive, finite number, got {raw!r}")
    return value


def _boolean(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """``true`` or ``false`` in any case (Terraform's ``tostring(bool)``); unset: ``default``."""
    if not _is_set(env, name):
        return default
    raw = env[name].strip().lower()
    if raw not in ("true", "false"):
        raise ConfigurationError(f"{name} must be true or false, got {cut(env[name], 100)!r}")
    return raw == "true"


def _fallback_cap(env: Mapping[str, str], interval: float) -> float:
    """FALLBACK_POLL_MAX_INTERVAL_SECONDS, given the safety net's first interval.

    Unset, the cap is its default or the interval, whichever is longer: raising
    only FALLBACK_POLL_INTERVAL_SECONDS (say to 600) is a complete setting, the
    safety net then simply never backs off. Only an explicit cap below the
    interval is an error: it would silently shorten the promised interval, so
    the operator must choose.
    """
    name = "FALLBACK_POLL_MAX_INTERVAL_SECONDS"
    if not _is_set(env, name):
        return max(DEFAULTS[name], interval)
    cap = _positive(env, name)
    if cap < interval:
        raise ConfigurationError(
            f"{name} ({cap:g}) must be at least FALLBACK_POLL_INTERVAL_SECONDS ({interval:g}); "
            f"leave {name} unset to follow the interval"
        )
    return cap


def _is_set(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name)
    return raw is not None and raw.strip() != ""


def _terraform_key(env: Mapping[str, str]) -> str:
    key = env.get("TERRAFORM_KEY", DEFAULT_TERRAFORM_KEY).strip()
    if not key:
        raise ConfigurationError("TERRAFORM_KEY must not be empty (default: 'tf')")
    return key


# --- the recorder's event origins -----------------------------------------------------------
ALLOWED_EVENT_ORIGINS_VARIABLE = "RECORDER_ALLOWED_EVENT_ORIGINS"
# Patterns, compiled (and cached by ``re``) only when the variable is set: the trigger never
# reads it, and neither does a recorder without it.
_ACCOUNT_ID = r"^[0-9]{12}$"  # EventBridge event metadata: "account", 12 digits
_REGION_NAME = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"  # us-east-1, us-gov-west-1, cn-north-1


class EventOrigin(NamedTuple):
    """Where an EventBridge event says it happened: its ``account`` and ``region`` fields.

    ``region`` None stands for every region of the account (an allow-list entry only).
    """

    account: str
    region: str | None

    def admits(self, account: object, region: object) -> bool:
        return account == self.account and (self.region is None or region == self.region)

    def __str__(self) -> str:
        return f"{self.account}:{self.region or '*'}"


def allowed_event_origins(env: Mapping[str, str] | None = None) -> tuple[EventOrigin, ...]:
    """``RECORDER_ALLOWED_EVENT_ORIGINS``: origins the recorder accepts besides its own.

    Comma-separated ``ACCOUNT:REGION`` pairs, or a bare ``ACCOUNT`` for all its regions
    (a central event bus that receives other accounts' CodeDeploy events). Unset: none.
    """
    source = os.environ if env is None else env
    raw = source.get(ALLOWED_EVENT_ORIGINS_VARIABLE, "")
    origins: list[EventOrigin] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        account, _, region = entry.partition(":")
        if not re.match(_ACCOUNT_ID, account) or (region and not re.match(_REGION_NAME, region)):
            raise ConfigurationError(
                f"{ALLOWED_EVENT_ORIGINS_VARIABLE}: {entry[:64]!r} is neither ACCOUNT:REGION "
                "(123456789012:eu-west-1) nor ACCOUNT (123456789012, every region)"
            )
        origins.append(EventOrigin(account, region or None))
    return tuple(origins)
