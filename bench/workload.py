"""The workload: N deployments with seeded start offsets, durations, endings and events.

Every draw is keyed on the deployment's index (and the event's state), not on the order in
which threads happen to reach the random generator, so every detector sees exactly the
same deployments, delays and lost events, run after run.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from bench.names import DESCRIPTION
from tests.support.simulator import Plan, fail_after, stop_after, succeed_after

# Real seconds; the harness divides them by the scale factor.
MIN_DURATION_S = 60.0
MAX_DURATION_S = 600.0
START_SPREAD_S = 60.0
"""Triggers start over the first minute, as an apply would start them, not in one instant.
This also keeps 50 triggers' CreateDeployment and fallback polls from hitting the one
emulator in the same instant, a contention 50 separate Lambdas would not have."""
IN_PROGRESS_AFTER_S = 1.0
EVENT_DELAY_S = (0.2, 1.5)
FAILED_SHARE = 0.08
STOPPED_SHARE = 0.02
LONG_DEPLOYMENT_S = 300.0
"""The call-ratio target applies to deployments of 5 minutes or more."""
HISTORY_LENGTH = 5
DURATION_SPREAD = 0.05
"""A group's deployments last its usual duration times U(1 - spread, 1 + spread), this one
and its recent ones alike (drawn independently, so this one is no likelier than the others
to sit in the middle). An assumption, stated in the report: a service's deployments repeat
the same task start-up, health checks and configured traffic-shift and termination waits."""

_INDEX = re.compile(re.escape(DESCRIPTION).replace(re.escape("{index}"), r"(\d+)"))


@dataclass(frozen=True)
class DeploymentSpec:
    index: int
    start_offset_s: float
    duration_s: float
    ending: str  # Succeeded | Failed | Stopped
    recent_durations_s: tuple[float, ...] = ()
    """The group's previous successful durations, newest first, as the status table keeps
    them for the read cadence (real seconds)."""

    @property
    def is_long(self) -> bool:
        return self.duration_s >= LONG_DEPLOYMENT_S


@dataclass(frozen=True)
class Workload:
    seed: int
    deployments: tuple[DeploymentSpec, ...]

    @classmethod
    def generate(cls, n: int, seed: int) -> Workload:
        rng = random.Random(seed)
        specs = []
        for index in range(n):
            offset = rng.uniform(0.0, START_SPREAD_S)
            duration = rng.uniform(MIN_DURATION_S, MAX_DURATION_S)
            draw = rng.random()
            ending = (
                "Failed"
                if draw < FAILED_SHARE
                else "Stopped"
                if draw < FAILED_SHARE + STOPPED_SHARE
                else "Succeeded"
            )
            # Its own generator: the draws above stay those of earlier versions of the workload.
            spread = random.Random(f"{seed}:{index}:durations")
            jitter = [
                spread.uniform(1 - DURATION_SPREAD, 1 + DURATION_SPREAD)
                for _ in range(1 + HISTORY_LENGTH)
            ]
            history = tuple(duration * factor for factor in jitter[1 : 1 + HISTORY_LENGTH])
            specs.append(DeploymentSpec(index, offset, duration * jitter[0], ending, history))
        return cls(seed, tuple(specs))

    @classmethod
    def warm_up(cls) -> Workload:
        """One short deployment per ending: runs every code path once before measuring."""
        endings = ("Succeeded", "Failed", "Stopped")
        return cls(
            0, tuple(DeploymentSpec(i, 0.0, MIN_DURATION_S, e) for i, e in enumerate(endings))
        )

    def summary(self) -> dict[str, Any]:
        endings = [spec.ending for spec in self.deployments]
        return {
            "deployments": len(self.deployments),
            "seed": self.seed,
            "duration_s": {"distribution": f"uniform {MIN_DURATION_S:g}-{MAX_DURATION_S:g}"},
            "deployments_ge_5min": sum(spec.is_long for spec in self.deployments),
            "endings": {name: endings.count(name) for name in sorted(set(endings))},
            "start_spread_s": START_SPREAD_S,
            "event_delay_s": f"uniform {EVENT_DELAY_S[0]:g}-{EVENT_DELAY_S[1]:g}",
        }


def index_of(deployment: Any) -> int:
    """The workload index a moto deployment was created for (from its description)."""
    found = _INDEX.search(deployment.description or "")
    if found is None:
        raise ValueError(f"not a benchmark deployment: {deployment.description!r}")
    return int(found.group(1))


def plan_for(spec: DeploymentSpec, factor: float) -> Plan:
    """The simulator's plan for one deployment, in scaled seconds."""
    build = {"Succeeded": succeed_after, "Failed": fail_after, "Stopped": stop_after}[spec.ending]
    return build(spec.duration_s / factor, start=IN_PROGRESS_AFTER_S / factor)


class EventChannel:
    """EventBridge between the simulated CodeDeploy and the recorder: delay and loss.

    The simulator asks ``drop(event)`` and then, for a kept event, ``delay()``, both from
    its own thread under its lock; the pair's draws come from one generator keyed on
    (seed, deployment, state), so that a given event is lost or late in every run alike.
    """

    def __init__(self, workload: Workload, loss_rate: float, factor: float) -> None:
        self._seed = workload.seed
        self._loss_rate = loss_rate
        self._factor = factor
        self._index_by_id: dict[str, int] = {}
        self._pending_delay = 0.0
        self.dropped: list[tuple[int, str]] = []
        self.planned_delay: dict[tuple[str, str], float] = {}
        """(deploymentId, state) -> the delay drawn for a kept event, scaled seconds."""

    def learn(self, deployment_id: str, index: int) -> None:
        self._index_by_id[deployment_id] = index

    def drop(self, event: dict[str, Any]) -> bool:
        detail = event["detail"]
        index = self._index_by_id[detail["deploymentId"]]
        rng = random.Random(f"{self._seed}:{index}:{detail['state']}")
        self._pending_delay = rng.uniform(*EVENT_DELAY_S) / self._factor
        lost = rng.random() < self._loss_rate
        if lost:
            self.dropped.append((index, detail["state"]))
        else:
            self.planned_delay[detail["deploymentId"], detail["state"]] = self._pending_delay
        return lost

    def delay(self) -> float:
        return self._pending_delay
