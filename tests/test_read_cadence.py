"""The table read policy: fast near the group's usual end, slow while far, within budget."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from shared.trigger.read_cadence import ReadCadence, WaitFacts, next_read_interval

CADENCE = ReadCadence(default_interval=1.0, near_end_interval=0.1, far_interval=4.0)
USUAL = (300.0, 310.0, 295.0, 305.0, 290.0)


def interval(elapsed: float, status: str | None = "InProgress", durations=USUAL) -> float:
    return next_read_interval(CADENCE, WaitFacts(elapsed, status, durations))


def test_without_history_the_fixed_interval() -> None:
    assert interval(10, durations=()) == 1.0
    assert interval(10, durations=(300.0,)) == 1.0  # one duration is not a history


def test_slow_while_far_fast_in_the_window_slower_again_past_it() -> None:
    far, approaching = interval(10), interval(270)
    assert far == 4.0
    assert 0.1 <= approaching < far
    usual_end = interval(300)
    assert 0.1 <= usual_end <= 0.2  # near the floor, as fast as the read budget allows
    assert usual_end < approaching
    past = interval(400)
    assert interval(330) < past <= 4.0


def test_before_any_event_the_fixed_interval() -> None:
    """No event yet: the pipeline may be down; fast reads would find nothing new."""
    assert next_read_interval(CADENCE, WaitFacts(300, "InProgress", USUAL, False)) == 1.0


def test_waiting_for_traffic_shifted_reads_at_the_fixed_interval() -> None:
    """The history times the end, a termination wait after the milestone; the milestone
    itself is polled from GetDeployment. The table only has to show an early failure."""
    facts = WaitFacts(300, "InProgress", USUAL, traffic_shifted=True)
    assert next_read_interval(CADENCE, facts) == 1.0
    assert interval(300) < 1.0  # the same moment, waiting for the end: fast


def test_ready_waits_for_continue_deployment_so_reads_slowly() -> None:
    assert interval(300, status="Ready") == 4.0


def test_a_fixed_cadence_never_adapts() -> None:
    fixed = ReadCadence(default_interval=1.0, near_end_interval=1.0, far_interval=1.0)
    assert not fixed.adapts
    assert next_read_interval(fixed, WaitFacts(300, "InProgress", USUAL)) == 1.0


def reads_until(end: float, durations: tuple[float, ...], cadence: ReadCadence) -> int:
    elapsed, reads = 0.0, 1
    while elapsed < end:
        elapsed += next_read_interval(cadence, WaitFacts(elapsed, "InProgress", durations))
        reads += 1
    return reads


@given(
    usual=st.floats(min_value=60, max_value=3600),
    spread=st.floats(min_value=0.0, max_value=0.3),
    draws=st.lists(st.floats(min_value=-1, max_value=1), min_size=6, max_size=6),
)
def test_never_more_reads_than_the_fixed_cadence_when_the_end_is_usual(
    usual: float, spread: float, draws: list[float]
) -> None:
    """Over the group's usual duration, the policy's reads stay within the fixed cadence's."""
    durations = tuple(usual * (1 + spread * d) for d in draws[1:])
    mean = sum(durations) / len(durations)
    budget = math.ceil(mean / CADENCE.default_interval) + 1
    assert reads_until(mean, durations, CADENCE) <= budget


@given(
    elapsed=st.floats(min_value=0, max_value=10_000),
    durations=st.lists(st.floats(min_value=0, max_value=5000), max_size=6),
    status=st.sampled_from([None, "Created", "InProgress", "Baking", "Ready"]),
)
def test_every_interval_lies_between_the_bounds(
    elapsed: float, durations: list[float], status: str | None
) -> None:
    found = interval(elapsed, status, tuple(durations))
    assert CADENCE.near_end_interval <= found <= CADENCE.far_interval
