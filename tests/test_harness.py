"""The harness's fault injection does what the tests built on it rely on."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.support.harness import REGION, inject_fault


@pytest.fixture
def client(moto: None) -> Any:
    return boto3.client("codedeploy", region_name=REGION)


def test_a_fault_fails_the_calls_it_is_told_to_then_lets_them_through(client: Any) -> None:
    fault = inject_fault(client, "ListApplications", error_code="ThrottlingException", after=1)

    client.list_applications()
    with pytest.raises(ClientError) as raised:
        client.list_applications()
    client.list_applications()

    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (fault.calls, fault.failed) == (3, 1)


def test_a_bare_http_status_reads_as_botocore_parses_an_unreadable_error_body(
    client: Any,
) -> None:
    inject_fault(client, "ListApplications", http_status=503, times=None)

    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            client.list_applications()
        assert raised.value.response["Error"] == {"Code": "503", "Message": "Service Unavailable"}


def test_an_exception_is_raised_as_given(client: Any) -> None:
    lost = EndpointConnectionError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com")
    inject_fault(client, "ListApplications", exception=lost)

    with pytest.raises(EndpointConnectionError):
        client.list_applications()


def test_a_misspelt_operation_or_an_empty_fault_is_refused(client: Any) -> None:
    with pytest.raises(ValueError, match="no operation 'ListApplication'"):
        inject_fault(client, "ListApplication", error_code="ThrottlingException")
    with pytest.raises(TypeError, match="needs an error_code"):
        inject_fault(client, "ListApplications")
