"""`target: local`: the same app on any Kubernetes cluster, with no AWS at all (issue 18)."""

import ast
import os
from pathlib import Path

import pytest

from components.k8s.pods import RUN_AS_UID
from tests.test_app import changed
from tests.util import env_of, quantity_bytes

ROOT = Path(__file__).resolve().parent.parent
LOCAL = {"target": "local"}
GIB = 1024 ** 3


@pytest.fixture
def run(program):
    result = program(LOCAL, stack="local")
    assert result.error is None, result.error
    return result


def containers(resource) -> list[dict]:
    return resource.get("spec.template.spec.containers")


# ---- no AWS at all


def test_registers_no_aws_resource_invoke_or_provider(run):
    assert run.resources
    assert [r.type for r in run.resources if r.type.startswith(("aws:", "eks:", "awsx:"))] == []
    assert [r.type for r in run.resources if r.type == "pulumi:providers:aws"] == []
    assert [token for token, _ in run.invokes if token.startswith("aws:")] == []


def test_every_object_uses_the_provider_of_the_kube_context(program):
    run = program({**LOCAL, "kubeContext": "kind-eks-canary"}, stack="local")
    assert run.error is None, run.error
    [provider] = run.of_type("pulumi:providers:kubernetes")
    assert provider.inputs.get("context") == "kind-eks-canary"
    if "KUBECONFIG" not in os.environ:  # the SDK passes KUBECONFIG on as `kubeconfig`
        assert "kubeconfig" not in provider.inputs  # ~/.kube/config, as kubectl
    for resource in run.k8s_objects():
        assert resource.provider.startswith(provider.urn), resource.name
    assert "--context kind-eks-canary" in run.outputs["portForward"]


