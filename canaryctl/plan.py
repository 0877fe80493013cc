"""Which weights ``promote`` applies, in which order: pure functions of the steps and the stack.

The stack config is the only state: the steps at or below the current ``canaryWeight`` are
done, the rest are applied in order. Consecutive steps that would serve the same effective
weight (the replica strategy moves in steps of 100/N percent) are merged into the last of
them, so no ``pulumi up`` repeats a split that is already measured.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from components.canary import plan_split

DEFAULT_STEPS = (10, 25, 50, 100)


def parse_steps(text: str) -> tuple[int, ...]:
    """``10,25,50,100`` -> (10, 25, 50, 100): strictly increasing integers in 1..100."""
    steps: list[int] = []
    for part in text.split(","):
        try:
            step = int(part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {part.strip()!r} is not an integer; want strictly increasing "
                "integers in 1..100, e.g. 10,25,50,100") from None
        if not 1 <= step <= 100:
            raise argparse.ArgumentTypeError(f"{text!r}: step {step} is not in 1..100")
        if steps and step <= steps[-1]:
            raise argparse.ArgumentTypeError(
                f"{text!r}: steps must be strictly increasing ({step} after {steps[-1]})")
        steps.append(step)
    return tuple(steps)


def predicted_weight(strategy: str, replicas: int) -> Callable[[int], float]:
    """The effective weight the program will deploy for a canaryWeight (components/canary.py).

    A strategy this version does not know is taken as exact (as Istio's weights are).
    """
    def effective(weight: int) -> float:
        try:
            return float(plan_split(strategy, weight, replicas).effective_weight)
        except ValueError:
            return float(weight)
    return effective


@dataclass(frozen=True)
class Step:
    """One ``pulumi up``: the weight to set, the split it should serve, the steps merged in."""

    weight: int
    effective: float
    merged: tuple[int, ...] = ()


@dataclass(frozen=True)
class Plan:
    current: int
    done: tuple[int, ...]  # steps at or below the current weight: not applied again
    steps: tuple[Step, ...]

    @property
    def requested(self) -> int:
        """Steps left to walk, merged ones included."""
        return sum(1 + len(step.merged) for step in self.steps)


def plan_steps(steps: Sequence[int], current: int, effective: Callable[[int], float]) -> Plan:
    """Steps above ``current``, with runs of equal effective weight merged into their last."""
    todo = [w for w in steps if w > current]
    groups: list[list[int]] = []
    for weight in todo:
        if groups and effective(groups[-1][-1]) == effective(weight):
            groups[-1].append(weight)
        else:
            groups.append([weight])
    return Plan(current=current, done=tuple(w for w in steps if w <= current),
                steps=tuple(Step(g[-1], effective(g[-1]), tuple(g[:-1])) for g in groups))
