"""Property tests of the input contract, with inputs drawn from the schema it enforces.

Two promises: whatever the contract accepts, botocore's own parameter validation accepts too
(nothing reaches the SDK only to be refused there), and every refusal names a field that
exists. A third keeps the hand-written rules honest: inputs valid under the model and those
rules are never refused.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import botocore.session
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contract.model_schema import members
from shared.contract.request import CreateRequest, parse_request
from shared.contract.rules import LOCATION_OF_TYPE
from shared.contract.schema import (
    ATTACH_PROPERTIES,
    CONTROL_PROPERTIES,
    CREATE_DEPLOYMENT_SCHEMA,
)
from shared.errors import InvalidInput
from tests.support.schema_strategy import any_json, from_schema

INPUT_SHAPE = (
    botocore.session.get_session()
    .get_service_model("codedeploy")
    .operation_model("CreateDeployment")
    .input_shape
)
PROPERTIES: dict[str, Any] = CREATE_DEPLOYMENT_SCHEMA["properties"]
EXISTING_FIELDS = (
    {"input"} | set(members(CREATE_DEPLOYMENT_SCHEMA)) | {*CONTROL_PROPERTIES, *ATTACH_PROPERTIES}
)
FAST = settings(max_examples=100, deadline=None)


def botocore_refusal(params: dict[str, Any]) -> str | None:
    report = ParamValidator().validate(params, INPUT_SHAPE)
    return report.generate_report() if report.has_errors() else None


def existing(field: str | None) -> bool:
    return field is not None and re.sub(r"\[\d+\]", "[]", field) in EXISTING_FIELDS


def _without(schema: dict[str, Any], *names: str) -> dict[str, Any]:
    properties = {k: v for k, v in schema["properties"].items() if k not in names}
    return schema | {"properties": properties}


@st.composite
def revisions(draw: st.DrawFn) -> dict[str, Any]:
    """A revision of one type with its location, and sometimes the content's real sha256."""
    kind, location = draw(st.sampled_from(sorted(LOCATION_OF_TYPE.items())))
    spec = draw(from_schema(_without(PROPERTIES["revision"]["properties"][location], "sha256")))
    if "content" in spec and draw(st.booleans()):
        spec["sha256"] = hashlib.sha256(spec["content"].encode()).hexdigest()
    return {"revisionType": kind, location: spec}


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Requests valid under the model and every hand-written rule."""
    rest = _without(CREATE_DEPLOYMENT_SCHEMA, "revision", "deploymentMode", "targetInstances")
    request: dict[str, Any] = draw(from_schema(rest))
    targets = PROPERTIES["targetInstances"]
    one_kind_of_tags = st.sampled_from(["tagFilters", "ec2TagSet"])
    if draw(st.booleans()):
        request["targetInstances"] = draw(from_schema(_without(targets, draw(one_kind_of_tags))))
    if draw(st.integers(0, 4)) == 0:
        request["deploymentMode"] = "RESTART"
        if request.get("updateOutdatedInstancesOnly"):
            del request["updateOutdatedInstancesOnly"]
    else:
        request["revision"] = draw(revisions())
        if draw(st.booleans()):
            request["deploymentMode"] = "STANDARD"
    return request


@st.composite
def mutated_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with one value anywhere replaced by any JSON, or one key added."""
    request = draw(valid_requests())
    node: Any = request
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], dict | list) or draw(st.booleans()):
            if isinstance(node, dict) and draw(st.integers(0, 3)) == 0:
                node[draw(st.text(min_size=1, max_size=12))] = draw(any_json())
            else:
                node[key] = draw(any_json())
            break
        node = node[key]
    return request


@FAST
@given(valid_requests())
def test_valid_input_is_accepted_and_botocore_agrees(request: dict[str, Any]) -> None:
    parsed = parse_request(request, "tf")
    assert isinstance(parsed, CreateRequest)
    assert parsed.create_params == request
    assert botocore_refusal(parsed.create_params) is None


@FAST
@given(mutated_requests() | from_schema(CREATE_DEPLOYMENT_SCHEMA))
def test_what_the_contract_accepts_botocore_accepts_and_refusals_name_a_field(
    request: dict[str, Any],
) -> None:
    try:
        parsed = parse_request(request, "tf")
    except InvalidInput as refused:
        assert existing(refused.field), (refused.field, str(refused))
        assert refused.field is not None
        assert re.sub(r"\[\d+\]", "", refused.field).split(".")[0] in str(refused) or (
            refused.field == "input"
        )
    else:
        assert isinstance(parsed, CreateRequest)
        assert botocore_refusal(parsed.create_params) is None
