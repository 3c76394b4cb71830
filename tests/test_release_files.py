"""What a release promises outside the code: pinned workflow actions, one recorded Python patch
level, and a CHANGELOG the release workflow can cut notes from. actionlint checks the workflows'
syntax (make actionlint); these are the project's own rules on top of it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s*#\s*v\d+\.\d+\.\d+\s*$")
RELEASE_PYTHON = re.compile(r'^\s*RELEASE_PYTHON:\s*"(3\.13\.\d+)"', re.MULTILINE)
VERSION_HEADING = re.compile(r"^## \[(.+?)\](.*)$", re.MULTILINE)


def test_both_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} >= {"ci.yml", "release.yml"}


def test_every_action_is_pinned_by_full_commit_sha_with_its_version() -> None:
    for path in WORKFLOWS:
        uses = USES.findall(path.read_text(encoding="utf-8"))
        assert uses, f"{path.name} uses no action"
        for reference, comment in uses:
            assert PINNED.match(reference), f"{path.name}: {reference} is not pinned by commit SHA"
            assert VERSION_COMMENT.match(comment), f"{path.name}: {reference} lacks '# vX.Y.Z'"


def test_the_release_python_patch_level_is_one_value_everywhere() -> None:
    recorded = {path.name: RELEASE_PYTHON.findall(path.read_text()) for path in WORKFLOWS}
    assert recorded["release.yml"], "release.yml records no RELEASE_PYTHON"
    versions = {version for found in recorded.values() for version in found}
    assert len(versions) == 1, recorded
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**Python {versions.pop()}**" in readme, "README names another Python patch level"


def test_changelog_keeps_a_changelog_with_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    headings = VERSION_HEADING.findall(text)
    assert headings and headings[0] == ("Unreleased", ""), headings
    for version, rest in headings[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
        dated = re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest)
        assert dated, f"{version}{rest}: needs ' - YYYY-MM-DD'"
