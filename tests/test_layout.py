"""How the code fits together: what imports what.

- Test modules never import each other nor ``conftest.py``: what they share lives in
  ``tests/support/``, and ``conftest.py`` holds fixtures and pytest hooks only.
- Every module of ``shared`` and ``handlers`` imports on its own, first thing in a fresh
  interpreter: an import cycle fails there, whichever module a caller happens to load first.
- The recorder (the second function) loads nothing of the trigger's flow: not its contract,
  its steps, its caller text, nor the libraries only they need. Its cold start stays small and
  a change to the trigger cannot break it at import.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import shared

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def imports_in(source: str, package: str) -> set[str]:
    """Every module ``source`` imports, as absolute names (relative ones resolved against
    ``package``, the package of the file it comes from)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            # ``from tests import test_x`` imports a module too.
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def imported_modules(path: Path) -> set[str]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return imports_in(path.read_text(), package)


def is_test_module_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("tests.") and (last == "conftest" or last.startswith("test_"))


def test_no_test_module_imports_another_or_conftest() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if is_test_module_or_conftest(m)
        )
        for path in sorted(TESTS.rglob("*.py"))
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_guard_sees_every_form_of_such_an_import() -> None:
    forms = {
        "from tests.conftest import TABLE": "tests.conftest",
        "import tests.test_reliability": "tests.test_reliability",
        "from tests import test_recorder": "tests.test_recorder",
        "from .test_recorder import codedeploy_event": "tests.test_recorder",
        "from . import conftest": "tests.conftest",
        "from ..test_recorder import codedeploy_event": "tests.test_recorder",
        "from tests.support.harness import TABLE": None,
    }
    for source, expected in forms.items():
        package = "tests.support" if source.startswith("from ..") else "tests"
        found = {m for m in imports_in(source, package) if is_test_module_or_conftest(m)}
        assert found == ({expected} if expected else set()), source


def test_conftest_holds_fixtures_and_hooks_only() -> None:
    tree = ast.parse((TESTS / "conftest.py").read_text())
    not_fixtures = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            not_fixtures.append(f"class {node.name}")
        elif isinstance(node, ast.FunctionDef):
            decorators = [ast.unparse(d) for d in node.decorator_list]
            fixture = any(d.startswith("pytest.fixture") for d in decorators)
            if not fixture and not node.name.startswith("pytest_"):
                not_fixtures.append(f"def {node.name}")
    assert not_fixtures == [], "move them to tests/support/"


def shared_modules() -> list[str]:
    return [info.name for info in pkgutil.walk_packages(shared.__path__, "shared.")]


IMPORT_EACH_FIRST = """
import importlib, json, sys
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("shared", "handlers")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failures[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failures))
"""


