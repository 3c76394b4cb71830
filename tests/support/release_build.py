"""The release build script, .ci/package.py, as a module for the tests and the e2e emulator.

Its directory starts with a dot, so it is not importable by name: it is loaded from its path,
once per process, so every user shares one module (and one PackagingError class).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "package.py"
MODULE_NAME = "release_packaging"


def release_build() -> ModuleType:
    """.ci/package.py, loaded on first use."""
    loaded = sys.modules.get(MODULE_NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(MODULE_NAME, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module
