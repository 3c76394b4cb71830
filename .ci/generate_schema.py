"""Regenerate shared/contract/schema/create_deployment.json from the installed botocore
(`make schema`).

The schema is CodeDeploy's own CreateDeployment input, read from botocore's `codedeploy`
service model: see shared/contract/model_schema.py. Running it twice gives the same bytes; a test
fails when the installed botocore's model and the checked-in file disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import botocore
import botocore.session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.contract.model_schema import (  # the repository root is put on the path first
    SCHEMA_FILE,
    differences,
    render,
    schema_from_model,
)


def generate() -> str:
    """The schema file's text for the installed botocore."""
    model = botocore.session.get_session().get_service_model("codedeploy")
    return render(schema_from_model(model, botocore.__version__))


def main() -> int:
    import json

    text = generate()
    previous = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else None
    if previous == text:
        print(f"{SCHEMA_FILE.name}: unchanged (botocore {botocore.__version__})")
        return 0
    SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    changes = differences(json.loads(previous), json.loads(text)) if previous else ["created"]
    print(f"{SCHEMA_FILE.name}: regenerated from botocore {botocore.__version__}")
    for line in changes:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
