"""The docs as a reader meets them: generated tables current, links that lead somewhere, a README
quick start that is complete and short, and no test ids in the user-facing pages."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
LINKED_PAGES = [README, ROOT / "CONTRIBUTING.md", *DOC_PAGES]
# Pages for contributors, where a test id is the point.
DEVELOPER_PAGES = {ROOT / "docs" / "testing.md"}
MODULE = ROOT / "examples" / "terraform"

# The README is read in five minutes at 230 words a minute (a common adult reading speed).
WORDS_PER_MINUTE = 230
READING_MINUTES = 5

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.M)
TEST_ID = re.compile(r"\w+\.py::\w+")


def docs_tool() -> ModuleType:
    """.ci/docs.py (its directory starts with a dot, so it is loaded from its path)."""
    name = "docs_tool"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / ".ci" / "docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def prose(text: str) -> str:
    """text without its fenced code blocks."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        anchor, count = base, 0
        while anchor in found:  # GitHub numbers repeated headings: x, x-1, x-2
            count += 1
            anchor = f"{base}-{count}"
        found.add(anchor)
    return found


def relative_links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", prose(path.read_text(encoding="utf-8")))
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z]+:", target)  # http:, https:, mailto:
    ]


def test_the_generated_tables_are_current() -> None:
    stale = docs_tool().stale()
    assert not stale, f"stale generated blocks in {sorted(map(str, stale))}: run `make docs`"


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.name}")
    assert not broken, broken


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading: yes/no?\n")
    page.write_text(
        "[ok](other.md#a-code-heading-yesno) [gone](missing.md) [bad](other.md#nope)\n"
        "```\n[in a fence](ignored.md)\n```\n"
    )
    assert relative_links(page) == ["other.md#a-code-heading-yesno", "missing.md", "other.md#nope"]
    assert anchors(tmp_path / "other.md") == {"other-page", "a-code-heading-yesno"}


@pytest.mark.parametrize(
    "page",
    [README, *(page for page in DOC_PAGES if page not in DEVELOPER_PAGES)],
    ids=lambda page: str(page.relative_to(ROOT)),
)
def test_user_pages_name_no_test_ids(page: Path) -> None:
    assert not TEST_ID.findall(page.read_text(encoding="utf-8"))


def test_the_readme_reads_in_five_minutes() -> None:
    words = len(README.read_text(encoding="utf-8").split())
    assert words <= WORDS_PER_MINUTE * READING_MINUTES, (
        f"README.md has {words} words: {words / WORDS_PER_MINUTE:.1f} minutes at "
        f"{WORDS_PER_MINUTE} words a minute; move detail to docs/"
    )


# The CONTRIBUTING "Layout" tree has a line for every file of these directories.
MAPPED_DIRECTORIES = ("handlers", "shared", "tests/support", "bench")


def layout_paths() -> set[str]:
    """The paths the CONTRIBUTING "Layout" tree names. A name's indentation (two spaces a level)
    says which directory above it holds it; a line indented further continues a description."""
    section = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").split("\n## Layout\n")[1]
    block = re.search(r"^```\n(.*?)^```", section, re.M | re.S)
    assert block, 'CONTRIBUTING.md "Layout" has no tree'
    paths: set[str] = set()
    parents: list[str] = []
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent > 12:
            continue
        name = line.split()[0]
        parents = parents[: indent // 2]
        paths.add("/".join([*parents, name.rstrip("/")]))
        if name.endswith("/"):
            parents.append(name.rstrip("/"))
    return paths


def test_the_layout_tree_names_every_file_and_no_other() -> None:
    named = {
        path
        for path in layout_paths()
        if path.startswith(tuple(f"{d}/" for d in MAPPED_DIRECTORIES))
    }
    modules = {
        path.relative_to(ROOT).as_posix()
        for directory in MAPPED_DIRECTORIES
        for path in (ROOT / directory).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert len(modules) > 60 and "shared/trigger/dispatch.py" in modules
    assert sorted(modules - named) == [], 'add these to the CONTRIBUTING.md "Layout" tree'
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], 'the CONTRIBUTING.md "Layout" tree names files that do not exist'


def test_the_layout_parser_follows_indentation() -> None:
    """Directories nest by indentation, and a description's second line names no file."""
    paths = layout_paths()
    assert {"shared/contract/schema/create_deployment.json", "tests/support/harness.py"} <= paths
    # A top-level name after a nested block starts again at the top.
    assert "bench/footprint.py" in paths and "tests/support/bench/footprint.py" not in paths
    # request.py's description goes on over a second line that starts with "TerraformDelete".
    assert not any(path.endswith("TerraformDelete") for path in paths)


def _quick_start() -> dict[str, Any]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"^```hcl\n(.*?)^```", text, re.M | re.S)
    assert block, "README.md has no hcl block"
    parsed: dict[str, Any] = hcl2.loads(
        block.group(1), serialization_options=docs_tool().HCL_OPTIONS
    )
    return parsed


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_the_quick_start_defines_every_local_and_variable_it_uses() -> None:
    quick_start = _quick_start()
    text = "\n".join(_strings(quick_start))
    defined_locals = {name for block in quick_start.get("locals", []) for name in block}
    defined_variables = {name for block in quick_start.get("variable", []) for name in block}
    used_locals = set(re.findall(r"\blocal\.(\w+)", text))
    used_variables = set(re.findall(r"\bvar\.(\w+)", text))
    assert used_locals, "the quick start's appspec is a local"
    assert used_locals <= defined_locals, used_locals - defined_locals
    assert used_variables <= defined_variables, used_variables - defined_variables


