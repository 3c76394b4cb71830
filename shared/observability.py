"""Powertools Logger and Metrics, created once and shared by both functions."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

DEFAULT_NAMESPACE = "CodeDeployTrigger"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "codedeploy-trigger"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE))
