"""Which AWS operations the code under test calls, seen at the botocore client boundary.

A ``before-parameter-build`` handler in botocore's ``handlers.BUILTIN_HANDLERS`` (the list
every new botocore session registers on its event emitter, and every client copies from its
session) sees every operation of every client made afterwards: boto3's default session, the
fresh one moto installs for each mock, and any other. Registering on one session is not enough:
``mock_aws`` swaps ``boto3.DEFAULT_SESSION`` for a new session each time it starts. That event,
not ``before-call``: botocore emits it to every handler, while ``before-call`` stops at the
first handler that answers, and a test's stub for one operation (registered on the more
specific event name, which botocore calls first) answers before a catch-all would run.

The handler keeps an operation only when code of the package (``shared/``, ``handlers/``) is on
the call stack: a fixture's CreateTable or CreateApplication is setup, not something the
functions do. The calling function is told apart by its entry point: a call with the
recorder's code on the stack is the recorder's; every other call of the package is the
trigger's (the only other function; the shared modules' own unit tests exercise its paths).
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore import handlers

from shared.permissions import Function

EVENT = "before-parameter-build"
REPO = Path(__file__).resolve().parents[2]
CODE_PREFIXES = tuple(f"{REPO / d}{os.sep}" for d in ("shared", "handlers"))
RECORDER_FILES = frozenset(str(REPO / f) for f in ("handlers/recorder.py", "shared/recorder.py"))


@dataclass
class OperationRecorder:
    """(function, ``service.Operation``) -> the first test that made the code call it."""

    invoked: dict[tuple[Function, str], str] = field(default_factory=dict)
    current_test: str = "(outside a test)"

    def install(self) -> None:
        """From now on, every new botocore session (and its clients) reports to this."""
        handlers.BUILTIN_HANDLERS.append((EVENT, self.on_call))
        if boto3.DEFAULT_SESSION is not None:
            # Made before this ran: it read BUILTIN_HANDLERS already.
            boto3.DEFAULT_SESSION.events.register(EVENT, self.on_call)

    def uninstall(self) -> None:
        handlers.BUILTIN_HANDLERS[:] = [
            spec for spec in handlers.BUILTIN_HANDLERS if spec[1] != self.on_call
        ]

    def on_call(self, model: Any, **_: Any) -> None:
        function = _calling_function()
        if function is None:
            return
        operation = f"{model.service_model.service_name}.{model.name}"
        self.invoked.setdefault((function, operation), self.current_test)

    def operations(self, function: Function) -> dict[str, str]:
        return {op: test for (fn, op), test in self.invoked.items() if fn is function}


def _calling_function() -> Function | None:
    """The function whose code is on the stack; None for a test's or fixture's own call."""
    in_code = False
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename in RECORDER_FILES:
            return Function.RECORDER
        if filename.startswith(CODE_PREFIXES):
            in_code = True
        frame = frame.f_back
    return Function.TRIGGER if in_code else None
