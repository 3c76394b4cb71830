"""The AWS resources every in-process scenario needs, made one way for tests, demo and bench."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from shared.adapters import status_table as attr
from shared.adapters.status_store import StatusStore, StatusUpdate
from shared.timestamps import to_iso, utc_now

SERVICE_ROLE_ARN = "arn:aws:iam::123456789012:role/codedeploy-ecs"


def create_blue_green_group(
    codedeploy: Any,
    application: str,
    *groups: str,
    ecs_service: tuple[str, str] | None = None,
    blue_green: dict[str, Any] | None = None,
    deployment_config_name: str | None = None,
    create_application: bool = True,
) -> None:
    """An ECS CodeDeploy application and its blue/green deployment group(s);
    ``ecs_service``: the (cluster, service) the groups deploy to; ``blue_green``: the groups'
    blueGreenDeploymentConfiguration (Ready wait, termination wait), as Terraform's
    ``blue_green_deployment_config`` sets it."""
    if create_application:
        codedeploy.create_application(applicationName=application, computePlatform="ECS")
    extra: dict[str, Any] = {}
    if ecs_service is not None:
        extra["ecsServices"] = [{"clusterName": ecs_service[0], "serviceName": ecs_service[1]}]
    if blue_green is not None:
        extra["blueGreenDeploymentConfiguration"] = blue_green
    if deployment_config_name is not None:
        extra["deploymentConfigName"] = deployment_config_name
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


def blue_green_waits(
    *,
    ready_minutes: int | None = None,
    ready_action: str = "STOP_DEPLOYMENT",
    termination_minutes: int | None = None,
) -> dict[str, Any]:
    """A blueGreenDeploymentConfiguration with a Ready wait (``ready_minutes``; None: traffic
    is rerouted at once) and a termination wait (``termination_minutes``; None: KEEP_ALIVE)."""
    ready: dict[str, Any] = {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}
    if ready_minutes is not None:
        ready = {"actionOnTimeout": ready_action, "waitTimeInMinutes": ready_minutes}
    terminate: dict[str, Any] = {"action": "KEEP_ALIVE"}
    if termination_minutes is not None:
        terminate = {"action": "TERMINATE", "terminationWaitTimeInMinutes": termination_minutes}
    return {
        "deploymentReadyOption": ready,
        "terminateBlueInstancesOnDeploymentSuccess": terminate,
    }


CANARY_CONFIG = "canary-25-3"
"""A custom ECS configuration: 25% first, the rest 3 minutes later (the group's clock must
read it with GetDeploymentConfig: it is no predefined one)."""


def create_canary_config(codedeploy: Any) -> str:
    """Create :data:`CANARY_CONFIG`; its name."""
    codedeploy.create_deployment_config(
        deploymentConfigName=CANARY_CONFIG,
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 3},
        },
    )
    return CANARY_CONFIG


def create_status_table(dynamodb: Any, table: str, *, with_group_index: bool = True) -> None:
    """The status table as examples/terraform/dynamodb.tf defines it (TTL is moot in moto).

    ``with_group_index=False`` is a table made by an older version of the module.
    """
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": attr.DEPLOYMENT_ID, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": attr.DEPLOYMENT_ID, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if with_group_index:
        add_group_index(dynamodb, table)


def add_group_index(dynamodb: Any, table: str) -> None:
    """The ``byGroup`` index, added to an existing table as Terraform does: UpdateTable."""
    dynamodb.update_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": attr.DEPLOYMENT_GROUP_KEY, "AttributeType": "S"},
            {"AttributeName": attr.CREATED_AT, "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": attr.BY_GROUP_INDEX,
                    "KeySchema": [
                        {"AttributeName": attr.DEPLOYMENT_GROUP_KEY, "KeyType": "HASH"},
                        {"AttributeName": attr.CREATED_AT, "KeyType": "RANGE"},
                    ],
                    "Projection": {
                        "ProjectionType": "INCLUDE",
                        "NonKeyAttributes": list(attr.BY_GROUP_PROJECTED),
                    },
                }
            }
        ],
    )


def record_past_successes(
    dynamodb: Any, table: str, application: str, group: str, durations: Sequence[float]
) -> None:
    """Earlier successful deployments of a group, newest first, one a day, as the recorder
    and the trigger leave them in the status table (what the read cadence learns from)."""
    store = StatusStore(table, dynamodb)
    now = utc_now()
    for age, seconds in enumerate(durations, start=1):
        created = now - timedelta(days=age)
        store.record(
            StatusUpdate(
                deployment_id=f"d-PAST{age:02d}-{application}-{group}",
                status="Succeeded",
                source="event",
                application_name=application,
                deployment_group_name=group,
                created_at=to_iso(created),
                completed_at=to_iso(created + timedelta(seconds=seconds)),
            )
        )
