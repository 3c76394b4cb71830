"""Write the generated blocks of the docs (`make docs`), or check them (`make docs-check`).

Each block sits between two HTML comments in a Markdown file and is rewritten whole:

- `<!-- BEGIN TF INPUTS <module dir> -->` / `<!-- END TF INPUTS -->` and the same with
  OUTPUTS: the variables and outputs of a Terraform module, read from its `.tf` files with
  python-hcl2 (an HCL parser, so a heredoc, a nested default or a `}` in a string cannot fool
  it the way a regular expression can);
- `<!-- permissions:begin -->` / `<!-- permissions:end -->`: shared/permissions.py's table;
- `<!-- BEGIN FAILURE MODES -->` / `<!-- END FAILURE MODES -->`: the failure-modes table of
  docs/testing.md without its test column, for docs/failure-modes.md.

Running it twice gives the same bytes; `--check` changes nothing and exits 1 naming each stale
file.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.permissions import markdown_table  # the repository root is put on the path first

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
FAILURE_MODES_SOURCE = ROOT / "docs" / "testing.md"
FAILURE_MODES_SOURCE_MARK = "<!-- failure modes: the source of docs/failure-modes.md -->"

# Plain values: strings without their quotes, blocks as dicts, no comments.
HCL_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
)
INTERPOLATION = re.compile(r"^\$\{(.*)\}$", re.S)


class DocsError(Exception):
    """A marked block that cannot be rendered (unknown module, unclosed marker...)."""


def _blocks(directory: Path, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, body) of every `variable` or `output` block of a module's .tf files, in order."""
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle, serialization_options=HCL_OPTIONS)
        for block in parsed.get(kind, []):
            yield from block.items()


def _expression(value: Any) -> str:
    """A parsed HCL value written back as the HCL a user would type."""
    if isinstance(value, str):
        found = INTERPOLATION.match(value)
        return found.group(1) if found else json.dumps(value)
    return json.dumps(value, separators=(", ", " = ") if isinstance(value, dict) else None)


def _type(value: Any) -> str:
    """A type constraint as written: `string`, `list(string)`, `object({...})`."""
    text = str(value)
    found = INTERPOLATION.match(text)
    return found.group(1) if found else text


def _cell(text: str) -> str:
    """One Markdown table cell: a single line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def inputs_table(directory: Path) -> str:
    """Markdown table of a module's variables: name, type, default (or required), description."""
    rows = ["| name | type | default | description |", "| --- | --- | --- | --- |"]
    for name, body in _blocks(directory, "variable"):
        kind = _type(body["type"]) if "type" in body else "any"
        default = _code(_expression(body["default"])) if "default" in body else "required"
        description = _cell(str(body.get("description", "")))
        rows.append(f"| `{name}` | {_code(kind)} | {default} | {description} |")
    return "\n".join(rows) + "\n"


def outputs_table(directory: Path) -> str:
    """Markdown table of a module's outputs: name, description."""
    rows = ["| name | description |", "| --- | --- |"]
    for name, body in _blocks(directory, "output"):
        rows.append(f"| `{name}` | {_cell(str(body.get('description', '')))} |")
    return "\n".join(rows) + "\n"


def failure_modes_table() -> str:
    """docs/testing.md's failure-modes table without its last column (the tests)."""
    text = FAILURE_MODES_SOURCE.read_text(encoding="utf-8")
    if FAILURE_MODES_SOURCE_MARK not in text:
        raise DocsError(f"{FAILURE_MODES_SOURCE.name} lacks {FAILURE_MODES_SOURCE_MARK}")
    after = text.split(FAILURE_MODES_SOURCE_MARK, 1)[1].lstrip("\n").split("\n")
    rows = []
    for line in after:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        rows.append("|" + "|".join(cells[:-1]) + "|")
    if len(rows) < 3:
        raise DocsError(f"no table after {FAILURE_MODES_SOURCE_MARK} in {FAILURE_MODES_SOURCE}")
    return "\n".join(rows) + "\n"


BLOCK = re.compile(
    r"(?P<begin><!-- (?:BEGIN (?P<kind>TF INPUTS|TF OUTPUTS|FAILURE MODES)(?: (?P<arg>\S+))?"
    r"|(?P<permissions>permissions:begin)) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- (?:END (?P=kind)|permissions:end) -->)",
    re.S,
)

RENDERERS: dict[str, Callable[[Path], str]] = {
    "TF INPUTS": inputs_table,
    "TF OUTPUTS": outputs_table,
}


def _render_block(found: re.Match[str]) -> str:
    if found["permissions"]:
        body = markdown_table()
    elif found["kind"] == "FAILURE MODES":
        body = failure_modes_table()
    else:
        directory = ROOT / (found["arg"] or "")
        if not found["arg"] or not directory.is_dir():
            raise DocsError(f"{found['begin'].strip()}: no module directory {found['arg']!r}")
        body = RENDERERS[found["kind"]](directory)
    return found["begin"] + body + found["end"]


def render(text: str) -> str:
    """text with every generated block rewritten."""
    return BLOCK.sub(_render_block, text)


def stale() -> dict[Path, str]:
    """Every doc whose generated blocks differ from what render gives, with the new text."""
    changed = {}
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        fresh = render(text)
        if fresh != text:
            changed[path] = fresh
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = stale()
    for path, text in changed.items():
        name = path.relative_to(ROOT)
        if check:
            print(f"{name}: generated blocks are stale; run `make docs`", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: updated")
    if not changed:
        print("docs: generated blocks are current")
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
