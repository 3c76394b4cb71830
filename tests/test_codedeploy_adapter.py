"""The CodeDeploy adapter's own words: console links per partition, error hints.

CodeDeploy's answers are stubbed with botocore's Stubber (the real client, its
model and its error parsing), so the translation is tested at the adapter's
boundary without a network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.adapters.codedeploy import CodeDeployGateway
from shared.errors import ActiveDeploymentConflict, CodeDeployError

REQUEST = {
    "applicationName": "web-app",
    "deploymentGroupName": "web-group",
    "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}},
}


def _client(region: str) -> Any:
    return boto3.client(
        "codedeploy",
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        endpoint_url="http://127.0.0.1:9",  # never reached: the Stubber answers
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[CodeDeployGateway, Stubber]]:
    client = _client("us-east-1")
    with Stubber(client) as stubber:
        # One stubbed client for every call, CreateDeployment included.
        yield CodeDeployGateway(client, create_client=client), stubber


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "console.aws.amazon.com"),
        ("eu-central-2", "console.aws.amazon.com"),
        ("cn-north-1", "console.amazonaws.cn"),
        ("cn-northwest-1", "console.amazonaws.cn"),
        ("us-gov-west-1", "console.amazonaws-us-gov.com"),
        ("us-gov-east-1", "console.amazonaws-us-gov.com"),
    ],
)
def test_the_console_url_uses_the_host_of_the_regions_partition(region: str, host: str) -> None:
    gateway = CodeDeployGateway(_client(region))

    assert gateway.console_url("d-ABCDEFGHI") == (
        f"https://{host}/codesuite/codedeploy/deployments/d-ABCDEFGHI?region={region}"
    )


def test_invalid_role_says_bad_role_arn_or_missing_auto_scaling_permissions(
    stubbed: tuple[CodeDeployGateway, Stubber],
) -> None:
    gateway, stubber = stubbed
    stubber.add_client_error(
        "create_deployment",
        service_error_code="InvalidRoleException",
        service_message="The service role is invalid.",
        http_status_code=400,
    )

    with pytest.raises(CodeDeployError) as raised:
        gateway.create(REQUEST)

    message = str(raised.value)
    assert "InvalidRoleException" in message
    assert "The service role is invalid." in message  # CodeDeploy's own words stay
    assert "ARN" in message
    assert "Auto Scaling" in message


def test_a_limit_without_a_deployment_id_names_the_account_quota_too(
    stubbed: tuple[CodeDeployGateway, Stubber],
) -> None:
    gateway, stubber = stubbed
    stubber.add_client_error(
        "create_deployment",
        service_error_code="DeploymentLimitExceededException",
        service_message="The number of allowed deployments was exceeded.",
        http_status_code=400,
    )

    with pytest.raises(ActiveDeploymentConflict) as raised:
        gateway.create(REQUEST)

    message = str(raised.value)
    assert raised.value.active_deployment_id is None
    assert "web-app/web-group" in message
    assert "Concurrent deployments per account" in message
    assert "Service Quotas" in message
    assert "The number of allowed deployments was exceeded." in message


def test_a_limit_naming_the_active_deployment_blames_the_group(
    stubbed: tuple[CodeDeployGateway, Stubber],
) -> None:
    gateway, stubber = stubbed
    stubber.add_client_error(
        "create_deployment",
        service_error_code="DeploymentLimitExceededException",
        service_message="The Deployment d-ACTIVE123 is already in progress.",
        http_status_code=400,
    )

    with pytest.raises(ActiveDeploymentConflict) as raised:
        gateway.create(REQUEST)

    assert raised.value.active_deployment_id == "d-ACTIVE123"
    assert "web-app/web-group already has an active deployment (deployment d-ACTIVE123)" in str(
        raised.value
    )
    assert 'onActiveDeployment to "wait"' in str(raised.value)
