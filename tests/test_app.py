"""The canary app stack under mocks, wired to the platform and add-on outputs."""

import json

import pytest

from tests import fakes
from tests.util import DOMAIN, diff, env_of

SMTP = {"smtpUsername": "AKIAEXAMPLESMTPUSER", "smtpPassword": "smtp-Secret-Value-123"}
DB_PASSWORD = {"dbPassword": "Db-Secret-Value-456"}


@pytest.fixture
def run(program):
    result = program(DOMAIN, secrets={**SMTP, **DB_PASSWORD})
    assert result.error is None, result.error
    return result



def container(resource, index=0):
    return resource.get(f"spec.template.spec.containers.{index}")


def deployment(run, name):
    return run.k8s("Deployment", name)


def test_notification_v1_and_v2(run):
    v1 = deployment(run, "v1-notification-microservice")
    v2 = deployment(run, "v2-notification-microservice")
    assert container(v1)["image"].endswith(":3.0.0-AWS-XRay")
    assert container(v2)["image"].endswith(":4.0.0-AWS-XRay")
    for dep, version in ((v1, "V1"), (v2, "V2")):
        main = container(dep)
        env = env_of(main)
        assert env["AWS_XRAY_TRACING_NAME"] == f"{version}-Notification-Microservice"
        assert env["AWS_XRAY_DAEMON_ADDRESS"].endswith(":2000")
        assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
        assert env["AWS_MAIL_SERVER_HOST"] == "smtp-service"
        assert env["AWS_MAIL_SERVER_USERNAME"]["secretKeyRef"]["name"]
        assert env["AWS_MAIL_SERVER_PASSWORD"]["secretKeyRef"]["name"]
        assert [p["containerPort"] for p in main["ports"]] == [8096]
        assert main["readinessProbe"] and main["livenessProbe"]
        assert main["resources"]["requests"]
        assert main["lifecycle"]["preStop"]
        grace = dep.get("spec.template.spec.terminationGracePeriodSeconds")
        assert grace > 15
        labels = dep.get("spec.template.metadata.labels")
        assert labels["app"] == "notification-restapp"
        assert dep.get("spec.selector.matchLabels") == {
            "app": "notification-restapp", "version": version.lower()}
        assert dep.get("spec.replicas") == 2
    assert v1.get("spec.selector") != v2.get("spec.selector")


def test_notification_service_selects_both_versions(run):
    service = run.k8s("Service", "notification-clusterip-service")
    assert service.get("spec.type", "ClusterIP") == "ClusterIP"
    assert service.get("spec.selector") == {"app": "notification-restapp"}
    assert [(p["port"], p["targetPort"]) for p in service.get("spec.ports")] == [(8096, 8096)]
    assert len([s for s in run.k8s_objects() if s.inputs["kind"] == "Service"
                and s.get("spec.selector", {}).get("app") == "notification-restapp"]) == 1


