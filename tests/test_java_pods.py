"""The course's Java containers inside their limits: heap and metaspace bounded from the memory
limit (OpenJDK 8u212 does not read cgroup v2 limits), and probes that let a new pod take calls
as soon as it has started."""

from __future__ import annotations

import pytest

from components.app import build
from components.app.jvm import JvmMemory
from components.app.pods import java_container
from tests.test_manifests import all_variants, make_spec
from tests.util import DOMAIN, env_of, jvm_bytes, jvm_flags, quantity_bytes

JAVA_DEPLOYMENTS = ("usermgmt-microservice", "v1-notification-microservice",
                    "v2-notification-microservice")


def java_containers(objects: list[dict]) -> list[tuple[str, dict]]:
    return [(o["metadata"]["name"], c) for o in objects if o["kind"] == "Deployment"
            for c in o["spec"]["template"]["spec"]["containers"]]


def assert_memory_bounded(name: str, container: dict) -> None:
    limit = quantity_bytes(container["resources"]["limits"]["memory"])
    flags = jvm_flags(env_of(container)["JAVA_OPTS"])
    heap = jvm_bytes(flags["-Xmx"])
    # the bound (max heap <= 80 % of the limit) and our choice (about half)
    assert 0.5 * limit <= heap <= 0.6 * limit, name
    bounded = heap + sum(jvm_bytes(flags[f]) for f in (
        "MaxMetaspaceSize", "ReservedCodeCacheSize", "MaxDirectMemorySize"))
    # room is left for thread stacks, GC structures and native allocations
    assert bounded <= 0.85 * limit, name
    assert flags["ExitOnOutOfMemoryError"] == "+", name
    request = quantity_bytes(container["resources"]["requests"]["memory"])
    assert heap < request <= limit, name


def assert_probes(name: str, container: dict) -> None:
    startup, readiness, liveness = (container[f"{kind}Probe"]
                                    for kind in ("startup", "readiness", "liveness"))
    assert startup["httpGet"] == readiness["httpGet"], name
    assert startup["periodSeconds"] <= 5, name  # notices a started app within seconds
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 240, name  # minutes
    assert startup.get("initialDelaySeconds", 0) == 0, name
    # startup gates the others: no fixed wait before a started pod can become ready
    assert readiness.get("initialDelaySeconds", 0) == 0, name
    assert liveness.get("initialDelaySeconds", 0) == 0, name


@pytest.mark.parametrize("objects", all_variants()[:3])
def test_every_java_container_bounds_its_memory_from_its_limit(objects):
    containers = java_containers(objects)
    assert sorted(name for name, _ in containers) == sorted(JAVA_DEPLOYMENTS)
    for name, container in containers:
        assert_memory_bounded(name, container)


@pytest.mark.parametrize("objects", all_variants()[:3])
def test_every_java_container_starts_before_it_is_probed(objects):
    for name, container in java_containers(objects):
        assert_probes(name, container)


def test_java_opts_do_not_change_with_the_weight():
    def opts(weight: int, v1: int, v2: int) -> set[str]:
        objects = build.build_app(make_spec(canary_weight=weight, v1_replicas=v1, v2_replicas=v2))
        return {env_of(c)["JAVA_OPTS"] for _, c in java_containers(objects)}

    assert opts(25, 3, 1) == opts(75, 1, 3) and len(opts(25, 3, 1)) == 1


def test_the_program_deploys_bounded_java_with_startup_probes(program):
    run = program(DOMAIN)
    assert run.error is None, run.error
    for name in JAVA_DEPLOYMENTS:
        [container] = run.k8s("Deployment", name).get("spec.template.spec.containers")
        assert_memory_bounded(name, container)
        assert_probes(name, container)


def test_one_number_sizes_the_limit_and_the_jvm():
    memory = JvmMemory(limit_mib=1024)
    assert memory.resources("250m", "1") == {"requests": {"cpu": "250m", "memory": "768Mi"},
                                              "limits": {"cpu": "1", "memory": "1Gi"}}
    assert memory.java_opts == (
        "-Xmx512m -XX:MaxMetaspaceSize=192m -XX:ReservedCodeCacheSize=64m "
        "-XX:MaxDirectMemorySize=64m -XX:+ExitOnOutOfMemoryError")
    # a different limit moves everything with it
    container = java_container("app", "repo/app:1.0", 8080, [], "/health", JvmMemory(1536))
    assert container["resources"]["limits"]["memory"] == "1536Mi"
    assert_memory_bounded("app", container)
    assert jvm_flags(env_of(container)["JAVA_OPTS"])["-Xmx"] == "768m"


def test_a_limit_too_small_for_the_jvm_is_refused():
    with pytest.raises(ValueError, match="512"):
        JvmMemory(limit_mib=256)
