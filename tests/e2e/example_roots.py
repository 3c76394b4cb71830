"""What the e2e tests of the platform examples share: the provider override that points an
example at the emulator, the zips an example's README builds by hand, and the trigger's answers
of one apply."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .emulator import Emulator, Invocation
from .harness import TerraformRun


def provider_override(endpoint: str, services: Iterable[str], *, written_by: str) -> str:
    """An override file for an example's provider "aws" block: emulator endpoints (the
    provider's endpoint names), fake credentials, no account or region lookups."""
    endpoints = "\n".join(f"    {s:<17} = {json.dumps(endpoint)}" for s in services)
    return (
        f"# Written by {written_by}: point the example at the emulator.\n"
        'provider "aws" {\n'
        '  access_key = "test"\n'
        '  secret_key = "test"\n\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n\n"
        "  endpoints {\n"
        f"{endpoints}\n"
        "  }\n"
        "}\n"
    )


def zip_files(target: Path, files: dict[str, bytes]) -> Path:
    """A zip of ``files`` (archive name -> content), as `python3 -m zipfile -c` builds it."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return target


def flat(text: str) -> str:
    """Terraform's output with JSON escapes and line breaks undone, for substring checks."""
    return " ".join(text.replace('\\"', '"').replace("\\\\", "\\").split())


@dataclass
class Applied:
    """One `terraform apply` of an example and what the trigger answered during it."""

    run: TerraformRun
    trigger_calls: list[Invocation]
    outputs: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        return self.run.returncode == 0

    @property
    def error_message(self) -> str:
        """The trigger's error (the apply's failure), or "" when it raised none."""
        for call in reversed(self.trigger_calls):
            if call.error:
                return str(json.loads(call.payload).get("errorMessage", ""))
        return ""

    @property
    def result(self) -> dict[str, Any]:
        """The trigger's last successful result."""
        for call in reversed(self.trigger_calls):
            if not call.error:
                found: dict[str, Any] = json.loads(call.payload)
                return found
        return {}

    def describe(self) -> str:
        return f"{self.run.describe()}\n--- trigger error ---\n{self.error_message}"


def trigger_calls(emulator: Emulator, function: str, since: int) -> list[Invocation]:
    return [i for i in emulator.runner.invocations[since:] if i.function_name == function]