def test_the_local_program_never_imports_the_aws_sdks():
    """choose.py imports the AWS platform only when it is chosen."""
    tree = ast.parse((ROOT / "components/targets/local.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {"pulumi_aws", "pulumi_eks", "components.targets.aws"} & names


# ---- MySQL in the cluster


def test_mysql_statefulset_with_a_volume_claim_serves_mysql_3306(run):
    mysql = run.k8s("StatefulSet", "mysql")
    assert mysql.get("metadata.namespace") == "mysql"
    [claim] = mysql.get("spec.volumeClaimTemplates")
    assert "storageClassName" not in claim["spec"]  # the cluster's default StorageClass
    assert mysql.get("spec.persistentVolumeClaimRetentionPolicy.whenDeleted") == "Delete"
    [server] = containers(mysql)
    assert server["image"] == "mysql:8.4.11"
    env = env_of(server)
    assert env["MYSQL_DATABASE"] == "usermgmt" and env["MYSQL_USER"] == "dbadmin"
    assert "MYSQL_PASSWORD" not in env and env["MYSQL_PASSWORD_FILE"].endswith("/password")
    # ready only when the server takes TCP connections (the init server has no networking)
    probe = server["readinessProbe"]["exec"]["command"]
    assert probe[:2] == ["mysqladmin", "ping"] and "--protocol=TCP" in probe
    service = [s for s in run.of_type("kubernetes:core/v1:Service")
               if s.get("metadata.name") == "mysql" and s.get("metadata.namespace") == "mysql"]
    assert [p["port"] for p in service[0].get("spec.ports")] == [3306]
    assert service[0].get("spec.selector") == {"app": "mysql"}


def test_user_management_reaches_mysql_as_the_course_expects(run):
    usermgmt = run.k8s("Deployment", "usermgmt-microservice")
    env = env_of(containers(usermgmt)[0])
    assert env["DB_HOSTNAME"] == "mysql" and env["DB_PORT"] == "3306"
    alias = [s for s in run.of_type("kubernetes:core/v1:Service")
             if s.get("metadata.name") == "mysql" and s.get("metadata.namespace") == "canary"]
    assert alias[0].get("spec.externalName") == "mysql.mysql.svc.cluster.local"


def test_the_database_password_is_a_secret_never_plain(run):
    password = run.one("random:index/randomPassword:RandomPassword")
    assert password.inputs["special"] is False
    app_secret = run.k8s("Secret", "mysql-db-password")
    assert app_secret.is_secret("stringData.db-password")
    server_secret = run.k8s("Secret", "mysql-credentials")
    assert server_secret.is_secret("stringData.password")


# ---- tracing, mail, exposure


def test_collector_with_awsxray_receiver_behind_xray_service_and_a_trace_ui(run):
    collector = run.k8s("DaemonSet", "otel-collector")
    config = run.k8s("ConfigMap", "otel-collector-config").inputs["data"]["config.yaml"]
    assert "awsxray:" in config and "otlp_grpc:" in config
    assert "jaeger.xray.svc.cluster.local:4317" in config
    service = run.k8s("Service", "xray-service")
    labels = collector.get("spec.template.metadata.labels")
    assert set(service.get("spec.selector").items()) <= set(labels.items())
    jaeger = run.k8s("Deployment", "jaeger")
    assert containers(jaeger)[0]["image"] == "jaegertracing/jaeger:2.20.0"
    account = run.k8s("ServiceAccount", "otel-collector")
    assert "annotations" not in account.inputs["metadata"]  # no IRSA role
    env = env_of(containers(run.k8s("Deployment", "usermgmt-microservice"))[0])
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "xray-service.xray:2000"


def test_mail_goes_to_mailpit_on_the_apps_fixed_port(run):
    smtp = [s for s in run.of_type("kubernetes:core/v1:Service")
            if s.get("metadata.name") == "smtp-service"][0]
    assert smtp.get("spec.externalName") == "mailpit.mail.svc.cluster.local"
    mailpit = run.k8s("Service", "mailpit")
    assert {(p["port"], p["targetPort"]) for p in mailpit.get("spec.ports")} >= {(587, 1025)}
    policy = run.k8s("NetworkPolicy", "notification").get("spec.egress")
    [rule] = policy
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "mail"}
    assert [p["port"] for p in rule["ports"]] == [1025]  # the pod's port, after DNAT


def test_no_ingress_and_nothing_waits_for_a_load_balancer(run):
    kinds = {r.type for r in run.k8s_objects()}
    assert "kubernetes:networking.k8s.io/v1:Ingress" not in kinds
    assert [s.name for s in run.of_type("kubernetes:core/v1:Service")
            if s.get("spec.type") == "LoadBalancer"] == []
    assert run.outputs["url"] == "http://localhost:8095"
    assert run.outputs["portForward"] == (
        "kubectl -n canary port-forward service/usermgmt-restapp-nodeport-service 8095:8095")
    assert "readiness-gate" not in str(run.k8s("Namespace", "canary").inputs)


def test_user_management_admits_no_outside_peer(run):
    """Reached by port-forward (inside the pod's network namespace): no ingress rule."""
    policy = run.k8s("NetworkPolicy", "usermgmt").get("spec")
    assert policy["ingress"] == [] and "Ingress" in policy["policyTypes"]
    mysql = next(r for r in policy["egress"] if r["ports"][0]["port"] == 3306)
    assert mysql["to"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mysql"}},
        "podSelector": {"matchLabels": {"app": "mysql"}}}]
    server = run.k8s("NetworkPolicy", "mysql").get("spec")
    assert server["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {
        "app": "usermgmt-restapp"}


def test_every_pod_is_hardened(run):
    for workload in run.k8s_objects():
        if not workload.type.startswith("kubernetes:apps/v1:"):
            continue
        pod = workload.get("spec.template.spec")
        assert pod["securityContext"]["runAsNonRoot"] is True, workload.name
        for c in pod["containers"]:
            ctx = c["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, (workload.name, c["name"])
            assert ctx["runAsUser"] >= RUN_AS_UID and ctx["capabilities"] == {"drop": ["ALL"]}
            assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]
            assert "readinessProbe" in c and "livenessProbe" in c, (workload.name, c["name"])
            assert ":" in c["image"] and not c["image"].endswith(":latest")


def memory_requests(run) -> int:
    """Bytes the default stack's pods request (a DaemonSet counts once: one node)."""
    total = 0
    for workload in run.k8s_objects():
        if not workload.type.startswith("kubernetes:apps/v1:"):
            continue
        count = workload.get("spec.replicas", 1)
        pod = workload.get("spec.template.spec")
        total += count * sum(quantity_bytes(c["resources"]["requests"]["memory"])
                             for c in pod["containers"])
    return total


def test_the_default_local_stack_requests_at_most_4_gib(run):
    assert memory_requests(run) <= 4 * GIB
    assert memory_requests(run) == 3872 * 1024 ** 2  # stated in the README


# ---- strategies and weights


def test_lattice_is_refused_with_local_naming_both_keys(program):
    result = program({**LOCAL, "canaryStrategy": "lattice"}, stack="local")
    assert result.error is not None and result.resources == []
    assert "canaryStrategy" in result.error and "target" in result.error


