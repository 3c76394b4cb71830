"""boto3 clients, made once per container and only when first needed.

Lazy creation keeps cold starts short (a ``wait: false`` or Terraform
``delete`` invocation may never need DynamoDB), and one retry policy for every
client means throttling is handled the same way everywhere. The region and
``AWS_ENDPOINT_URL`` come from the environment, as boto3 reads them, so the same
code runs in Lambda and against a local emulator.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# CodeDeploy publishes no rate limits; ThrottlingException is the only signal.
# Standard mode retries it (and 5xx) with exponential backoff and jitter.
CODEDEPLOY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
)
# The status store is an optimisation: give up sooner so that waiting degrades
# to GetDeployment polling instead of stalling on a throttled table.
DYNAMODB_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=3,
    read_timeout=5,
)


@cache
def codedeploy_client() -> Any:
    return boto3.client("codedeploy", config=CODEDEPLOY_CONFIG)


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=DYNAMODB_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests and the demo switch endpoints and credentials)."""
    codedeploy_client.cache_clear()
    dynamodb_client.cache_clear()
