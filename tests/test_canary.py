"""The split, as plain functions: every row of the course's table, rounding, and the guards."""

import pytest

from components.canary import (
    inexact_warning,
    istio_split,
    lattice_split,
    plan_split,
    replica_split,
    smallest_exact_replicas,
)

COURSE_TABLE = [  # weight -> (V1, V2) with 4 replicas, from the course's README
    (0, 4, 0),
    (25, 3, 1),
    (50, 2, 2),
    (75, 1, 3),
    (100, 0, 4),
]


@pytest.mark.parametrize(("weight", "v1", "v2"), COURSE_TABLE)
def test_course_table_rows(weight, v1, v2):
    split = replica_split(weight, 4)
    assert (split.v1_replicas, split.v2_replicas) == (v1, v2)
    assert split.effective_weight == weight
    assert split.exact


@pytest.mark.parametrize(
    ("weight", "replicas", "v1", "v2", "effective"),
    [
        (10, 4, 3, 1, 25),   # nearest is 0, but a canary asked for must exist
        (10, 10, 9, 1, 10),
        (1, 2, 1, 1, 50),    # both versions keep a pod
        (99, 4, 1, 3, 75),   # nearest is 4, but V1 keeps one pod
        (60, 4, 2, 2, 50),   # 2.4 rounds to 2
        (63, 4, 1, 3, 75),   # 2.52 rounds to 3
        (50, 1, 0, 1, 100),  # one pod: halves round up, no room for both
        (49, 1, 1, 0, 0),
        (37, 100, 63, 37, 37),
        (1, 3, 2, 1, 33.33),
    ],
)
def test_replica_split_rounds_to_nearest_and_keeps_both(weight, replicas, v1, v2, effective):
    split = replica_split(weight, replicas)
    assert (split.v1_replicas, split.v2_replicas) == (v1, v2)
    assert split.effective_weight == effective
    assert split.v1_replicas + split.v2_replicas == replicas


def test_every_weight_and_size_keeps_the_invariants():
    for replicas in range(1, 13):
        for weight in range(101):
            split = replica_split(weight, replicas)
            assert split.v1_replicas + split.v2_replicas == replicas
            assert split.v1_replicas >= 0 and split.v2_replicas >= 0
            if 0 < weight < 100 and replicas >= 2:
                assert split.v1_replicas >= 1 and split.v2_replicas >= 1
            if weight == 0:
                assert split.v2_replicas == 0
            if weight == 100:
                assert split.v1_replicas == 0


@pytest.mark.parametrize(("weight", "expected"), [(50, 2), (25, 4), (10, 10), (37, 100),
                                                  (0, 1), (100, 1), (20, 5), (75, 4)])
def test_smallest_exact_replicas(weight, expected):
    assert smallest_exact_replicas(weight) == expected
    assert replica_split(weight, expected).exact


def test_warning_names_effective_weight_and_exact_size():
    split = replica_split(10, 4)
    message = inexact_warning(split)
    assert message is not None
    assert "25%" in message and "notificationReplicas 10" in message
    assert inexact_warning(replica_split(50, 4)) is None


@pytest.mark.parametrize(("weight", "v1", "v2"), [(10, 4, 1), (37, 3, 2), (0, 4, 0),
                                                  (100, 0, 4), (50, 2, 2), (1, 4, 1)])
def test_istio_capacity_follows_traffic(weight, v1, v2):
    split = istio_split(weight, 4)
    assert (split.v1_replicas, split.v2_replicas) == (v1, v2)
    assert split.effective_weight == weight


def test_istio_weight_is_exact_for_every_integer():
    for weight in range(101):
        split = istio_split(weight, 4)
        assert split.effective_weight == weight
        assert (split.v2_replicas > 0) == (weight > 0)
        assert (split.v1_replicas > 0) == (weight < 100)


def test_lattice_split_is_the_exact_one_of_istio():
    for weight in range(101):
        lattice, istio = lattice_split(weight, 4), istio_split(weight, 4)
        assert lattice.strategy == "lattice"
        assert (lattice.v1_replicas, lattice.v2_replicas, lattice.effective_weight) == \
            (istio.v1_replicas, istio.v2_replicas, istio.effective_weight)
    assert (lattice_split(10, 4).v1_replicas, lattice_split(10, 4).v2_replicas) == (4, 1)


def test_plan_split_rejects_unknown_strategy_and_bad_numbers():
    assert plan_split("replicas", 50, 4) == replica_split(50, 4)
    assert plan_split("istio", 50, 4) == istio_split(50, 4)
    assert plan_split("lattice", 50, 4) == lattice_split(50, 4)
    with pytest.raises(ValueError, match="appmesh"):
        plan_split("appmesh", 50, 4)
    with pytest.raises(ValueError):
        replica_split(101, 4)
    with pytest.raises(ValueError):
        replica_split(50, 0)


def test_output_has_the_contract_keys():
    assert set(replica_split(50, 4).as_output()) == {
        "strategy", "requestedWeight", "v1Replicas", "v2Replicas", "effectiveWeight"}
