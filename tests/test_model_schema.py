"""The generated CreateDeployment schema: in step with botocore's model, reproducible, and
checked against the model of the botocore that actually runs."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore
import botocore.loaders
import pytest
from botocore.exceptions import ParamValidationError
from botocore.model import ServiceModel
from botocore.validate import validate_parameters

from handlers import trigger
from shared.adapters import clients as aws
from shared.contract import model_schema
from shared.contract.model_schema import (
    SCHEMA_FILE,
    VERSION_KEY,
    checked_in_schema,
    differences,
    schema_from_model,
    unknown_members,
)
from shared.contract.request import CreateRequest, parse_request
from shared.errors import InvalidInput
from tests.support.call_guard import on_every_call
from tests.support.harness import appspec_request
from tests.support.lambda_context import FakeLambdaContext

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / ".ci" / "generate_schema.py"
OLD_BOTOCORE = "1.34.0"


def load_generator() -> ModuleType:
    """Import .ci/generate_schema.py (its directory starts with a dot: not a package)."""
    spec = importlib.util.spec_from_file_location("generate_schema", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def model_json() -> dict[str, Any]:
    """The installed botocore's codedeploy model, as a dict to doctor."""
    raw: dict[str, Any] = botocore.loaders.Loader().load_service_model("codedeploy", "service-2")
    return copy.deepcopy(raw)


def drift_report(checked_in: dict[str, Any], installed: dict[str, Any]) -> str:
    return (
        "shared/contract/schema/create_deployment.json is not what the installed botocore's model "
        "gives; run `make schema` and review:\n  " + "\n  ".join(differences(checked_in, installed))
    )


def test_checked_in_schema_matches_the_installed_botocore() -> None:
    generated = load_generator().generate()
    checked_in = SCHEMA_FILE.read_text(encoding="utf-8")
    assert generated == checked_in, drift_report(json.loads(checked_in), json.loads(generated))


def test_generation_is_byte_identical_on_rerun() -> None:
    generator = load_generator()
    assert generator.generate() == generator.generate()


def test_a_model_change_is_reported_by_member() -> None:
    """What the drift test prints when AWS changes the model: each member named."""
    doctored = model_json()
    shapes = doctored["shapes"]
    del shapes["CreateDeploymentInput"]["members"]["deploymentMode"]
    shapes["CreateDeploymentInput"]["members"]["rollbackWindow"] = {"shape": "Description"}
    shapes["Description"]["max"] = 300
    shapes["EC2TagFilterType"]["enum"].append("KEY_PREFIX")
    shapes["CreateDeploymentInput"]["required"].append("deploymentGroupName")
    changed = schema_from_model(ServiceModel(doctored, "codedeploy"), "9.9.9")

    report = drift_report(checked_in_schema(), changed)

    assert "new member rollbackWindow: type='string', maxLength=300" in report
    assert "removed member deploymentMode" in report
    assert "changed member description: maxLength None -> 300" in report
    assert "changed member targetInstances.tagFilters[].Type: enum" in report
    assert (
        "changed member (the input, CreateDeploymentInput): required ['applicationName'] -> "
        "['applicationName', 'deploymentGroupName']"
    ) in report
    assert "changed member targetInstances.ec2TagSet.ec2TagSetList[][].Type: enum" in report
    assert f"{VERSION_KEY} '{botocore.__version__}' -> '9.9.9'" in report


def test_the_schema_carries_what_the_model_says() -> None:
    schema = checked_in_schema()
    properties = schema["properties"]
    assert schema[VERSION_KEY] == botocore.__version__
    assert schema["required"] == ["applicationName"]
    assert properties["applicationName"]["pattern"] == "^(?:[A-Za-z0-9+=,.@_-]*)$"
    assert properties["deploymentMode"]["enum"] == ["STANDARD", "RESTART"]
    s3 = properties["revision"]["properties"]["s3Location"]
    assert "required" not in s3  # bundleType (and everything else) is optional in the model
    processes = properties["ec2DeploymentOptions"]["properties"][
        "autoScalingGroupProcessesToSuspend"
    ]
    assert (processes["minItems"], processes["maxItems"]) == (0, 4)
    tag_set_list = properties["targetInstances"]["properties"]["ec2TagSet"]["properties"][
        "ec2TagSetList"
    ]
    assert tag_set_list["items"]["type"] == "array"  # a list of lists of filters


