"""Switching `tracing` between the X-Ray daemon and the collector keeps what others select by.

The VPC CNI's network policy controller admits a Service's ClusterIP to an egress peer only
while the Service's selector matches that peer (aws/amazon-network-policy-controller-k8s,
pkg/resolvers/endpoints.go, getMatchingServiceClusterIPs). If `xray-service`'s selector and the
app's egress peer named the backend's own label, a switch would flip the selector at the start
of `pulumi up` and drop segments until the new pods are ready and the app's policy updated. So
both backends carry one shared label for the Service, the app's egress peer and their policy;
each DaemonSet selects its own pods by its own label.
"""

import pytest

from components.addons.tracing import endpoint
from components.course import TRACING_LABELS


@pytest.fixture(scope="module")
def runs():
    from tests.conftest import cached_run
    result = {mode: cached_run({"tracing": mode}) for mode in ("xray-daemon", "otel")}
    for run in result.values():
        assert run.error is None, run.error
    return result


def test_the_service_is_the_same_in_both_modes(runs):
    daemon = runs["xray-daemon"].k8s("Service", "xray-service")
    collector = runs["otel"].k8s("Service", "xray-service")
    assert daemon.urn == collector.urn
    assert daemon.inputs == collector.inputs
    assert daemon.inputs["spec"]["selector"] == TRACING_LABELS


def test_the_apps_egress_policy_to_the_tracing_pods_is_the_same_in_both_modes(runs):
    daemon = runs["xray-daemon"].k8s("NetworkPolicy", "allow-xray-egress")
    collector = runs["otel"].k8s("NetworkPolicy", "allow-xray-egress")
    assert daemon.urn == collector.urn and daemon.inputs == collector.inputs
    peer = daemon.inputs["spec"]["egress"][0]["to"][0]
    assert peer["podSelector"]["matchLabels"] == TRACING_LABELS


@pytest.mark.parametrize(("mode", "name", "own"), [
    ("xray-daemon", "xray-daemon", {"app": "xray-daemon"}),
    ("otel", "otel-collector", {"app": "otel-collector"}),
])
def test_each_backend_keeps_its_own_selector_and_carries_the_shared_label(runs, mode, name, own):
    run = runs[mode]
    daemon_set = run.k8s("DaemonSet", name).inputs["spec"]
    assert daemon_set["selector"]["matchLabels"] == own
    labels = daemon_set["template"]["metadata"]["labels"]
    assert labels.items() >= {**own, **TRACING_LABELS}.items()
    policy = run.k8s("NetworkPolicy", name).inputs["spec"]
    assert policy["podSelector"]["matchLabels"] == TRACING_LABELS


def test_the_endpoint_names_the_shared_label_for_both_modes():
    assert endpoint("otel").pod_labels == endpoint("xray-daemon").pod_labels == TRACING_LABELS


@pytest.mark.parametrize(("mode", "name"), [("xray-daemon", "xray-daemon"),
                                             ("otel", "otel-collector")])
def test_tracing_containers_sleep_before_they_stop(runs, mode, name):
    """No shell in either image: the built-in `sleep` action (GA in Kubernetes 1.34), so
    segments sent while kube-proxy removes the pod's endpoint still arrive."""
    [container] = runs[mode].k8s("DaemonSet", name).inputs["spec"]["template"]["spec"][
        "containers"]
    seconds = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 1 <= seconds < 30  # shorter than the default grace period


def test_the_daemon_image_is_the_scratch_build_from_ecr_public(runs):
    """aws-xray-daemon's release workflow pushes `Dockerfile` (FROM scratch, USER xray = UID
    10001) to public.ecr.aws/xray/aws-xray-daemon and `Dockerfile.amazonlinux` to Docker Hub."""
    [container] = runs["xray-daemon"].k8s("DaemonSet", "xray-daemon").inputs["spec"][
        "template"]["spec"]["containers"]
    assert container["image"] == "public.ecr.aws/xray/aws-xray-daemon:3.6.6"
    assert container["securityContext"]["runAsUser"] == 10001
