"""canaryStrategy=istio under mocks: exact weights, capacity that follows traffic, and order."""

import pytest

from tests.test_app import changed

ISTIO = {"canaryStrategy": "istio"}
RELEASE = "kubernetes:helm.sh/v3:Release"


def routes(run) -> dict[str, int]:
    service = run.k8s_objects()
    [vs] = [r for r in service if r.inputs["kind"] == "VirtualService"]
    [route] = vs.get("spec.http")
    return {d["destination"]["subset"]: d["weight"] for d in route["route"]}


def test_istio_charts_are_pinned_from_the_istio_repository(program):
    run = program({**ISTIO, "canaryWeight": "10"})
    assert run.error is None, run.error
    base = run.one(RELEASE, "istio-base")
    istiod = run.one(RELEASE, "istio-istiod")
    for release, chart in ((base, "base"), (istiod, "istiod")):
        assert release.inputs["chart"] == chart
        assert release.inputs["version"] == "1.31.1"
        assert release.inputs["repositoryOpts"]["repo"] == \
            "https://blob.istio.io/istio-release/charts"
        assert release.inputs["namespace"] == "istio-system"
    assert run.depends_on(istiod, base)
    values = istiod.inputs["values"]
    # the chart's own keys (istio-discovery values.yaml, deployment.yaml), not the legacy
    # `pilot.*` copy of zzy_descope_legacy.yaml
    assert "pilot" not in values
    assert values["env"]["ENABLE_NATIVE_SIDECARS"] == "true"
    assert values["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}
    namespace = run.k8s("Namespace", "canary")
    assert namespace.get("metadata.labels")["istio-injection"] == "enabled"
    # the ALB readiness gates work with sidecars too (the webhooks mutate independently)
    assert namespace.get("metadata.labels")["elbv2.k8s.aws/pod-readiness-gate-inject"] == \
        "enabled"


@pytest.mark.parametrize(("weight", "v1", "v2"), [("10", 90, 10), ("37", 63, 37),
                                                  ("0", 100, 0), ("100", 0, 100)])
def test_virtual_service_splits_exactly(program, weight, v1, v2):
    run = program({**ISTIO, "canaryWeight": weight})
    assert routes(run) == {"v1": v1, "v2": v2}
    assert run.outputs["trafficSplit"]["effectiveWeight"] == int(weight)
    assert run.outputs["trafficSplit"]["strategy"] == "istio"
    assert not any("cannot be served exactly" in w for w in run.warnings)


def test_destination_rule_subsets_and_hosts(program):
    run = program(ISTIO)
    [rule] = [r for r in run.k8s_objects() if r.inputs["kind"] == "DestinationRule"]
    host = "notification-clusterip-service.canary.svc.cluster.local"
    assert rule.get("spec.host") == host
    assert {s["name"]: s["labels"] for s in rule.get("spec.subsets")} == {
        "v1": {"version": "v1"}, "v2": {"version": "v2"}}
    [vs] = [r for r in run.k8s_objects() if r.inputs["kind"] == "VirtualService"]
    assert vs.get("spec.hosts") == [host]
    assert "gateways" not in vs.inputs["spec"]


def test_capacity_follows_traffic(program):
    run = program({**ISTIO, "canaryWeight": "10", "notificationReplicas": "4"})
    assert run.k8s("Deployment", "v2-notification-microservice").get("spec.replicas") == 1
    assert run.k8s("Deployment", "v1-notification-microservice").get("spec.replicas") == 4
    split = run.outputs["trafficSplit"]
    assert (split["v1Replicas"], split["v2Replicas"]) == (4, 1)


def test_weight_change_touches_only_routing_weights_and_replicas(program):
    before = program({**ISTIO, "canaryWeight": "10", "notificationReplicas": "10"})
    after = program({**ISTIO, "canaryWeight": "20", "notificationReplicas": "10"})
    diff = changed(before, after)
    assert diff == {
        "deployment-v1-notification-microservice": ["spec.replicas"],
        "deployment-v2-notification-microservice": ["spec.replicas"],
        "virtualservice-notification": ["spec.http.0.route.0.weight",
                                        "spec.http.0.route.1.weight"],
    }


def test_app_and_routing_wait_for_istiod(program):
    run = program(ISTIO)
    istiod = run.one(RELEASE, "istio-istiod")
    app_objects = [r for r in run.k8s_objects() if r.get("metadata.namespace") == "canary"]
    assert len(app_objects) > 10
    for resource in app_objects:
        assert run.depends_on(resource, istiod), resource.name


def test_sidecar_side_effects_are_handled(program):
    run = program(ISTIO)
    usermgmt = run.k8s("Deployment", "usermgmt-microservice")
    notes = usermgmt.get("spec.template.metadata.annotations")
    assert notes["traffic.sidecar.istio.io/excludeOutboundPorts"] == "3306"
    for service in ("mysql", "smtp-service", "notification-clusterip-service"):
        ports = run.k8s("Service", service).get("spec.ports")
        assert all(p.get("name") and p.get("appProtocol") for p in ports), service


def test_replicas_strategy_has_no_istio(program):
    run = program()
    assert run.outputs["trafficSplit"]["strategy"] == "replicas"
    assert not [r for r in run.of_type(RELEASE) if r.name.startswith("istio")]
    assert not [r for r in run.k8s_objects()
                if r.inputs["kind"] in ("VirtualService", "DestinationRule")]
    labels = run.k8s("Namespace", "canary").get("metadata.labels")
    assert "istio-injection" not in labels


def test_appmesh_is_a_clear_config_error(program):
    run = program({"canaryStrategy": "appmesh"})
    assert "canaryStrategy: got 'appmesh'" in run.error
    assert "'replicas' or 'istio'" in run.error and run.resources == []
