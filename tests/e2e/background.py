"""Scenario fixtures that run side by side in background threads, started with the session.

Most of an end-to-end scenario's time is waiting, not computing: the provider's own polls
(an SQS queue and its policy each wait ~25 s for attributes to settle on create, the queue
~45 s more on delete, `aws_lb` ~60 s), simulated deployments, Lambda timeouts. Run one after
the other, those waits add up to most of `make e2e`; run side by side against the one
emulator (each scenario under its own name prefix), they overlap.

A scenario is a function whose parameters are session-scoped fixtures (`emulator`,
`terraform_factory`, `example_terraform`, `lambda_zip`, ...). It runs its Terraform commands
and returns what the tests look at. `@scenario` turns it into a module-scoped fixture of the
same name. For every collected test that uses such a fixture, the session starts the scenario
in a background thread before the first test runs; the fixture waits for it and hands its
value (or raises its exception) to the tests. At most E2E_SCENARIO_THREADS scenarios (default
12) run at once, started in the order of the tests (a scenario past the limit waits for a
slot, so the limit should exceed the number of scenarios: the longest walk, the CREATE_ONLY
lifecycle, comes late in that order); E2E_SCENARIO_THREADS=1 runs them one at a time. The
suite's own work is light (about 510 s of CPU in a 9-minute run on a loaded 2-core machine):
the limit bounds memory (a terraform command with the aws provider peaks at about 0.5 GB)
more than CPU.

A scenario asks pytest for nothing while it runs (its fixtures are resolved before it starts)
and asserts nothing: it returns what it saw and the tests assert on it. What it raises (a
`pytest.fail` for a missing prerequisite too) is raised again in each test that uses it.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

THREADS_ENV = "E2E_SCENARIO_THREADS"
DEFAULT_THREADS = 12

Key = tuple[str, str]
"""(module name, fixture name): a scenario fixture is visible in its own module only."""


@dataclass(frozen=True)
class Builder:
    key: Key
    build: Callable[..., Any]
    parameters: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.key[0].rsplit('.', 1)[-1]}::{self.key[1]}"


_BUILDERS: dict[Key, Builder] = {}


def scenario(build: Callable[..., T]) -> Any:
    """Decorator: the module-scoped fixture named like `build`, built in the background."""
    key = (build.__module__, build.__name__)
    builder = _BUILDERS[key] = Builder(key, build, tuple(inspect.signature(build).parameters))

    def fixture(request: pytest.FixtureRequest, e2e_scenarios: ScenarioRunner) -> Any:
        return e2e_scenarios.result(builder, request)

    fixture.__doc__ = build.__doc__
    return pytest.fixture(scope="module", name=build.__name__)(fixture)


def builders_for(items: Iterable[pytest.Item]) -> list[Builder]:
    """The scenarios the given tests use (directly or through other fixtures), in test order."""
    found: dict[Key, Builder] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is None:
            continue
        for name in getattr(item, "fixturenames", ()):
            builder = _BUILDERS.get((module.__name__, name))
            if builder is not None:
                found.setdefault(builder.key, builder)
    return list(found.values())


def threads_from_env() -> int:
    raw = os.environ.get(THREADS_ENV, str(DEFAULT_THREADS))
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{THREADS_ENV}={raw!r}: expected a whole number of at least 1")
    return threads


@dataclass
class _Run:
    builder: Builder
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    started: float = 0.0
    seconds: float = 0.0

    def execute(self, arguments: dict[str, Any], slots: threading.Semaphore) -> None:
        try:
            with slots:
                self.started = time.monotonic()
                try:
                    self.value = self.builder.build(**arguments)
                finally:
                    self.seconds = time.monotonic() - self.started
        except BaseException as exc:  # handed to the tests, which report it
            self.error = exc
        finally:
            self.done.set()

    def wait(self) -> Any:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value


class ScenarioRunner:
    """Starts scenarios in daemon threads (a Ctrl-C must not wait for them) and hands out
    their results."""

    def __init__(self, threads: int) -> None:
        self._slots = threading.Semaphore(threads)
        self._lock = threading.Lock()
        self._runs: dict[Key, _Run] = {}
        self._threads: list[threading.Thread] = []

    def start(self, builder: Builder, request: pytest.FixtureRequest) -> None:
        # Fixture values are resolved here, in pytest's thread; the scenario only runs.
        with self._lock:
            if builder.key in self._runs:
                return
        arguments = {name: request.getfixturevalue(name) for name in builder.parameters}
        with self._lock:
            if builder.key in self._runs:
                return
            run = self._runs[builder.key] = _Run(builder)
            thread = threading.Thread(
                target=run.execute,
                args=(arguments, self._slots),
                name=f"scenario-{builder.key[1]}",
                daemon=True,
            )
            self._threads.append(thread)
        thread.start()

    def result(self, builder: Builder, request: pytest.FixtureRequest) -> Any:
        """The scenario's value, once it has finished (started now if it has not been)."""
        self.start(builder, request)
        with self._lock:
            run = self._runs[builder.key]
        return run.wait()

    def join(self) -> None:
        """Wait for every scenario (the emulator must outlive them)."""
        for thread in list(self._threads):
            thread.join()

    def timings(self) -> list[tuple[str, float]]:
        """(scenario, seconds) of every finished scenario, slowest first."""
        with self._lock:
            runs = list(self._runs.values())
        done = [(run.builder.name, run.seconds) for run in runs if run.done.is_set()]
        return sorted(done, key=lambda pair: pair[1], reverse=True)
