"""`tracing: otel`: an OpenTelemetry collector at the X-Ray daemon's address.

The collector's config is parsed (from the ConfigMap the program registers) and checked for
what the X-Ray SDK needs: segments on UDP 2000, sampling on TCP 2000, export to X-Ray in the
stack's region. The app's Deployments must not change between the two modes.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.addons import otel_collector
from components.k8s import checkov
from tests.util import SECRETS

ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
OTEL = {"tracing": "otel"}


@pytest.fixture
def otel(program):
    run = program(OTEL, secrets=SECRETS)
    assert run.error is None, run.error
    return run


@pytest.fixture
def daemon(program):
    run = program({}, secrets=SECRETS)
    assert run.error is None, run.error
    return run


def config_of(run) -> dict:
    """The collector's config as the collector would read it: the ConfigMap's YAML, parsed."""
    config_map = run.k8s("ConfigMap", otel_collector.CONFIG_MAP)
    return yaml.safe_load(config_map.get("data")[otel_collector.CONFIG_FILE])


def container_of(run) -> dict:
    (container,) = run.k8s("DaemonSet", "otel-collector").get("spec.template.spec.containers")
    return container


def host_port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


# ---- what runs


def test_otel_runs_the_collector_and_no_daemon(otel, daemon):
    kinds_names = {(r.inputs["kind"], r.get("metadata.name")) for r in otel.k8s_objects()}
    assert ("DaemonSet", "otel-collector") in kinds_names
    assert not {("DaemonSet", "xray-daemon"), ("ServiceAccount", "xray-daemon"),
                ("ConfigMap", "xray-config")} & kinds_names
    assert not [r for r in otel.of_type(ROLE) if "xray-daemon" in r.name]
    # and the default mode is untouched: the daemon, no collector
    assert ("DaemonSet", "xray-daemon") in {
        (r.inputs["kind"], r.get("metadata.name")) for r in daemon.k8s_objects()}
    assert not [r for r in daemon.k8s_objects() if "otel" in json.dumps(r.inputs)]


def test_the_image_is_adot_pinned_exactly(otel):
    image = container_of(otel)["image"]
    assert re.fullmatch(r"public\.ecr\.aws/aws-observability/aws-otel-collector:v\d+\.\d+\.\d+",
                        image), image
    assert container_of(otel)["args"] == ["--config=/conf/config.yaml"]
    pod = otel.k8s("DaemonSet", "otel-collector").get("spec.template.spec")
    assert pod["volumes"] == [{"name": "config",
                               "configMap": {"name": otel_collector.CONFIG_MAP}}]
    assert container_of(otel)["volumeMounts"] == [
        {"name": "config", "mountPath": "/conf", "readOnly": True}]


# ---- the collector's config, parsed


def test_receiver_takes_segments_on_udp_and_sampling_on_tcp_2000(otel):
    receiver = config_of(otel)["receivers"]["awsxray"]
    assert host_port(receiver["endpoint"]) == ("0.0.0.0", 2000)
    assert receiver["transport"] == "udp"
    proxy = receiver["proxy_server"]
    # the code's defaults are localhost:2000, unreachable from the Service: both must be set
    assert host_port(proxy["endpoint"]) == ("0.0.0.0", 2000)
    assert proxy["region"] == otel.outputs["region"] == "us-east-1"
    assert proxy["local_mode"] is True


def test_pipeline_limits_memory_first_then_batches_then_exports_to_xray(otel):
    config = config_of(otel)
    (pipeline,) = config["service"]["pipelines"].values()
    assert list(config["service"]["pipelines"]) == ["traces"]
    assert pipeline == {"receivers": ["awsxray"], "processors": ["memory_limiter", "batch"],
                        "exporters": ["awsxray"]}
    limiter = config["processors"]["memory_limiter"]
    assert limiter["check_interval"] == "1s"
    assert 0 < limiter["spike_limit_percentage"] < limiter["limit_percentage"] <= 100
    assert config["processors"]["batch"]["send_batch_size"] > 0
    exporter = config["exporters"]["awsxray"]
    assert exporter["region"] == otel.outputs["region"]
    assert exporter["local_mode"] is True
    # every configured component is in use, and nothing else is configured
    assert set(config["receivers"]) == set(pipeline["receivers"])
    assert set(config["processors"]) == set(pipeline["processors"])
    assert set(config["exporters"]) == set(pipeline["exporters"])
    assert config["service"]["extensions"] == list(config["extensions"]) == ["health_check"]


def test_gomemlimit_is_below_the_memory_limit(otel):
    container = container_of(otel)
    env = {e["name"]: e for e in container["env"]}
    limit = container["resources"]["limits"]["memory"]
    assert limit.endswith("Mi") and env["GOMEMLIMIT"]["value"].endswith("MiB")
    assert int(env["GOMEMLIMIT"]["value"][:-3]) < int(limit[:-2])


def test_probes_ask_the_health_check_extension(otel):
    container = container_of(otel)
    health = config_of(otel)["extensions"]["health_check"]
    host, port = host_port(health["endpoint"])
    # bound to the pod's IP (not the default localhost), which the downward API provides
    variable = re.fullmatch(r"\$\{env:(\w+)\}", host)
    assert variable, host
    env = {e["name"]: e for e in container["env"]}
    assert env[variable[1]]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": health["path"], "port": port}
    assert {(p["containerPort"], p["protocol"]) for p in container["ports"]} == {
        (2000, "UDP"), (2000, "TCP"), (port, "TCP")}


def test_the_pod_is_hardened(otel):
    pod = otel.k8s("DaemonSet", "otel-collector").get("spec.template.spec")
    container = container_of(otel)
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
        "capabilities": {"drop": ["ALL"]}}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "otel-collector"
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) \
        == {"cpu", "memory"}
    # ADOT logs to stderr (no file under /opt/aws) only when it knows it runs in a container
    assert {"name": "RUN_IN_CONTAINER", "value": "True"} in container["env"]
    namespace = otel.k8s("Namespace", "xray").get("metadata.labels")
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"
    daemon_set = otel.k8s("DaemonSet", "otel-collector").inputs
    assert {c for _, _, c, _ in checkov.checkov_skips([daemon_set])} == {
        "CKV_K8S_43", "CKV_K8S_15"}


# ---- the address, the network and the role


def test_xray_service_answers_for_the_collector(otel, daemon):
    service = otel.k8s("Service", "xray-service")
    pods = otel.k8s("DaemonSet", "otel-collector").get("spec.template.metadata.labels")
    selector = service.get("spec.selector")
    assert selector and all(pods[k] == v for k, v in selector.items())
    assert service.get("spec.clusterIP") != "None"  # a stable virtual IP across the switch
    assert {(p["port"], p["protocol"]) for p in service.get("spec.ports")} == {
        (2000, "UDP"), (2000, "TCP")}
    assert otel.outputs["xrayDaemonAddress"] == daemon.outputs["xrayDaemonAddress"] == \
        "xray-service.xray:2000"


def test_switching_keeps_the_namespace_and_service_resources(otel, daemon):
    """Same URNs in both modes: a switch updates them in place instead of create + delete."""
    for kind, name in (("Namespace", "xray"), ("Service", "xray-service")):
        assert otel.k8s(kind, name).urn == daemon.k8s(kind, name).urn
    # the rest are different objects with different names, so create and delete never collide
    shared = {daemon.k8s("Namespace", "xray").urn, daemon.k8s("Service", "xray-service").urn}
    tracing = {r.urn for r in otel.k8s_objects() if r.get("metadata.namespace") == "xray"}
    assert tracing - shared and not (tracing - shared) & {r.urn for r in daemon.resources}


def test_network_policies_admit_2000_from_the_cluster_and_443_out(otel):
    policy = otel.k8s("NetworkPolicy", "otel-collector")
    pods = otel.k8s("DaemonSet", "otel-collector").get("spec.template.metadata.labels")
    assert all(pods[k] == v for k, v in policy.get("spec.podSelector.matchLabels").items())
    (ingress,) = policy.get("spec.ingress")
    assert ingress["from"] == [{"namespaceSelector": {}}]
    assert {(p["protocol"], p["port"]) for p in ingress["ports"]} == {("UDP", 2000),
                                                                     ("TCP", 2000)}
    egress = {(p["protocol"], p["port"]) for r in policy.get("spec.egress") for p in r["ports"]}
    assert egress == {("TCP", 443), ("UDP", 53), ("TCP", 53)}
    # and the app may send to the collector's pods
    app_egress = otel.k8s("NetworkPolicy", "allow-xray-egress").get("spec.egress.0.to.0")
    assert app_egress["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "xray"}
    assert all(pods[k] == v for k, v in app_egress["podSelector"]["matchLabels"].items())


def test_the_role_has_xray_write_only(otel):
    subject = "system:serviceaccount:xray:otel-collector"
    (role,) = [r for r in otel.of_type(ROLE) if subject in r.inputs["assumeRolePolicy"]]
    attached = {a.inputs["policyArn"] for a in otel.of_type(ATTACHMENT) if a.parent == role.parent}
    assert attached == {XRAY_WRITE}
    assert not [p for p in otel.of_type("aws:iam/policy:Policy") if p.parent == role.parent]
    account = otel.k8s("ServiceAccount", "otel-collector")
    assert account.get("metadata.annotations")["eks.amazonaws.com/role-arn"].endswith(
        f":role/{role.name}")


# ---- the app does not notice


def test_app_deployments_are_identical_in_both_modes(otel, daemon):
    def deployments(run):
        return {r.get("metadata.name"): (r.urn, r.inputs) for r in run.k8s_objects()
                if r.inputs["kind"] == "Deployment"}
    assert len(deployments(otel)) == 3
    assert deployments(otel) == deployments(daemon)


def test_destroy_removes_the_collector_after_the_app(otel):
    collector = otel.k8s("DaemonSet", "otel-collector")
    service = otel.k8s("Service", "xray-service")
    for deployment in [r for r in otel.k8s_objects() if r.inputs["kind"] == "Deployment"]:
        assert otel.depends_on(deployment, collector), deployment.name
        assert otel.depends_on(deployment, service), deployment.name
