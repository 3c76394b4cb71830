"""The AWS resources every in-process scenario needs, made one way for tests, demo and bench."""

from __future__ import annotations

from typing import Any

SERVICE_ROLE_ARN = "arn:aws:iam::123456789012:role/codedeploy-ecs"


def create_blue_green_group(
    codedeploy: Any, application: str, *groups: str, ecs_service: tuple[str, str] | None = None
) -> None:
    """An ECS CodeDeploy application and its blue/green deployment group(s);
    ``ecs_service``: the (cluster, service) the groups deploy to."""
    codedeploy.create_application(applicationName=application, computePlatform="ECS")
    extra: dict[str, Any] = {}
    if ecs_service is not None:
        extra["ecsServices"] = [{"clusterName": ecs_service[0], "serviceName": ecs_service[1]}]
    for group in groups:
        codedeploy.create_deployment_group(
            **extra,
            applicationName=application,
            deploymentGroupName=group,
            serviceRoleArn=SERVICE_ROLE_ARN,
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        )


def create_status_table(dynamodb: Any, table: str) -> None:
    """The status table as examples/terraform defines it (TTL is moot in moto)."""
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "deploymentId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "deploymentId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
