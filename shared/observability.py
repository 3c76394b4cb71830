"""Powertools Logger and Metrics, created once and shared by both functions."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

from shared.version import VERSION

DEFAULT_NAMESPACE = "CodeDeployTrigger"

# `version` is a constructor key, not an appended one: Powertools keeps constructor keys through
# clear_state (inject_lambda_context(clear_state=True)) and remove_keys, so it is on every line.
logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "codedeploy-trigger"), version=VERSION
)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE))
