"""The whole program under mocks: the split it exports, and bad config stopping it early."""

import pytest

from canaryctl.stackfiles import stack_values


@pytest.mark.parametrize(("weight", "v1", "v2"),
                         [("0", 4, 0), ("25", 3, 1), ("50", 2, 2), ("75", 1, 3), ("100", 0, 4)])
def test_traffic_split_follows_the_course_table(program, weight, v1, v2):
    run = program({"canaryWeight": weight, "notificationReplicas": "4"})
    assert run.error is None, run.error
    assert run.outputs["trafficSplit"] == {
        "strategy": "replicas", "requestedWeight": int(weight),
        "v1Replicas": v1, "v2Replicas": v2, "effectiveWeight": int(weight)}
    assert not any("canaryWeight" in w for w in run.warnings)


@pytest.mark.parametrize(("weight", "replicas", "v1", "v2", "effective"),
                         [("10", "4", 3, 1, 25), ("10", "10", 9, 1, 10), ("1", "2", 1, 1, 50)])
def test_inexact_weights_warn_with_effective_weight(program, weight, replicas, v1, v2, effective):
    run = program({"canaryWeight": weight, "notificationReplicas": replicas})
    split = run.outputs["trafficSplit"]
    assert (split["v1Replicas"], split["v2Replicas"], split["effectiveWeight"]) == \
        (v1, v2, effective)
    warned = [w for w in run.warnings if "cannot be served exactly" in w]
    assert bool(warned) == (effective != int(weight))
    if warned:
        assert f"{effective}%" in warned[0]


@pytest.mark.parametrize(("key", "value"), [
    ("canaryWeight", "-1"), ("canaryWeight", "101"), ("canaryWeight", "abc"),
    ("canaryWeight", "50.5"), ("notificationReplicas", "0"), ("notificationReplicas", "-3"),
    ("notificationReplicas", "many"), ("domainName", "not a host!"),
    ("canaryStrategy", "appmesh"), ("tracing", "jaeger"),
])
def test_bad_config_stops_before_any_resource(program, key, value):
    run = program({key: value})
    assert run.error is not None and f"{key}: got {value!r}" in run.error
    assert "Traceback" not in run.error
    assert run.resources == []


def test_dev_stack_is_the_course_demo():
    values, secrets = stack_values("dev")
    assert secrets == set()
    assert values["aws:region"] == "us-east-1"
    assert values["canaryWeight"] == "50" and values["notificationReplicas"] == "4"


def test_default_run_succeeds(program):
    run = program()
    assert run.error is None, run.error
    assert run.outputs["trafficSplit"]["v2Replicas"] == 2


def test_a_misspelt_key_stops_before_any_resource(program):
    run = program({"canaryWieght": "75"})
    assert run.error is not None and "canaryWieght" in run.error
    assert "did you mean `canaryWeight`?" in run.error and "Traceback" not in run.error
    assert "pulumi config rm canaryWieght" in run.error
    assert run.resources == []


def test_keys_of_other_namespaces_are_left_to_their_providers(program):
    run = program({"kubernetes:enableServerSideApply": "true"})
    assert run.error is None, run.error