@pytest.mark.parametrize("key,value", [
    ("domainName", "canary.example.com"), ("nodeInstanceType", "m6i.large"),
    ("vpcCidr", "10.1.0.0/16"), ("clusterAdmins", '["arn:aws:iam::123456789012:role/a"]'),
    ("kubernetesVersion", "1.34"), ("dbMultiAz", "true")])
def test_aws_only_keys_are_refused_with_local(program, key, value):
    result = program({**LOCAL, key: value}, stack="local")
    assert result.error is not None and result.resources == []
    assert f"{key}:" in result.error and "target is 'local'" in result.error


def test_aws_only_keys_at_their_default_are_fine(program):
    result = program({**LOCAL, "vpcCidr": "10.0.0.0/16", "dbMultiAz": "false",
                      "nodeDesiredSize": "2"}, stack="local")
    assert result.error is None, result.error


def test_kube_context_is_refused_on_aws(program):
    result = program({"kubeContext": "kind-eks-canary"})
    assert result.error is not None and "kubeContext:" in result.error
    assert "target 'local'" in result.error


def test_istio_on_local_splits_exactly(program):
    result = program({**LOCAL, "canaryStrategy": "istio", "canaryWeight": "10",
                      "notificationReplicas": "4"}, stack="local")
    assert result.error is None, result.error
    route = result.k8s("VirtualService", "notification").get("spec.http.0.route")
    assert [r["weight"] for r in route] == [90, 10]
    assert result.one("kubernetes:helm.sh/v3:Release", "istio-istiod")


def test_weight_change_on_local_touches_only_the_replica_counts(program):
    before = program(LOCAL, stack="local")
    after = program({**LOCAL, "canaryWeight": "75"}, stack="local")
    assert changed(before, after) == {
        "deployment-v1-notification-microservice": ["spec.replicas"],
        "deployment-v2-notification-microservice": ["spec.replicas"],
    }


# ---- one seam


def test_the_app_never_asks_for_the_target_or_reaches_into_a_platform():
    for path in (ROOT / "components/app").glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in modules if m and m.startswith(
            ("components.platform", "components.targets",
             "components.addons.load_balancer_controller"))}, path.name
        assert "target" not in {a.attr for a in ast.walk(tree)
                                if isinstance(a, ast.Attribute)}, path.name


def test_istio_sidecar_policy_never_admits_every_source(program):
    result = program({**LOCAL, "canaryStrategy": "istio"}, stack="local")
    policy = result.k8s("NetworkPolicy", "allow-istio-sidecar").get("spec")
    assert all(rule.get("from") for rule in policy.get("ingress", []))


def test_a_kubeconfig_list_is_refused_with_the_fix(monkeypatch):
    from components.targets.local import kubeconfig_problem
    assert kubeconfig_problem(None) is None
    assert kubeconfig_problem("/home/me/.kube/config") is None
    problem = kubeconfig_problem("/home/me/.kube/a:/home/me/.kube/b")
    assert problem is not None and "kubectl config view --flatten" in problem


def test_promote_and_verify_take_the_forwarded_url(run):
    """`promote` without --url reads the `url` output; on local it is the forwarded address."""
    from canaryctl.outputs import notification_url
    assert notification_url(run.outputs) == "http://localhost:8095/usermgmt/notification-xray"


def test_mail_credentials_are_never_empty(run):
    """JavaMail 1.4.7 with mail.smtp.auth=true refuses to connect when the user or password is
    null (SMTPTransport.protocolConnect), and Spring turns "" into null: placeholders go to a
    Mailpit that asks for no AUTH."""
    from components.targets.local import MAIL_PLACEHOLDER_CREDENTIALS
    secret = run.k8s("Secret", "smtp-credentials").inputs["stringData"]
    assert secret["username"] and secret["password"]
    assert MAIL_PLACEHOLDER_CREDENTIALS == (secret["username"], secret["password"])


def test_mailpit_does_no_reverse_dns(run):
    """Its policy admits no DNS; smtpd.go looks the client up before the greeting otherwise."""
    env = env_of(containers(run.k8s("Deployment", "mailpit"))[0])
    assert env["MP_SMTP_DISABLE_RDNS"] == "true"


def test_a_kubeconfig_with_a_trailing_separator_is_refused():
    from components.targets.local import kubeconfig_problem
    assert kubeconfig_problem("/home/me/.kube/config:") is not None
