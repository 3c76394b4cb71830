"""Intercept every AWS call any client makes from now on, whichever rung of a ladder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from shared.adapters import clients as aws


def on_every_call(monkeypatch: pytest.MonkeyPatch, handler: Callable[..., Any]) -> None:
    """Register ``handler`` on ``before-call`` for every client made after this call.

    The trigger makes its clients lazily, one per call policy, from boto3's default
    session: a fresh default session with the hook, and forgotten cached clients,
    reach them all.
    """
    session = boto3.session.Session()
    session.events.register("before-call.*.*", handler)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    aws.reset_clients()
