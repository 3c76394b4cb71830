"""The scenario runner of the end-to-end tests (background.py), without Terraform: scenarios
run side by side up to the limit, and what a scenario raises reaches the tests that use it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from .background import Builder, ScenarioRunner

WAIT = 30.0  # seconds; only reached when the runner is broken


def _builder(name: str, build: Callable[[], object]) -> Builder:
    return Builder(("tests.e2e.test_background", name), build, ())


def test_scenarios_run_side_by_side_up_to_the_limit(request: pytest.FixtureRequest) -> None:
    runner = ScenarioRunner(threads=2)
    release = threading.Event()
    started = {name: threading.Event() for name in ("first", "second", "third")}

    def blocking(name: str) -> Callable[[], str]:
        def build() -> str:
            started[name].set()
            release.wait(WAIT)
            return f"{name} done"

        return build

    builders = [_builder(name, blocking(name)) for name in started]
    for builder in builders:
        runner.start(builder, request)

    assert started["first"].wait(WAIT) and started["second"].wait(WAIT)
    # Both slots are taken until `release`: the third cannot have begun.
    assert not started["third"].is_set()
    release.set()
    assert [runner.result(b, request) for b in builders] == [
        "first done",
        "second done",
        "third done",
    ]
    assert started["third"].is_set()
    runner.join()
    assert {name for name, _ in runner.timings()} == {b.name for b in builders}


def test_what_a_scenario_raises_reaches_its_tests(request: pytest.FixtureRequest) -> None:
    runner = ScenarioRunner(threads=1)

    def build() -> None:
        raise RuntimeError("the apply could not start")

    failing = _builder("failing", build)
    runner.start(failing, request)
    with pytest.raises(RuntimeError, match="the apply could not start"):
        runner.result(failing, request)


def test_a_scenario_starts_once(request: pytest.FixtureRequest) -> None:
    runner = ScenarioRunner(threads=2)
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        return len(calls)

    once = _builder("once", build)
    runner.start(once, request)
    runner.start(once, request)
    assert runner.result(once, request) == 1
    assert runner.result(once, request) == 1
    assert calls == [1]
