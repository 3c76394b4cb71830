"""What a release promises outside the code: pinned workflow actions, one recorded Python patch
level, and a CHANGELOG the release workflow can cut notes from. actionlint checks the workflows'
syntax (make actionlint); these are the project's own rules on top of it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.support.release_build import release_build

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


# The repository's URL has one home, [project.urls] Repository in pyproject.toml. Every GitHub
# address of this repository (its name) or with a placeholder owner (<org>, OWNER, your-org...)
# in the user-facing text and the automation must be that URL.
REPOSITORY_MENTION = re.compile(
    r"github\.com[/:](?P<owner>[^/\s\"'`)\]]+)/(?P<name>[^/\s\"'`)\]#?]+?)(?:\.git)?(?=[/\s\"'`)\]#?]|$)",
    re.MULTILINE,
)
PLACEHOLDER_OWNER = re.compile(
    r"^(<[^>]*>|\{[^}]*\}|owner|org|your[-_]?(org|name|user)|my[-_]org|example)$", re.IGNORECASE
)
SCANNED_GLOBS = (
    "*.md",
    "pyproject.toml",
    "docs/**/*.md",
    "examples/**/*.tf",
    "examples/**/*.md",
    ".github/**/*.yml",
    ".ci/*",
)


def _repository_url() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        url: str = tomllib.load(handle)["project"]["urls"]["Repository"]
    return url


def _scanned_files() -> list[Path]:
    found = {
        path
        for pattern in SCANNED_GLOBS
        for path in ROOT.glob(pattern)
        if path.is_file() and ".terraform" not in path.parts
    }
    return sorted(found)


def repository_mentions(text: str, project: str) -> list[str]:
    """owner/name of every GitHub address in text that names this project or a placeholder."""
    return [
        f"{found['owner']}/{found['name']}"
        for found in REPOSITORY_MENTION.finditer(text)
        if found["name"] == project or PLACEHOLDER_OWNER.match(found["owner"])
    ]


def test_the_repository_url_has_one_home() -> None:
    url = _repository_url()
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    expected = url.removeprefix("https://github.com/")
    project = expected.split("/")[1]
    wrong = {
        f"{path.relative_to(ROOT)}: {mention}"
        for path in _scanned_files()
        for mention in repository_mentions(path.read_text(encoding="utf-8"), project)
        if mention != expected
    }
    assert not wrong, f"not the pyproject.toml [project.urls] Repository ({url}): {sorted(wrong)}"


def test_the_mention_check_finds_placeholders_and_forks() -> None:
    text = (
        "base=https://github.com/<org>/codedeploy-trigger/releases/download/v$v\n"
        'source = "git::https://github.com/OWNER/anything.git//examples/terraform?ref=v1"\n'
        "see https://github.com/someone/codedeploy-trigger.git and\n"
        "https://github.com/hashicorp/terraform-provider-aws/issues/43447\n"
    )
    assert repository_mentions(text, "codedeploy-trigger") == [
        "<org>/codedeploy-trigger",
        "OWNER/anything",
        "someone/codedeploy-trigger",
    ]


def test_the_readme_installs_the_module_from_the_release_archive_and_from_git() -> None:
    url = _repository_url()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    archive = f'source = "{url}/releases/download/vX.Y.Z/codedeploy-trigger-module_X.Y.Z.zip"'
    git = f'source = "git::{url}.git//examples/terraform?ref=vX.Y.Z"'
    assert archive in readme
    assert git in readme
    assert readme.index(archive) < readme.index(git), "the archive form comes first"


def test_the_release_publishes_every_file_make_package_writes() -> None:
    packaging = release_build()
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    published = [
        *(packaging.zip_name("${VERSION}", arch) for arch in packaging.PLATFORMS),
        packaging.module_archive_name("${VERSION}"),
    ]
    for name in published:
        assert f'"package/{name}"' in workflow, name
    assert f"package/{packaging.CHECKSUMS_NAME}" in workflow
