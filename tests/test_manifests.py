"""The app's and the X-Ray daemon's manifest builders: course names, the canary invariants,
secrets and Outputs passed through untouched, and the hardening checkov is run against."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from components.addons import otel_collector, tracing
from components.addons import xray_manifests as xm
from components.addons.load_balancer_controller import READINESS_GATE_INJECT
from components.app import build, network_policies, routing_istio, services
from components.app import ingress as app_ingress
from components.app.spec import AppSpec
from components.k8s import checkov
from components.k8s.network_policy import ip_blocks
from components.targets.aws import ANYWHERE, SES_SMTP_PORTS, ses_host
from tests.util import diff, env_of

JAVA_OPTS = ("-Xmx512m -XX:MaxMetaspaceSize=192m -XX:ReservedCodeCacheSize=64m "
             "-XX:MaxDirectMemorySize=64m -XX:+ExitOnOutOfMemoryError")
CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


def make_spec(**overrides: Any) -> AppSpec:
    values: dict[str, Any] = dict(
        namespace="canary",
        usermgmt_image="stacksimplify/kube-usermanagement-microservice:3.0.0-AWS-XRay-MySQLDB",
        notification_v1_image="stacksimplify/kube-notifications-microservice:3.0.0-AWS-XRay",
        notification_v2_image="stacksimplify/kube-notifications-microservice:4.0.0-AWS-XRay",
        usermgmt_replicas=1, notification_replicas=4, v1_replicas=2, v2_replicas=2,
        xray_address="xray-service.xray:2000", xray_namespace="xray",
        xray_pod_labels={"app": "xray-daemon"},
        db_address="usermgmtdb.abc.eu-west-1.rds.amazonaws.com", db_password="db-pass",
        smtp_username="smtp-user", smtp_password="smtp-pass",
        smtp_from_address="noreply@example.com", load_balancer=True, domain_name=None,
        certificate_arn=None)
    # the AWS platform's values (components/targets/aws.py), from its plain inputs
    region = overrides.pop("region", "eu-west-1")
    public = overrides.pop("public_subnet_cidrs", ("10.0.128.0/19", "10.0.160.0/19"))
    private = overrides.pop("private_subnet_cidrs", ("10.0.0.0/19", "10.0.32.0/19"))
    values.update(smtp_host=ses_host(region), smtp_peers=ANYWHERE, smtp_ports=SES_SMTP_PORTS,
                  usermgmt_from_peers=tuple(ip_blocks(public)),
                  db_peers=tuple(ip_blocks(private)), node_peers=tuple(ip_blocks(private)),
                  namespace_labels=READINESS_GATE_INJECT)
    if overrides.pop("istio", False):
        overrides["strategy"] = "istio"
    values.update(overrides)
    return AppSpec(**values)


def by_name(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def paths_of(node: Any, target: Any, path: tuple = ()) -> list[tuple]:
    """Every path at which `target` itself (by identity) sits."""
    if node is target:
        return [path]
    found: list[tuple] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, target, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_of(value, target, (*path, index))
    return found



def pod_specs(objects: list[dict]) -> list[tuple[str, dict]]:
    return [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in objects
            if o["kind"] in ("Deployment", "DaemonSet")]



def all_variants() -> list[list[dict]]:
    return [
        build.build_app(make_spec()),
        build.build_app(make_spec(domain_name="canary.example.com", certificate_arn=CERT_ARN)),
        build.build_app(make_spec(istio=True, canary_weight=10, v1_replicas=4, v2_replicas=1)),
        xm.build_xray("xray", "eu-west-1", "arn:aws:iam::123456789012:role/xray"),
        otel_collector.build_collector("xray", "eu-west-1",
                                       "arn:aws:iam::123456789012:role/otel"),
    ]


# ---- shape and names


def test_build_app_returns_objects_in_apply_order():
    kinds = [(o["kind"], o["metadata"]["name"]) for o in build.build_app(make_spec())]
    assert kinds[:9] == [
        ("Namespace", "canary"),
        ("Secret", "mysql-db-password"),
        ("Secret", "smtp-credentials"),
        ("Service", "mysql"),
        ("Service", "smtp-service"),
        ("Service", "notification-clusterip-service"),
        ("Service", "usermgmt-restapp-nodeport-service"),
        ("Deployment", "usermgmt-microservice"),
        ("Deployment", "v1-notification-microservice"),
    ]
    assert kinds[9:12] == [("Deployment", "v2-notification-microservice"),
                           # make_spec: 1 user-management pod (no budget), 4 notification pods
                           ("PodDisruptionBudget", "v1-notification-microservice"),
                           ("PodDisruptionBudget", "v2-notification-microservice")]
    assert kinds[12] == ("Ingress", "eks-microservices-demo-canary")
    assert {k for k, _ in kinds[13:]} == {"NetworkPolicy"}


@pytest.mark.parametrize("objects", all_variants())
def test_every_object_is_labelled_and_namespaced(objects):
    namespace = "xray" if objects[0]["kind"] == "ServiceAccount" else "canary"
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "eks-canary"
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace, obj["metadata"]["name"]
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("objects", all_variants())
def test_objects_use_only_the_top_level_fields_the_registrar_maps(objects):
    allowed = {"apiVersion", "kind", "metadata", "spec", "data", "stringData", "type",
               "automountServiceAccountToken"}
    for obj in objects:
        assert set(obj) <= allowed, obj["metadata"]["name"]


def test_namespace_labels_follow_the_strategy():
    plain = services.namespace(make_spec())
    assert plain["metadata"]["name"] == "canary" and "namespace" not in plain["metadata"]
    assert "istio-injection" not in plain["metadata"]["labels"]
    assert plain["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    mesh = services.namespace(make_spec(istio=True))
    assert mesh["metadata"]["labels"]["istio-injection"] == "enabled"
    # istio-init needs NET_ADMIN: enforcing `restricted` would reject every injected pod
    assert "pod-security.kubernetes.io/enforce" not in mesh["metadata"]["labels"]


def test_external_name_services():
    objects = build.build_app(make_spec(region="ap-northeast-2"))
    mysql = by_name(objects, "Service", "mysql")["spec"]
    assert mysql["type"] == "ExternalName"
    assert mysql["externalName"] == "usermgmtdb.abc.eu-west-1.rds.amazonaws.com"
    assert mysql["ports"][0]["port"] == 3306
    smtp = by_name(objects, "Service", "smtp-service")["spec"]
    assert smtp["externalName"] == "email-smtp.ap-northeast-2.amazonaws.com"
    assert smtp["ports"][0]["port"] == 587
    # server-first protocols: declared TCP so that Istio does not sniff them
    assert {mysql["ports"][0]["appProtocol"], smtp["ports"][0]["appProtocol"]} == {"tcp"}


def test_usermgmt_deployment_as_the_course():
    deployment = by_name(build.build_app(make_spec(usermgmt_replicas=3)), "Deployment",
                         "usermgmt-microservice")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "usermgmt-restapp"}}
    assert deployment["spec"]["template"]["metadata"]["labels"]["app"] == "usermgmt-restapp"
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == "usermgmt-restapp"
    assert container["image"] == \
        "stacksimplify/kube-usermanagement-microservice:3.0.0-AWS-XRay-MySQLDB"
    assert container["ports"][0]["containerPort"] == 8095
    assert env_of(container) == {
        "DB_HOSTNAME": "mysql",
        "DB_PORT": "3306",
        "DB_NAME": "usermgmt",
        "DB_USERNAME": "dbadmin",
        "DB_PASSWORD": {"secretKeyRef": {"name": "mysql-db-password", "key": "db-password"}},
        "NOTIFICATION_SERVICE_HOST": "notification-clusterip-service",
        "NOTIFICATION_SERVICE_PORT": "8096",
        "AWS_XRAY_TRACING_NAME": "User-Management-Microservice",
        "AWS_XRAY_DAEMON_ADDRESS": "xray-service.xray:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "JAVA_OPTS": JAVA_OPTS,
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/usermgmt/health-status",
                                                      "port": 8095}
    assert container["startupProbe"]["httpGet"] == container["readinessProbe"]["httpGet"]
    assert container["livenessProbe"]["tcpSocket"] == {"port": 8095}
    (init,) = pod["initContainers"]
    assert init["name"] == "init-db" and init["image"] == "busybox:1.37.0"
    assert init["command"] == [
        "sh", "-c", "until nc -z mysql 3306; do echo waiting for mysql; sleep 2; done"]


@pytest.mark.parametrize("version,image,tracing", [
    ("v1", "stacksimplify/kube-notifications-microservice:3.0.0-AWS-XRay",
     "V1-Notification-Microservice"),
    ("v2", "stacksimplify/kube-notifications-microservice:4.0.0-AWS-XRay",
     "V2-Notification-Microservice"),
])
def test_notification_deployments_as_the_course(version, image, tracing):
    objects = build.build_app(make_spec(v1_replicas=3, v2_replicas=1))
    deployment = by_name(objects, "Deployment", f"{version}-notification-microservice")
    assert deployment["spec"]["replicas"] == {"v1": 3, "v2": 1}[version]
    labels = {"app": "notification-restapp", "version": version}
    assert deployment["spec"]["selector"] == {"matchLabels": labels}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {
        **labels, "app.kubernetes.io/part-of": "eks-canary"}
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == "notification-service" and container["image"] == image
    assert container["ports"][0]["containerPort"] == 8096
    assert env_of(container) == {
        "AWS_MAIL_SERVER_HOST": "smtp-service",
        "AWS_MAIL_SERVER_USERNAME": {"secretKeyRef": {"name": "smtp-credentials",
                                                      "key": "username"}},
        "AWS_MAIL_SERVER_PASSWORD": {"secretKeyRef": {"name": "smtp-credentials",
                                                      "key": "password"}},
        "AWS_MAIL_SERVER_FROM_ADDRESS": "noreply@example.com",
        "AWS_XRAY_TRACING_NAME": tracing,
        "AWS_XRAY_DAEMON_ADDRESS": "xray-service.xray:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "JAVA_OPTS": JAVA_OPTS,
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/notification/health-status",
                                                      "port": 8096}
    assert container["livenessProbe"]["tcpSocket"] == {"port": 8096}
    # a scaled-down pod keeps serving while kube-proxy and the ALB drop it
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/sh", "-c", "sleep 15"]
    assert pod["terminationGracePeriodSeconds"] == 45 > 15


def test_selectors_split_versions_and_the_service_spans_them():
    objects = build.build_app(make_spec())
    v1 = by_name(objects, "Deployment", "v1-notification-microservice")
    v2 = by_name(objects, "Deployment", "v2-notification-microservice")
    service = by_name(objects, "Service", "notification-clusterip-service")["spec"]
    assert service["selector"] == {"app": "notification-restapp"}
    assert service["type"] == "ClusterIP"
    assert service["ports"] == [{"name": "http", "port": 8096, "targetPort": 8096,
                                 "protocol": "TCP", "appProtocol": "http"}]

    def selects(selector: dict, pod_labels: dict) -> bool:
        return all(pod_labels.get(k) == v for k, v in selector.items())

    pods = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in
            (("v1", v1), ("v2", v2))}
    assert selects(service["selector"], pods["v1"]) and selects(service["selector"], pods["v2"])
    assert v1["spec"]["selector"] != v2["spec"]["selector"]
    assert not selects(v1["spec"]["selector"]["matchLabels"], pods["v2"])
    assert not selects(v2["spec"]["selector"]["matchLabels"], pods["v1"])


def test_usermgmt_service_carries_the_alb_health_check():
    service = by_name(build.build_app(make_spec()), "Service", "usermgmt-restapp-nodeport-service")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["selector"] == {"app": "usermgmt-restapp"}
    assert service["spec"]["ports"][0]["port"] == service["spec"]["ports"][0]["targetPort"] \
        == 8095
    assert service["metadata"]["annotations"] == {
        "alb.ingress.kubernetes.io/healthcheck-path": "/usermgmt/health-status"}


# ---- ingress


ALB = "alb.ingress.kubernetes.io/"
TLS_ANNOTATIONS = {ALB + "certificate-arn", ALB + "ssl-redirect", ALB + "ssl-policy",
                   "external-dns.alpha.kubernetes.io/hostname"}


def test_ingress_with_a_domain_serves_https_and_names_the_host():
    ingress = by_name(build.build_app(make_spec(domain_name="canary.example.com",
                                            certificate_arn=CERT_ARN)),
                      "Ingress", "eks-microservices-demo-canary")
    annotations = ingress["metadata"]["annotations"]
    assert annotations[ALB + "listen-ports"] == '[{"HTTPS":443}, {"HTTP":80}]'
    assert json.loads(annotations[ALB + "listen-ports"]) == [{"HTTPS": 443}, {"HTTP": 80}]
    assert annotations[ALB + "certificate-arn"] == CERT_ARN
    assert annotations[ALB + "ssl-redirect"] == "443"
    assert annotations[ALB + "ssl-policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert annotations["external-dns.alpha.kubernetes.io/hostname"] == "canary.example.com"
    http_only = app_ingress.ingress(make_spec())["metadata"]["annotations"]
    assert set(annotations) == set(http_only) | TLS_ANNOTATIONS
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert ingress["spec"]["rules"] == [{"http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "usermgmt-restapp-nodeport-service",
                                "port": {"number": 8095}}}}]}}]


def test_ingress_without_a_domain_serves_http_only():
    annotations = app_ingress.ingress(make_spec())["metadata"]["annotations"]
    assert annotations[ALB + "listen-ports"] == '[{"HTTP":80}]'
    assert not TLS_ANNOTATIONS & set(annotations)
    assert annotations == {
        ALB + "load-balancer-name": "eks-canary",
        ALB + "scheme": "internet-facing",
        ALB + "target-type": "ip",
        ALB + "healthcheck-protocol": "HTTP",
        ALB + "healthcheck-port": "traffic-port",
        ALB + "healthcheck-interval-seconds": "15",
        ALB + "healthcheck-timeout-seconds": "5",
        ALB + "success-codes": "200",
        ALB + "healthy-threshold-count": "2",
        ALB + "unhealthy-threshold-count": "2",
        ALB + "target-group-attributes": "deregistration_delay.timeout_seconds=30",
        ALB + "listen-ports": '[{"HTTP":80}]',
    }


@pytest.mark.parametrize("prefix,expected", [
    ("eks-canary-dev", "eks-canary-dev"),
    ("eks-canary-a-very-long-stack-name-for-the-app", "eks-canary-a-very-long-st-0aa1f3"),
    ("eks-canary-abcdefghijklmnopqrstu-x", "eks-canary-abcdefghijklmn-5b3a1e"),
])
def test_load_balancer_name_fits_the_alb_limit(prefix, expected):
    """Cut to 32 with a hash of the whole prefix, so long prefixes that differ only at the end
    (a plain cut made them equal) get different ALBs."""
    name = app_ingress.load_balancer_name(prefix)
    assert len(name) <= 32 and not name.endswith("-")
    assert name.split("-")[:-1] == expected.split("-")[:-1]
    assert app_ingress.load_balancer_name(prefix + "1") != app_ingress.load_balancer_name(
        prefix + "2")


# ---- the canary invariants


def test_a_weight_change_changes_only_replicas():
    before = build.build_app(make_spec(v1_replicas=3, v2_replicas=1, canary_weight=25))
    after = build.build_app(make_spec(v1_replicas=1, v2_replicas=3, canary_weight=75))
    assert len(before) == len(after)
    changed = {(a["metadata"]["name"], *p) for a, b in zip(before, after, strict=True)
               for p in diff(a, b)}
    assert changed == {("v1-notification-microservice", "spec", "replicas"),
                       ("v2-notification-microservice", "spec", "replicas")}


@pytest.mark.parametrize("istio", [False, True])
def test_budgets_depend_on_the_pod_counts_asked_for_not_on_the_weight(istio):
    def budgets(weight: int, v1: int, v2: int, replicas: int = 4) -> list[dict]:
        return [o for o in build.build_app(make_spec(
            istio=istio, canary_weight=weight, v1_replicas=v1, v2_replicas=v2,
            notification_replicas=replicas, usermgmt_replicas=2))
            if o["kind"] == "PodDisruptionBudget"]

    everywhere = budgets(0, 4, 0)
    assert [b["metadata"]["name"] for b in everywhere] == [
        "usermgmt-microservice", "v1-notification-microservice", "v2-notification-microservice"]
    assert everywhere == budgets(100, 0, 4) == budgets(75, 1, 3)
    for pdb in everywhere:
        assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
    # one notification pod in all: no version can lose one and keep serving
    assert [b["metadata"]["name"] for b in budgets(100, 0, 1, replicas=1)] == [
        "usermgmt-microservice"]


def test_with_istio_a_weight_change_changes_only_replicas_and_route_weights():
    before = build.build_app(make_spec(istio=True, canary_weight=10, v1_replicas=4, v2_replicas=1))
    after = build.build_app(make_spec(istio=True, canary_weight=60, v1_replicas=2, v2_replicas=3))
    changed = {(a["kind"], a["metadata"]["name"], *p)
               for a, b in zip(before, after, strict=True) for p in diff(a, b)}
    assert changed == {
        ("Deployment", "v1-notification-microservice", "spec", "replicas"),
        ("Deployment", "v2-notification-microservice", "spec", "replicas"),
        ("VirtualService", "notification", "spec", "http", 0, "route", 0, "weight"),
        ("VirtualService", "notification", "spec", "http", 0, "route", 1, "weight"),
    }


def test_istio_routing_only_with_istio():
    plain = build.build_app(make_spec(canary_weight=30))
    assert not [o for o in plain if "istio" in o["apiVersion"]]
    for obj in plain:
        for key in obj["metadata"].get("annotations", {}):
            assert "istio" not in key
    for deployment in (o for o in plain if o["kind"] == "Deployment"):
        assert "annotations" not in deployment["spec"]["template"]["metadata"]
    assert not [o for o in plain if o["metadata"]["name"] == "allow-istio-sidecar"]


def test_istio_routing_splits_exactly_by_weight():
    objects = build.build_app(make_spec(namespace="shop", istio=True, canary_weight=30))
    host = "notification-clusterip-service.shop.svc.cluster.local"
    rule = by_name(objects, "DestinationRule", "notification")
    assert rule["apiVersion"] == "networking.istio.io/v1"
    assert rule["spec"] == {"host": host, "subsets": [
        {"name": "v1", "labels": {"version": "v1"}},
        {"name": "v2", "labels": {"version": "v2"}}]}
    service = by_name(objects, "VirtualService", "notification")
    assert service["spec"]["hosts"] == [host]
    assert "gateways" not in service["spec"]
    (route,) = service["spec"]["http"]
    assert [(r["destination"]["subset"], r["weight"]) for r in route["route"]] == \
        [("v1", 70), ("v2", 30)]
    assert {r["destination"]["host"] for r in route["route"]} == {host}
    assert objects[-2:] == [rule, service]


@pytest.mark.parametrize("weight,expected", [(0, [100, 0]), (100, [0, 100])])
def test_istio_keeps_both_destinations_at_the_extremes(weight, expected):
    _, service = routing_istio.istio_routing(make_spec(istio=True, canary_weight=weight))
    assert [r["weight"] for r in service["spec"]["http"][0]["route"]] == expected


def test_istio_rejects_a_weight_out_of_range():
    with pytest.raises(ValueError):
        routing_istio.istio_routing(make_spec(istio=True, canary_weight=101))


def test_istio_pod_annotations():
    objects = build.build_app(make_spec(istio=True))
    usermgmt = by_name(objects, "Deployment", "usermgmt-microservice")
    hold = {"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}'}
    assert usermgmt["spec"]["template"]["metadata"]["annotations"] == {
        **hold, "traffic.sidecar.istio.io/excludeOutboundPorts": "3306"}
    assert json.loads(hold["proxy.istio.io/config"]) == {"holdApplicationUntilProxyStarts": True}
    for version in ("v1", "v2"):
        deployment = by_name(objects, "Deployment", f"{version}-notification-microservice")
        assert deployment["spec"]["template"]["metadata"]["annotations"] == hold
    assert by_name(objects, "Namespace", "canary")["metadata"]["labels"]["istio-injection"] \
        == "enabled"


# ---- secrets and Outputs


def test_secrets_hold_the_credentials():
    objects = build.build_app(make_spec())
    db = by_name(objects, "Secret", "mysql-db-password")
    assert db["type"] == "Opaque" and db["stringData"] == {"db-password": "db-pass"}
    smtp = by_name(objects, "Secret", "smtp-credentials")
    assert smtp["type"] == "Opaque"
    assert smtp["stringData"] == {"username": "smtp-user", "password": "smtp-pass"}


@pytest.mark.parametrize("istio", [False, True])
def test_secret_values_appear_only_in_their_secret(istio):
    db, user, password = object(), object(), object()
    objects = build.build_app(make_spec(db_password=db, smtp_username=user, smtp_password=password,
                                    istio=istio))
    for sentinel, where in ((db, ("mysql-db-password", "db-password")),
                            (user, ("smtp-credentials", "username")),
                            (password, ("smtp-credentials", "password"))):
        found = [(o["kind"], o["metadata"]["name"], *p) for o in objects
                 for p in paths_of(o, sentinel)]
        assert found == [("Secret", where[0], "stringData", where[1])]


def test_outputs_are_placed_untouched():
    address, xray, arn = object(), object(), object()
    objects = build.build_app(make_spec(db_address=address, xray_address=xray,
                                    domain_name="canary.example.com", certificate_arn=arn))
    mysql = by_name(objects, "Service", "mysql")
    assert mysql["spec"]["externalName"] is address
    assert [(o["metadata"]["name"], *p) for o in objects for p in paths_of(o, address)] == \
        [("mysql", "spec", "externalName")]
    ingress = by_name(objects, "Ingress", "eks-microservices-demo-canary")
    assert ingress["metadata"]["annotations"][ALB + "certificate-arn"] is arn
    # the X-Ray address goes to every app container, as it is
    assert sorted(o["metadata"]["name"] for o in objects for _ in paths_of(o, xray)) == [
        "usermgmt-microservice", "v1-notification-microservice",
        "v2-notification-microservice"]
    role = object()
    (account,) = [o for o in xm.build_xray("xray", "eu-west-1", role)
                  if o["kind"] == "ServiceAccount"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] is role


def test_objects_are_plain_json_data():
    for objects in all_variants():
        rendered = json.loads(json.dumps(objects))
        assert rendered == objects


# ---- network policies


def test_network_policies_deny_by_default_and_allow_the_app_flows():
    objects = build.build_app(make_spec(public_subnet_cidrs=("10.20.128.0/19",),
                                    private_subnet_cidrs=("10.20.0.0/19", "10.20.32.0/19"),
                                    xray_namespace="tracing"))
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert set(policies) == {"default-deny-all", "allow-dns-egress", "allow-xray-egress",
                             "usermgmt", "notification"}
    assert policies["default-deny-all"] == {"podSelector": {}, "policyTypes":
                                            ["Ingress", "Egress"], "ingress": [], "egress": []}
    (dns,) = policies["allow-dns-egress"]["egress"]
    assert dns["to"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    assert sorted((p["protocol"], p["port"]) for p in dns["ports"]) == [("TCP", 53), ("UDP", 53)]
    (xray,) = policies["allow-xray-egress"]["egress"]
    assert xray["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "tracing"}
    assert xray["to"][0]["podSelector"]["matchLabels"] == {"app": "xray-daemon"}
    assert sorted((p["protocol"], p["port"]) for p in xray["ports"]) == \
        [("TCP", 2000), ("UDP", 2000)]

    usermgmt = policies["usermgmt"]
    assert usermgmt["podSelector"] == {"matchLabels": {"app": "usermgmt-restapp"}}
    assert usermgmt["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.20.128.0/19"}}],
                                    "ports": [{"protocol": "TCP", "port": 8095}]}]
    assert usermgmt["egress"] == [
        {"to": [{"podSelector": {"matchLabels": {"app": "notification-restapp"}}}],
         "ports": [{"protocol": "TCP", "port": 8096}]},
        {"to": [{"ipBlock": {"cidr": "10.20.0.0/19"}}, {"ipBlock": {"cidr": "10.20.32.0/19"}}],
         "ports": [{"protocol": "TCP", "port": 3306}]},
    ]
    notification = policies["notification"]
    assert notification["ingress"] == [{
        "from": [{"podSelector": {"matchLabels": {"app": "usermgmt-restapp"}}}],
        "ports": [{"protocol": "TCP", "port": 8096}]}]
    (smtp,) = notification["egress"]
    assert smtp["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
    assert sorted(p["port"] for p in smtp["ports"]) == [25, 465, 587, 2465, 2587]


def test_network_policies_with_istio_reach_istiod_and_admit_sidecar_probes():
    policies = {p["metadata"]["name"]: p["spec"]
                for p in network_policies.network_policies(make_spec(istio=True))}
    sidecar = policies["allow-istio-sidecar"]
    assert sidecar["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.0.0.0/19"}},
                                            {"ipBlock": {"cidr": "10.0.32.0/19"}}], "ports": [
        {"protocol": "TCP", "port": 15020}, {"protocol": "TCP", "port": 15021}]}]
    (istiod,) = sidecar["egress"]
    assert istiod["to"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}},
        "podSelector": {"matchLabels": {"app": "istiod"}}}]
    assert sorted(p["port"] for p in istiod["ports"]) == [15012, 15017]


# ---- hardening (what `checkov --framework kubernetes` is run against)


@pytest.mark.parametrize("objects", all_variants())
def test_every_container_is_hardened(objects):
    specs = pod_specs(objects)
    assert specs
    for name, pod in specs:
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        containers = pod["containers"] + pod.get("initContainers", [])
        for container in containers:
            where = f"{name}/{container['name']}"
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                "capabilities": {"drop": ["ALL"]}}, where
            assert container["imagePullPolicy"] == "IfNotPresent", where
            assert not container["image"].endswith(":latest") and ":" in container["image"]
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, where
            assert "hostPort" not in json.dumps(container), where
        for container in pod["containers"]:
            assert "livenessProbe" in container and "readinessProbe" in container
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes
        if name not in ("xray-daemon", "otel-collector"):  # the Java apps: writable /tmp
            assert volumes["tmp"]["emptyDir"]
            assert {"name": "tmp", "mountPath": "/tmp"} in pod["containers"][0]["volumeMounts"]


@pytest.mark.parametrize("objects", all_variants())
def test_every_checkov_skip_has_a_reason(objects):
    skips = checkov.checkov_skips(objects)
    assert skips
    for kind, name, check, reason in skips:
        assert check.startswith("CKV_K8S_"), (kind, name, check)
        assert len(reason.strip()) > 20, (kind, name, check)
    for obj in objects:  # numbered skip1, skip2, ... without gaps
        keys = [k for k in obj["metadata"].get("annotations", {}) if k.startswith("checkov")]
        assert keys == [f"checkov.io/skip{i}" for i in range(1, len(keys) + 1)]


def test_checkov_skips_lists_the_app_exceptions():
    skips = checkov.checkov_skips(build.build_app(make_spec()))
    assert {(name, check) for _, name, check, _ in skips} == {
        (name, check)
        for name in ("usermgmt-microservice", "v1-notification-microservice",
                     "v2-notification-microservice")
        for check in ("CKV_K8S_43", "CKV_K8S_15", "CKV_K8S_35")}


def test_a_skip_without_a_reason_is_refused():
    with pytest.raises(ValueError):
        checkov.checkov_skip_annotations(("CKV_K8S_43", "  "))


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_spec().namespace = "other"  # type: ignore[misc]


# ---- the X-Ray daemon


def xray_objects() -> list[dict]:
    return xm.build_xray("tracing", "ap-northeast-2", "arn:aws:iam::123456789012:role/xray")


def test_xray_objects_and_address():
    objects = xray_objects()
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ServiceAccount", "xray-daemon"), ("ConfigMap", "xray-config"),
        ("DaemonSet", "xray-daemon"), ("Service", "xray-service"),
        ("NetworkPolicy", "xray-daemon")]
    assert not [o for o in objects if o["kind"] == "Namespace"]  # the caller makes it
    assert xm.xray_address("tracing") == "xray-service.tracing:2000"
    account = objects[0]
    assert account["automountServiceAccountToken"] is False  # IRSA projects its own token
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/xray"}


def test_xray_config_and_daemon():
    objects = xray_objects()
    config = by_name(objects, "ConfigMap", "xray-config")["data"]["config.yaml"]
    for line in ("Version: 2", "TotalBufferSizeMB: 24", 'UDPAddress: "0.0.0.0:2000"',
                 'TCPAddress: "0.0.0.0:2000"', 'Region: "ap-northeast-2"', 'LogLevel: "prod"',
                 "LocalMode: true"):
        assert line in config
    daemon = by_name(objects, "DaemonSet", "xray-daemon")
    pod = daemon["spec"]["template"]["spec"]
    assert daemon["spec"]["selector"] == {"matchLabels": {"app": "xray-daemon"}}
    assert pod["serviceAccountName"] == "xray-daemon"
    (container,) = pod["containers"]
    assert container["image"] == "public.ecr.aws/xray/aws-xray-daemon:3.6.6"
    assert container["args"] == ["-c", "/aws/xray/config.yaml"]
    assert container["volumeMounts"] == [{"name": "config", "mountPath": "/aws/xray",
                                          "readOnly": True}]
    assert pod["volumes"] == [{"name": "config", "configMap": {"name": "xray-config"}}]
    assert container["env"] == [{"name": "AWS_REGION", "value": "ap-northeast-2"}]
    assert sorted((p["name"], p["containerPort"], p["protocol"]) for p in container["ports"]) \
        == [("xray-ingest", 2000, "UDP"), ("xray-tcp", 2000, "TCP")]
    assert container["resources"] == {"requests": {"cpu": "256m", "memory": "32Mi"},
                                      "limits": {"cpu": "512m", "memory": "64Mi"}}
    assert container["livenessProbe"]["tcpSocket"] == {"port": 2000}
    assert container["readinessProbe"]["tcpSocket"] == {"port": 2000}
    assert pod["automountServiceAccountToken"] is False
    assert {c for _, _, c, _ in checkov.checkov_skips([daemon])} == {"CKV_K8S_43", "CKV_K8S_15"}


def test_xray_service_has_a_stable_virtual_ip_on_both_protocols():
    """The X-Ray SDK resolves the daemon address once, at app start: a headless Service would
    pin one daemon pod's IP, lost when that pod is replaced (node drain, update, a switch of
    `tracing`). A ClusterIP stays, and kube-proxy sends to whichever tracing pod is ready."""
    service = by_name(xray_objects(), "Service", "xray-service")["spec"]
    assert service.get("clusterIP") != "None"
    assert service.get("type", "ClusterIP") == "ClusterIP"
    assert service["selector"] == {"eks-canary/tracing": "xray-service"}  # either backend
    assert sorted((p["port"], p["protocol"]) for p in service["ports"]) == \
        [(2000, "TCP"), (2000, "UDP")]


def test_xray_network_policy():
    policy = by_name(xray_objects(), "NetworkPolicy", "xray-daemon")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"eks-canary/tracing": "xray-service"}}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    assert ingress["from"] == [{"namespaceSelector": {}}]
    assert sorted((p["protocol"], p["port"]) for p in ingress["ports"]) == \
        [("TCP", 2000), ("UDP", 2000)]
    egress = {(p["protocol"], p["port"]) for rule in policy["egress"] for p in rule["ports"]}
    assert egress == {("TCP", 443), ("UDP", 53), ("TCP", 53)}


def test_the_app_reaches_the_daemon_the_addon_builds():
    """The app's egress policy selects the pods and namespace the add-on runs."""
    daemon = by_name(xray_objects(), "DaemonSet", "xray-daemon")
    policy = by_name(build.build_app(make_spec(xray_namespace="tracing")), "NetworkPolicy",
                     "allow-xray-egress")["spec"]["egress"][0]["to"][0]
    assert policy["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == \
        daemon["metadata"]["namespace"]
    pod_labels = daemon["spec"]["template"]["metadata"]["labels"]
    assert all(pod_labels[k] == v for k, v in policy["podSelector"]["matchLabels"].items())


@pytest.mark.parametrize("mode", ["xray-daemon", "otel"])
def test_the_app_egress_admits_the_tracing_services_cluster_ip(mode):
    """The VPC CNI's policy agent filters at the pod's veth, before kube-proxy's DNAT, so it
    sees `xray-service`'s ClusterIP, not a pod IP. The policy controller adds a Service's
    ClusterIP to an egress rule only if the Service is not headless, the rule's podSelector
    matches the Service's `spec.selector`, and a Service port's numeric targetPort and protocol
    equal the rule's (aws/amazon-network-policy-controller-k8s pkg/resolvers/endpoints.go
    getMatchingServiceClusterIPs, pkg/k8s/service_utils.go LookupServiceListenPort)."""
    found = tracing.endpoint(mode)
    service = by_name(tracing.tracing_objects(mode, "eu-west-1", "arn:aws:iam::1:role/r"),
                      "Service", "xray-service")["spec"]
    spec = make_spec(xray_namespace=found.namespace, xray_pod_labels=found.pod_labels)
    (rule,) = by_name(build.build_app(spec), "NetworkPolicy",
                      "allow-xray-egress")["spec"]["egress"]
    (peer,) = rule["to"]
    assert service.get("clusterIP") != "None"
    assert set(peer["podSelector"]) == {"matchLabels"}
    assert peer["podSelector"]["matchLabels"].items() <= service["selector"].items()
    service_ports = {(p["targetPort"], p["protocol"]) for p in service["ports"]}
    assert {(p["port"], p["protocol"]) for p in rule["ports"]} <= service_ports