def test_usermgmt_deployment(run):
    dep = deployment(run, "usermgmt-microservice")
    assert dep.get("spec.replicas") == 2
    main = container(dep)
    env = env_of(main)
    assert env["DB_HOSTNAME"] == "mysql" and env["DB_PORT"] == "3306"
    assert env["DB_NAME"] == "usermgmt" and env["DB_USERNAME"] == "dbadmin"
    ref = env["DB_PASSWORD"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == ("mysql-db-password", "db-password")
    assert env["NOTIFICATION_SERVICE_HOST"] == "notification-clusterip-service"
    assert env["NOTIFICATION_SERVICE_PORT"] == "8096"
    assert env["AWS_XRAY_TRACING_NAME"] == "User-Management-Microservice"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == run.outputs["xrayDaemonAddress"]
    assert main["readinessProbe"]["httpGet"]["path"] == "/usermgmt/health-status"
    assert main["livenessProbe"]
    init = dep.get("spec.template.spec.initContainers.0")
    assert "nc -z mysql 3306" in " ".join(init["command"] + init.get("args", []))
    mysql = run.k8s("Service", "mysql")
    assert mysql.get("spec.type") == "ExternalName"
    assert mysql.get("spec.externalName") == fakes.RDS_ADDRESS
    smtp = run.k8s("Service", "smtp-service")
    assert smtp.get("spec.externalName") == "email-smtp.us-east-1.amazonaws.com"


def test_secrets_live_only_in_secret_objects_and_are_pulumi_secrets(run):
    db_secret = run.k8s("Secret", "mysql-db-password")
    assert db_secret.get("stringData.db-password") == DB_PASSWORD["dbPassword"]
    assert db_secret.is_secret("stringData")
    smtp_secret = [s for s in run.k8s_objects() if s.inputs["kind"] == "Secret"
                   and s is not db_secret]
    assert len(smtp_secret) == 1 and smtp_secret[0].is_secret("stringData")
    values = set(SMTP.values()) | set(DB_PASSWORD.values())
    places = [(resource, path) for resource in run.resources
              for path in paths_holding(resource.inputs, values)]
    # the only places: the two Secrets' stringData and the RDS password, each a Pulumi secret
    assert {(r.type, p) for r, p in places} == {
        ("kubernetes:core/v1:Secret", "stringData.db-password"),
        ("kubernetes:core/v1:Secret", "stringData.username"),
        ("kubernetes:core/v1:Secret", "stringData.password"),
        ("aws:rds/instance:Instance", "password")}
    for resource, path in places:
        assert resource.is_secret(path), (resource.name, path)


def paths_holding(tree, values, path="") -> list[str]:
    """Dotted paths of the leaves of `tree` that contain one of `values`."""
    if isinstance(tree, dict):
        return [p for k, v in tree.items()
                for p in paths_holding(v, values, f"{path}.{k}" if path else k)]
    if isinstance(tree, list):
        return [p for i, v in enumerate(tree) for p in paths_holding(v, values, f"{path}.{i}")]
    return [path] if isinstance(tree, str) and any(v in tree for v in values) else []


def test_ingress_with_a_domain(run):
    ingress = run.k8s("Ingress", "eks-microservices-demo-canary")
    notes = ingress.get("metadata.annotations")
    assert notes["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [
        {"HTTPS": 443}, {"HTTP": 80}]
    assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == fakes.CERTIFICATE_ARN
    assert notes["alb.ingress.kubernetes.io/ssl-policy"].startswith("ELBSecurityPolicy-TLS13")
    assert notes["external-dns.alpha.kubernetes.io/hostname"] == "canary.example.com"
    assert notes["alb.ingress.kubernetes.io/healthcheck-interval-seconds"] == "15"
    assert notes["alb.ingress.kubernetes.io/healthy-threshold-count"] == "2"
    assert ingress.get("spec.ingressClassName") == "alb"
    [rule] = ingress.get("spec.rules")
    [path] = rule["http"]["paths"]
    assert path["path"] == "/" and path["pathType"] == "Prefix"
    assert path["backend"]["service"] == {"name": "usermgmt-restapp-nodeport-service",
                                          "port": {"number": 8095}}
    assert run.outputs["url"] == "https://canary.example.com"


def test_ingress_without_a_domain_is_http_only(program):
    run = program()
    notes = run.k8s("Ingress", "eks-microservices-demo-canary").get("metadata.annotations")
    assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    for key in ("ssl-redirect", "certificate-arn", "ssl-policy"):
        assert f"alb.ingress.kubernetes.io/{key}" not in notes
    assert "external-dns.alpha.kubernetes.io/hostname" not in notes
    assert run.outputs["url"] == f"http://{fakes.ALB_HOSTNAME}"


def test_ingress_is_deleted_before_controller_dns_and_certificate(run):
    ingress = run.k8s("Ingress", "eks-microservices-demo-canary")
    controller = run.one("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller")
    external_dns = run.one("kubernetes:helm.sh/v3:Release", "external-dns")
    validation = run.one("aws:acm/certificateValidation:CertificateValidation")
    assert run.depends_on(ingress, controller)
    assert run.depends_on(ingress, external_dns)
    assert run.depends_on(ingress, validation)
    delay = run.one("time:index/sleep:Sleep")
    assert run.depends_on(ingress, delay) and run.depends_on(delay, external_dns)
    assert delay.inputs["destroyDuration"] == "90s"
    assert "createDuration" not in delay.inputs  # `up` does not wait


def test_no_dynamic_provider_resources(program):
    """A Python dynamic provider is pickled into the state by module path, and its default
    update stores no outputs: the destroy delay is pulumiverse-time's Sleep instead."""
    for config in ({}, DOMAIN):
        run = program(config)
        assert not [r for r in run.resources if r.type.startswith("pulumi-python:dynamic")]


def test_all_app_objects_in_one_namespace_that_is_not_default(run):
    namespace = run.k8s("Namespace", "canary")
    app_objects = [r for r in run.k8s_objects() if r.parent == namespace.parent
                   and r is not namespace]
    assert len(app_objects) >= 10
    assert {r.get("metadata.namespace") for r in app_objects} == {"canary"}
    for resource in app_objects:
        assert run.depends_on(resource, namespace), resource.name


def test_every_app_object_waits_for_the_controller(run):
    controller = run.one("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller")
    for resource in run.k8s_objects():
        if resource.get("metadata.namespace") == "canary":
            assert run.depends_on(resource, controller), resource.name




def budget(run, name):
    return run.k8s("PodDisruptionBudget", name)


def test_usermgmt_runs_two_pods_spread_over_zones_with_a_budget(run):
    dep = deployment(run, "usermgmt-microservice")
    assert dep.get("spec.replicas") == 2
    selector = dep.get("spec.selector")
    spread = {c["topologyKey"]: c for c in dep.get("spec.template.spec.topologySpreadConstraints")}
    zone = spread["topology.kubernetes.io/zone"]
    # preferred, not required: with two nodes in two zones a drained node's pod must be able
    # to go to the other zone, which DoNotSchedule (maxSkew 1) would refuse
    assert (zone["maxSkew"], zone["whenUnsatisfiable"]) == (1, "ScheduleAnyway")
    assert zone["labelSelector"] == selector
    pdb = budget(run, "usermgmt-microservice")
    assert pdb.get("spec.maxUnavailable") == 1 and "minAvailable" not in pdb.inputs["spec"]
    assert pdb.get("spec.selector") == selector
    assert pdb.get("spec.unhealthyPodEvictionPolicy") == "AlwaysAllow"
    assert pdb.get("metadata.namespace") == "canary"


def test_each_notification_version_has_a_budget(run):
    for version in ("v1", "v2"):
        dep = deployment(run, f"{version}-notification-microservice")
        pdb = budget(run, f"{version}-notification-microservice")
        assert pdb.get("spec.maxUnavailable") == 1
        assert pdb.get("spec.selector") == dep.get("spec.selector")


def test_no_budget_where_a_deployment_can_run_only_one_pod(program):
    run = program({"usermgmtReplicas": "1", "notificationReplicas": "1"})
    assert run.error is None, run.error
    assert [r for r in run.k8s_objects() if r.inputs["kind"] == "PodDisruptionBudget"] == []


def test_the_app_namespace_injects_alb_readiness_gates(run):
    # the load balancer controller's pod webhook then adds a readiness gate to user-management
    # pods: a rollout never removes the last target the ALB finds healthy
    labels = run.k8s("Namespace", "canary").get("metadata.labels")
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def changed(before, after) -> dict[str, list[str]]:
    """Resource name -> changed input paths between two runs (same resources expected)."""
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    assert set(old) == set(new)
    return {old[urn].name: sorted(".".join(map(str, p)) for p in paths) for urn in old
            if (paths := diff(old[urn].inputs, new[urn].inputs))}


def test_weight_change_touches_only_the_two_notification_replica_counts(program):
    before = program(DOMAIN, secrets=SMTP)
    after = program({**DOMAIN, "canaryWeight": "75"}, secrets=SMTP)
    assert changed(before, after) == {
        "deployment-v1-notification-microservice": ["spec.replicas"],
        "deployment-v2-notification-microservice": ["spec.replicas"],
    }
    assert after.k8s("Deployment", "v2-notification-microservice").get("spec.replicas") == 3


@pytest.mark.parametrize(("weight", "v1", "v2"),
                         [("0", 4, 0), ("25", 3, 1), ("50", 2, 2), ("75", 1, 3), ("100", 0, 4)])
def test_replicas_follow_the_course_table(program, weight, v1, v2):
    run = program({"canaryWeight": weight})
    assert run.k8s("Deployment", "v1-notification-microservice").get("spec.replicas") == v1
    assert run.k8s("Deployment", "v2-notification-microservice").get("spec.replicas") == v2


def test_network_policies_admit_the_alb_subnets_and_reach_rds_subnets(run):
    subnets = run.of_type("aws:ec2/subnet:Subnet")
    public = {s.inputs["cidrBlock"] for s in subnets if "public" in s.name}
    private = {s.inputs["cidrBlock"] for s in subnets if "private" in s.name}
    policy = run.k8s("NetworkPolicy", "usermgmt").inputs["spec"]
    [ingress] = policy["ingress"]
    assert {b["ipBlock"]["cidr"] for b in ingress["from"]} == public
    assert [p["port"] for p in ingress["ports"]] == [8095]
    mysql = next(rule for rule in policy["egress"] if rule["ports"][0]["port"] == 3306)
    assert {b["ipBlock"]["cidr"] for b in mysql["to"]} == private
    deny = run.k8s("NetworkPolicy", "default-deny-all").inputs["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
