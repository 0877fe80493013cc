"""The canary split, as pure functions: canaryWeight and notificationReplicas in, pods out.

Three strategies:

- `replicas` (the course's): one ClusterIP Service selects the pods of both versions and
  kube-proxy spreads connections over them, so the share of V2 *is* V2's share of the pods.
  The split moves in steps of 100/N percent; the weight actually served is reported.
- `istio`: an Istio VirtualService sends exactly `canaryWeight` percent to V2 whatever the pod
  counts; capacity follows traffic, each version getting ceil(N * share) pods.
- `lattice`: a VPC Lattice service (made from a Gateway API HTTPRoute) weighs its two target
  groups exactly; capacity follows traffic as with Istio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrafficSplit:
    """Pods per version and the share of calls V2 actually gets (percent)."""

    strategy: str
    requested_weight: int
    v1_replicas: int
    v2_replicas: int
    effective_weight: float

    @property
    def exact(self) -> bool:
        return self.effective_weight == self.requested_weight

    def as_output(self) -> dict[str, object]:
        """The `trafficSplit` stack output (its keys are read by tools and checks)."""
        return {
            "strategy": self.strategy,
            "requestedWeight": self.requested_weight,
            "v1Replicas": self.v1_replicas,
            "v2Replicas": self.v2_replicas,
            "effectiveWeight": self.effective_weight,
        }


def _percent(value: float) -> float | int:
    """Round to 2 decimals; whole percentages come out as ints (25, not 25.0)."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def replica_split(weight: int, replicas: int) -> TrafficSplit:
    """V2 gets the nearest whole number of pods to N*w/100 (halves round up), V1 the rest.

    When 0 < w < 100 and N >= 2 each version keeps at least one pod: a canary asked for must
    exist, and so must the version it is compared with.
    """
    _check(weight, replicas)
    v2 = math.floor(replicas * weight / 100 + 0.5)
    if 0 < weight < 100 and replicas >= 2:
        v2 = min(max(v2, 1), replicas - 1)
    return TrafficSplit("replicas", weight, replicas - v2, v2, _percent(100 * v2 / replicas))


def exact_split(strategy: str, weight: int, replicas: int) -> TrafficSplit:
    """Exact weights from the routing layer; each version runs ceil(N * share) pods, none at
    share 0, so each has the capacity for its share of the calls."""
    _check(weight, replicas)
    v2 = math.ceil(replicas * weight / 100)
    v1 = math.ceil(replicas * (100 - weight) / 100)
    return TrafficSplit(strategy, weight, v1, v2, weight)


def istio_split(weight: int, replicas: int) -> TrafficSplit:
    """Exact weights from the mesh (an Istio VirtualService)."""
    return exact_split("istio", weight, replicas)


def lattice_split(weight: int, replicas: int) -> TrafficSplit:
    """Exact weights from VPC Lattice (the listener rule's two weighted target groups)."""
    return exact_split("lattice", weight, replicas)


def plan_split(strategy: str, weight: int, replicas: int) -> TrafficSplit:
    """The split for a strategy name ('replicas', 'istio' or 'lattice')."""
    if strategy == "istio":
        return istio_split(weight, replicas)
    if strategy == "lattice":
        return lattice_split(weight, replicas)
    if strategy == "replicas":
        return replica_split(weight, replicas)
    raise ValueError(f"unknown canary strategy {strategy!r}")


def smallest_exact_replicas(weight: int) -> int:
    """The fewest notification pods with which the replica strategy serves `weight` exactly."""
    return 100 // math.gcd(weight, 100)


def inexact_warning(split: TrafficSplit) -> str | None:
    """The warning to show when the replica strategy cannot serve the requested weight."""
    if split.exact:
        return None
    exact = smallest_exact_replicas(split.requested_weight)
    replicas = split.v1_replicas + split.v2_replicas
    return (
        f"canaryWeight {split.requested_weight} cannot be served exactly with "
        f"notificationReplicas {replicas}: V1/V2 run {split.v1_replicas}/{split.v2_replicas} "
        f"pods, so V2 gets {split.effective_weight}% of calls. notificationReplicas {exact} "
        f"(or a multiple) would make it exact; canaryStrategy istio or lattice makes any weight "
        f"exact."
    )


def _check(weight: int, replicas: int) -> None:
    if not 0 <= weight <= 100:
        raise ValueError(f"weight must be 0..100, got {weight}")
    if replicas < 1:
        raise ValueError(f"replicas must be >= 1, got {replicas}")
