"""The rules of CreateDeployment that its service model cannot express, written by hand.

The generated schema (:mod:`shared.contract.model_schema`) says which members exist and what each
may hold; it cannot say that a member is required only sometimes, that two members exclude each
other, or what a quota or an error of the service implies. Each rule below names its source: a
sentence of the model's own documentation, one of CreateDeployment's documented errors, or the
CodeDeploy quotas page. A rule without a source does not belong here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from shared.errors import InvalidInput
from shared.revision import content_sha256

_NON_EMPTY = {"minLength": 1}

# Keywords each member gains on top of the generated schema ("required" adds to the model's).
SCHEMA_TIGHTENINGS: dict[str, dict[str, Any]] = {
    # The model requires only applicationName, but CreateDeployment's documented errors include
    # DeploymentGroupNameRequiredException: "The deployment group name was not specified."
    "": {"required": ["deploymentGroupName"]},
    # CodeDeploy quotas page: a deployment description holds at most 256 characters. The model
    # sets no maximum; CreateDeployment's errors include DescriptionTooLongException.
    "description": {"maxLength": 256},
    # A revision is "the type and location of the revision to deploy" (CreateDeploymentInput.
    # revision): its revisionType says which location CodeDeploy reads, and that location must
    # name what it locates, the bucket and key, the repository and commit, or the content
    # (RevisionLocation, S3Location, GitHubLocation, AppSpecContent in the model). Anything
    # less is CreateDeployment's InvalidRevisionException, "The revision was specified in an
    # invalid format"; bundleType, version and eTag stay optional, as the model has them.
    "revision": {"required": ["revisionType"]},
    "revision.s3Location": {"required": ["bucket", "key"]},
    "revision.s3Location.bucket": _NON_EMPTY,
    "revision.s3Location.key": _NON_EMPTY,
    "revision.gitHubLocation": {"required": ["repository", "commitId"]},
    "revision.gitHubLocation.repository": _NON_EMPTY,
    "revision.gitHubLocation.commitId": _NON_EMPTY,
    "revision.string": {"required": ["content"]},
    "revision.string.content": _NON_EMPTY,
    "revision.appSpecContent": {"required": ["content"]},
    "revision.appSpecContent.content": _NON_EMPTY,
}

# RevisionLocation: revisionType -> the member that holds that kind of location.
LOCATION_OF_TYPE = {
    "S3": "s3Location",
    "GitHub": "gitHubLocation",
    "String": "string",
    "AppSpecContent": "appSpecContent",
}


def tightened(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the generated schema with :data:`SCHEMA_TIGHTENINGS` applied."""
    result = copy.deepcopy(dict(schema))
    for path, keywords in SCHEMA_TIGHTENINGS.items():
        node = result
        for name in path.split(".") if path else ():
            node = node["properties"][name]
        for keyword, value in keywords.items():
            if keyword == "required":
                node["required"] = [*node.get("required", []), *value]
            else:
                node[keyword] = value
    return result


def revision_matches_deployment_mode(params: Mapping[str, Any]) -> None:
    """CreateDeploymentInput.deploymentMode (model documentation): with ``RESTART`` "the
    revision parameter ... must not be specified, and is rejected if provided" and "the
    updateOutdatedInstancesOnly parameter must not be set to true"; ``STANDARD``, the default,
    "deploys the specified revision", and without one CodeDeploy answers
    RevisionRequiredException ("RevisionLocation must be specified")."""
    if params.get("deploymentMode") == "RESTART":
        if "revision" in params:
            raise InvalidInput(
                "revision must not be given with deploymentMode RESTART: CodeDeploy restarts "
                "the deployment group's last successful revision; remove revision, or "
                "deploymentMode to deploy this revision",
                field="revision",
            )
        if params.get("updateOutdatedInstancesOnly") is True:
            raise InvalidInput(
                "updateOutdatedInstancesOnly must not be true with deploymentMode RESTART",
                field="updateOutdatedInstancesOnly",
            )
    elif "revision" not in params:
        raise InvalidInput(
            "revision is required (only deploymentMode RESTART deploys without one)",
            field="revision",
        )


def location_matches_revision_type(params: Mapping[str, Any]) -> None:
    """RevisionLocation (model documentation): revisionType names the kind of revision, and
    each kind has its own location member. The location of that kind must be there, and no
    other: CodeDeploy would read one and ignore the rest, deploying something else than the
    caller may believe."""
    revision = params.get("revision")
    if not isinstance(revision, Mapping):
        return
    kind = revision["revisionType"]
    expected = LOCATION_OF_TYPE[kind]
    if expected not in revision:
        raise InvalidInput(
            f"revision.{expected} is required when revision.revisionType is {kind}",
            field=f"revision.{expected}",
        )
    others = sorted(name for name in LOCATION_OF_TYPE.values() if name in revision)
    others.remove(expected)
    if others:
        raise InvalidInput(
            f"revision.{others[0]} cannot be given with revision.revisionType {kind}: a revision "
            f"has one location, revision.{expected} for {kind}; remove "
            + ", ".join(f"revision.{name}" for name in others),
            field=f"revision.{others[0]}",
        )


def tag_filters_or_tag_set(params: Mapping[str, Any]) -> None:
    """TargetInstances (model documentation): tagFilters and ec2TagSet each "cannot be used
    in the same call as" the other."""
    targets = params.get("targetInstances")
    if isinstance(targets, Mapping) and "tagFilters" in targets and "ec2TagSet" in targets:
        raise InvalidInput(
            "targetInstances.tagFilters and targetInstances.ec2TagSet cannot be used together "
            "(CodeDeploy's rule): give the tags as tagFilters, or as ec2TagSet.ec2TagSetList "
            "groups",
            field="targetInstances.ec2TagSet",
        )


def sha256_matches_content(params: Mapping[str, Any]) -> None:
    """RawString.sha256 and AppSpecContent.sha256 (model documentation): "The SHA256 hash
    value of the revision content". A mismatch is caught here, where the caller can still see
    which of the two they changed."""
    revision = params.get("revision")
    if not isinstance(revision, Mapping):
        return
    for location in ("appSpecContent", "string"):
        spec = revision.get(location)
        if not isinstance(spec, Mapping) or "sha256" not in spec:
            continue
        actual = content_sha256(spec["content"])
        if spec["sha256"].lower() != actual:
            raise InvalidInput(
                f"revision.{location}.sha256 does not match the sha256 of "
                f"revision.{location}.content: given {preview(spec['sha256'])}, "
                f"content hashes to {actual}",
                field=f"revision.{location}.sha256",
            )


# Checked in this order, after the schema (so every member has the type the model gives it).
CROSS_FIELD_RULES: tuple[Callable[[Mapping[str, Any]], None], ...] = (
    revision_matches_deployment_mode,
    location_matches_revision_type,
    tag_filters_or_tag_set,
    sha256_matches_content,
)


def preview(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut short: an error message never echoes a huge value."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
