"""canaryStrategy=lattice: readiness gates, a route that is replaced when its Lattice service's
name changes, the route's wait, and the controller's policy without access-log permissions."""

import json

import pytest

from components.addons import gateway_api_controller
from components.app import routing_lattice
from tests.test_addons import policy_of, role_for

LATTICE = {"canaryStrategy": "lattice"}
GATE_LABEL = "application-networking.k8s.aws/pod-readiness-gate-inject"


@pytest.fixture
def run(program):
    result = program({**LATTICE, "canaryWeight": "10"})
    assert result.error is None, result.error
    return result


def route(run):
    [found] = [r for r in run.k8s_objects() if r.inputs["kind"] == "HTTPRoute"]
    return found


def test_the_app_namespace_injects_lattice_readiness_gates(run):
    """The controller's webhook (chart v2.1.3 templates/webhook.yaml, namespaceSelector on this
    label) adds a gate to each new pod; the pod is ready once its Lattice target is healthy."""
    labels = run.k8s("Namespace", "canary").inputs["metadata"]["labels"]
    assert labels[GATE_LABEL] == "enabled"


def test_other_strategies_have_no_lattice_gate(program):
    run = program()
    assert GATE_LABEL not in run.k8s("Namespace", "canary").inputs["metadata"]["labels"]


def test_no_pod_of_the_namespace_is_made_before_the_controller_runs(run):
    """The webhook's failurePolicy is Fail: a pod created in the labelled namespace while the
    controller is down is refused. Every workload there waits for the controller's release
    (and is deleted before it)."""
    controller = run.one("kubernetes:helm.sh/v3:Release", "gateway-api-controller")
    workloads = [r for r in run.k8s_objects() if r.inputs["kind"] in ("Deployment", "Namespace")
                 and (r.get("metadata.namespace") == "canary"
                      or r.get("metadata.name") == "canary")]
    assert len(workloads) >= 4
    for workload in workloads:
        assert run.depends_on(workload, controller), workload.name


def test_the_route_is_replaced_when_its_service_name_changes(run):
    """The controller would otherwise make a second Lattice service and keep the first, and the
    service network could no longer be deleted: delete the old route, then create the new."""
    options = route(run).options
    assert options["replaceOnChanges"] == [
        f'metadata.annotations["{routing_lattice.SERVICE_NAME_ANNOTATION}"]']
    assert options["deleteBeforeReplace"] is True


def test_the_route_wait_is_set_explicitly(run):
    annotations = route(run).inputs["metadata"]["annotations"]
    assert annotations["pulumi.com/timeoutSeconds"] == str(routing_lattice.ROUTE_WAIT_SECONDS)


def test_the_controller_policy_leaves_out_access_log_permissions(run):
    """Only VPC Lattice's CreateAccessLogSubscription, called for an AccessLogPolicy, needs
    them (docs/api-types/access-log-policy.md); the program makes no AccessLogPolicy."""
    policy = policy_of(run, role_for(run, "aws-application-networking-system",
                                     "gateway-api-controller"))
    actions = {a for s in policy["Statement"] for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in actions if a.split(":")[0] in ("s3", "logs", "firehose")}
    assert "vpc-lattice:*" in actions and "acm:ListCertificates" in actions
    assert "delivery.logs.amazonaws.com" not in json.dumps(policy)
    # what was left out is exactly the vendored file's access-log part
    vendored = json.loads(gateway_api_controller.POLICY_FILE.read_text())
    vendored_actions = {a for s in vendored["Statement"] for a in
                        ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert vendored_actions - actions == set(gateway_api_controller.ACCESS_LOG_ACTIONS)