def test_the_quick_start_uses_the_modules_real_inputs_and_outputs() -> None:
    tool = docs_tool()
    quick_start = _quick_start()
    (name, module), *others = (item for block in quick_start["module"] for item in block.items())
    assert not others
    variables = {variable for variable, _ in tool._blocks(MODULE, "variable")}
    outputs = {output for output, _ in tool._blocks(MODULE, "output")}
    arguments = set(module) - {"source", "depends_on"}
    assert arguments <= variables, arguments - variables
    used = set(re.findall(rf"\bmodule\.{name}\.(\w+)", "\n".join(_strings(quick_start))))
    assert used and used <= outputs, used - outputs
    assert "ecs_diagnostics_cluster_arns" in module, "ECS errors name the stopped tasks"
    lite = re.search(r"^\s*# status_tracking = false\b", README.read_text(encoding="utf-8"), re.M)
    assert lite, "the lite option is shown in one line"


def test_the_ready_gate_snippet_uses_the_chain_modules_real_inputs_and_outputs() -> None:
    """The README's second hcl block: the chain module with its Ready gate, fed by the quick
    start's request, and a check that runs on the module's ``ready`` output."""
    tool = docs_tool()
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```hcl\n(.*?)^```", text, re.M | re.S)
    assert len(blocks) >= 2, "README.md shows the Ready gate in a second hcl block"
    gate = hcl2.loads(blocks[1], serialization_options=tool.HCL_OPTIONS)
    (name, module), *others = (item for block in gate["module"] for item in block.items())
    assert not others
    chain = MODULE / "modules" / "deployment"
    variables = {variable for variable, _ in tool._blocks(chain, "variable")}
    outputs = {output for output, _ in tool._blocks(chain, "output")}
    arguments = set(module) - {"source", "depends_on"}
    assert arguments <= variables, arguments - variables
    assert module["ready_gate"] is True and "ready_check" in module
    assert str(module["source"]).endswith("//modules/deployment")
    used = set(re.findall(rf"\bmodule\.{name}\.(\w+)", "\n".join(_strings(gate))))
    assert used == {"ready"} and used <= outputs
    quick_start = _quick_start()
    defined_locals = {local for block in quick_start.get("locals", []) for local in block}
    assert set(re.findall(r"\blocal\.(\w+)", "\n".join(_strings(gate)))) <= defined_locals


def test_the_tables_escape_pipes_and_mark_required_inputs(tmp_path: Path) -> None:
    tool = docs_tool()
    (tmp_path / "variables.tf").write_text(
        'variable "zip" {\n  description = "a|b\\n  c"\n  type = string\n}\n'
        'variable "names" {\n  type    = list(string)\n  default = ["*"]\n}\n'
        'variable "text" {\n  description = <<-EOT\n    many\n    lines\n  EOT\n'
        '  type = map(string)\n  default = { a = "b" }\n}\n'
    )
    (tmp_path / "outputs.tf").write_text(
        'output "arn" {\n  description = "The ARN."\n  value = "x"\n}\n'
    )
    assert tool.inputs_table(tmp_path).splitlines()[2:] == [
        "| `zip` | `string` | required | a\\|b c |",
        '| `names` | `list(string)` | `["*"]` |  |',
        '| `text` | `map(string)` | `{"a" = "b"}` | many lines |',
    ]
    assert tool.outputs_table(tmp_path).splitlines()[2:] == ["| `arn` | The ARN. |"]