@pytest.mark.integration  # a subprocess interpreter
def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    """Forgetting our modules between imports makes each one the first, as in a fresh
    interpreter: a cycle raises ``ImportError`` (partially initialized module) there."""
    modules = ["handlers.trigger", "handlers.recorder", *shared_modules()]
    assert len(modules) > 20 and "shared.config" in modules
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, json.dumps(modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == {}


# The trigger's flow; a name covers its submodules.
TRIGGER_ONLY = (
    "shared.trigger",
    "shared.contract",
    "shared.report",
    "shared.adapters.codedeploy",
    "shared.adapters.diagnostics",
    "shared.adapters.idempotency",
    # libraries only the trigger needs
    "fastjsonschema",
    "aws_lambda_powertools.utilities.idempotency",
)


def loaded_by(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def of_the_trigger(modules: list[str]) -> list[str]:
    return [
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in TRIGGER_ONLY)
    ]


@pytest.mark.integration  # a subprocess interpreter
def test_the_guard_sees_the_trigger_s_flow() -> None:
    """The list names what the trigger loads: a renamed module cannot slip past it."""
    loaded = of_the_trigger(loaded_by(f"import handlers.trigger\n{FIRST_VALIDATION}"))
    assert "fastjsonschema" in loaded
    assert any(m.startswith(("shared.trigger", "shared.contract")) for m in loaded), loaded
    # Some are loaded only when first needed (LOADED_WHEN_NEEDED): each must still exist.
    named = (*TRIGGER_ONLY, *LOADED_WHEN_NEEDED)
    missing = [name for name in named if importlib.util.find_spec(name) is None]
    assert missing == []


# Needed only after a failure, for the timeline after the wait, or for a create with a
# status table; only by continue, stop, stopOnTimeout and supersede (the proof of ownership and
# the control calls); only by a history query; only when the watchdog interrupts a call: a cold
# start that needs none of them does not pay their import. fastjsonschema comes with the first
# validation, beside the schema compile it is there for.
LOADED_WHEN_NEEDED = (
    "shared.adapters.diagnostics",
    "shared.report.failure",
    "aws_lambda_powertools.utilities.idempotency",
    "fastjsonschema",
    "shared.trigger.control",
    "shared.trigger.ownership",
    "shared.trigger.history",
    "shared.trigger.interrupted",
)
FIRST_VALIDATION = (
    "from shared.contract.validation import check\ncheck('terraform', {'action': 'create'})"
)


@pytest.mark.integration  # a subprocess interpreter
def test_the_trigger_s_import_leaves_out_what_is_loaded_when_needed() -> None:
    loaded = loaded_by("import handlers.trigger")
    assert [name for name in LOADED_WHEN_NEEDED if name in loaded] == []


@pytest.mark.integration  # a subprocess interpreter
def test_the_first_validation_loads_fastjsonschema() -> None:
    assert "fastjsonschema" in loaded_by(f"import handlers.trigger\n{FIRST_VALIDATION}")


@pytest.mark.integration  # a subprocess interpreter
def test_the_recorder_loads_nothing_of_the_trigger() -> None:
    assert of_the_trigger(loaded_by("import handlers.recorder")) == []


@pytest.mark.integration  # a subprocess interpreter
def test_the_trigger_s_import_leaves_the_garbage_collector_as_it_found_it() -> None:
    """The import runs without cyclic collection (nothing to free there), freezes what it
    made (no later collection scans it again), then hands collection back."""
    report = (
        "import gc, json\nimport handlers.trigger\n"
        "print(json.dumps(gc.isenabled() if gc.get_freeze_count() > 0 else 'not frozen'))"
    )
    for before, expected in (("", True), ("import gc\ngc.disable()\n", False)):
        result = subprocess.run(
            [sys.executable, "-c", before + report],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(result.stdout) is expected


# Every dataclass the functions' imports define, with why a NamedTuple cannot serve
# (CONTRIBUTING.md, Records): each other one would compile six methods at every cold start.
DATACLASSES_AT_IMPORT = {
    "shared.trigger.invocation.RunProgress": "mutable: set as the run goes",
    "shared.trigger.invocation.RunClients": "a cached_property (needs an instance __dict__)",
    "shared.trigger.waiter._Schedule": "mutable: the waiter's own state",
    "shared.adapters.idempotency._CreateCall": "mutable: one call's state",
    "shared.adapters.status_store.StatusUpdate": "StatusRecord adds fields to it",
    "shared.adapters.status_store.StatusRecord": "adds fields to StatusUpdate; a default factory",
    "shared.contract.request.TerraformDelete": "no field: an empty NamedTuple is false",
}
LIST_DATACLASSES = """\
import dataclasses, json, sys
found = sorted(
    f"{name}.{value.__qualname__}"
    for name, module in list(sys.modules.items())
    if name.startswith(("shared", "handlers"))
    for value in vars(module).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name
)
print(json.dumps(found))
"""


@pytest.mark.integration  # a subprocess interpreter
def test_the_functions_imports_define_only_the_listed_dataclasses() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import handlers.trigger, handlers.recorder\n{LIST_DATACLASSES}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == sorted(DATACLASSES_AT_IMPORT)