def test_unknown_members_are_reported_outermost_only() -> None:
    older = model_json()
    members = older["shapes"]["CreateDeploymentInput"]["members"]
    del members["deploymentMode"], members["ec2DeploymentOptions"]
    del older["shapes"]["EC2TagFilter"]["members"]["Type"]

    missing = unknown_members(checked_in_schema(), ServiceModel(older, "codedeploy"), "1.0")

    assert missing == (
        "targetInstances.tagFilters[].Type",
        "targetInstances.ec2TagSet.ec2TagSetList[][].Type",
        "deploymentMode",
        "ec2DeploymentOptions",
    )


@pytest.fixture
def older_runtime_botocore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServiceModel:
    """This process pretends to be a Lambda runtime whose botocore predates deploymentMode and
    ec2DeploymentOptions: its version string and, through AWS_DATA_PATH, its codedeploy model
    (botocore reads the first model it finds on its data path)."""
    older = model_json()
    members = older["shapes"]["CreateDeploymentInput"]["members"]
    del members["deploymentMode"], members["ec2DeploymentOptions"]
    folder = tmp_path / "codedeploy" / older["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(older))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(botocore, "__version__", OLD_BOTOCORE)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    aws.reset_clients()
    model_schema.running_botocore_gap.cache_clear()
    yield aws.codedeploy_client().meta.service_model
    aws.reset_clients()
    model_schema.running_botocore_gap.cache_clear()


def test_the_simulated_runtime_botocore_really_refuses_the_new_members(
    older_runtime_botocore: ServiceModel,
) -> None:
    """Guard the simulation: without the contract's check, botocore itself would fail."""
    shape = older_runtime_botocore.operation_model("CreateDeployment").input_shape
    with pytest.raises(ParamValidationError, match="deploymentMode"):
        validate_parameters({"applicationName": "a", "deploymentMode": "RESTART"}, shape)


@pytest.mark.parametrize(
    ("extra", "member"),
    [
        ({"deploymentMode": "STANDARD"}, "deploymentMode"),
        (
            {"ec2DeploymentOptions": {"autoScalingGroupProcessesToSuspend": []}},
            "ec2DeploymentOptions",
        ),
    ],
)
def test_a_member_the_runtime_botocore_lacks_is_invalid_input(
    older_runtime_botocore: ServiceModel, extra: dict[str, Any], member: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request(appspec_request(**extra), "tf")
    message = str(raised.value)
    assert raised.value.field == member
    assert message.startswith(f"{member} is not known to the botocore of this Lambda runtime")
    assert f"({OLD_BOTOCORE})" in message
    assert f"botocore {checked_in_schema()[VERSION_KEY]}" in message


def test_the_older_runtime_still_accepts_what_it_knows(
    older_runtime_botocore: ServiceModel,
) -> None:
    request = parse_request(appspec_request(description="release 42"), "tf")
    assert isinstance(request, CreateRequest)
    assert request.create_params["description"] == "release 42"
    assert model_schema.running_botocore_gap() == ("deploymentMode", "ec2DeploymentOptions")


def test_the_same_botocore_as_the_schema_loads_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual case costs nothing: equal versions mean equal models."""

    def no_client() -> None:
        raise AssertionError("the model was loaded")

    model_schema.running_botocore_gap.cache_clear()
    with monkeypatch.context() as patch:
        patch.setattr(aws, "codedeploy_client", no_client)
        assert model_schema.running_botocore_gap() == ()
    model_schema.running_botocore_gap.cache_clear()


def test_through_the_handler_the_older_runtime_makes_no_aws_call(
    older_runtime_botocore: ServiceModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def refuse(model: Any, **_kwargs: Any) -> None:
        calls.append(model.name)
        raise AssertionError(f"AWS call {model.name}")

    on_every_call(monkeypatch, refuse)
    trigger.service.cache_clear()
    with pytest.raises(InvalidInput, match="deploymentMode is not known"):
        trigger.lambda_handler(
            {"applicationName": "app", "deploymentGroupName": "group", "deploymentMode": "RESTART"},
            FakeLambdaContext(),
        )
    assert calls == []
