"""The live test's port-forward and leftover checks, on stand-ins: the kubectl command built
from the `portForward` output, a port-forward that fails, the local cluster check through
kubectl's JSON, and the AWS check through boto3 clients whose calls botocore's Stubber checks
against the service models (Resource Groups Tagging API, EC2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.live.leftovers import AwsLeftovers, LocalLeftovers, arn_resource, pulumi_made
from tests.live.lifecycle import LifeCycleError, Record
from tests.live.reach import forward_command, port_forward
from tests.util import fake_pulumi_path, write_fake_pulumi_state

FAKE_KUBECTL_DIR = Path(__file__).resolve().parent / "fake_kubectl"
SERVICE = "service/usermgmt-restapp-nodeport-service"


@pytest.mark.parametrize("spec", ["8095:8095", "8095", ":8095"])
def test_the_forward_runs_on_the_given_local_port_on_127_0_0_1(spec: str) -> None:
    argv = forward_command(f"kubectl --context kind-canary -n canary port-forward {SERVICE} "
                           f"{spec}", 40123)
    assert argv == ["kubectl", "--context", "kind-canary", "-n", "canary", "port-forward",
                    "--address", "127.0.0.1", SERVICE, "40123:8095"]


def test_an_address_in_the_output_is_kept() -> None:
    argv = forward_command(f"kubectl -n canary port-forward --address 0.0.0.0 {SERVICE} "
                           "8095:8095", 40123)
    assert argv[4:] == ["--address", "0.0.0.0", SERVICE, "40123:8095"]


@pytest.mark.parametrize("command", ["kubectl get pods", f"kubectl port-forward {SERVICE}"])
def test_a_port_forward_output_that_is_not_one_is_refused(command: str) -> None:
    with pytest.raises(LifeCycleError, match="port"):
        forward_command(command, 40123)


def test_a_port_forward_that_exits_fails_with_its_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_pulumi_path(FAKE_KUBECTL_DIR))
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(tmp_path / "kubectl.log"))
    monkeypatch.setenv("FAKE_KUBECTL_FAIL", 'error: services "x" not found')
    outputs = {"url": "http://localhost:8095",
               "portForward": f"kubectl -n canary port-forward {SERVICE} 8095:8095"}
    with pytest.raises(LifeCycleError, match=r'exited with 1: error: services "x" not found'):
        with port_forward(outputs, ready_s=20):
            pass


# ----------------------------------------------------------------------------- local


def ns(name: str, phase: str = "Active") -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name}, "status": {"phase": phase}}


def made(kind: str, name: str, manager: str = "pulumi-kubernetes-1a2b3c") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "managedFields": [{"manager": manager}]}}


class FakeCluster:
    """kubectl's answers by argv; ``phases`` replaces the objects at each poll (sleep)."""

    def __init__(self, phases: list[dict[str, list[dict[str, Any]]]]) -> None:
        self.phases, self.sleeps = phases, 0
        self.calls: list[list[str]] = []

    def kubectl(self, args: list[str]) -> str:
        self.calls.append(args)
        assert args[:2] == ["--context", "kind-canary"]
        if args[2] == "api-resources":
            return "namespaces\npersistentvolumes\nclusterroles\ncustomresourcedefinitions\n"
        objects = self.phases[min(self.sleeps, len(self.phases) - 1)]
        return json.dumps({"kind": "List", "items": objects.get(args[3], [])})

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1


BEFORE = {"namespaces": [ns("default")],
          "clusterroles": [made("ClusterRole", "other-stack-role")]}
LEFT = {"namespaces": [ns("default"), ns("mysql", "Terminating")],
        "persistentvolumeclaims": [{"metadata": {"namespace": "mysql", "name": "data-mysql-0"}}],
        "persistentvolumes": [{"metadata": {"name": "pvc-1"},
                               "spec": {"claimRef": {"namespace": "mysql",
                                                     "name": "data-mysql-0"}}}],
        "clusterroles": [made("ClusterRole", "other-stack-role"),
                         made("ClusterRole", "canary-reader")],
        "customresourcedefinitions": [made("CustomResourceDefinition",
                                           "virtualservices.networking.istio.io", "helm")]}


def local_check(cluster: FakeCluster, lines: list[str]) -> LocalLeftovers:
    return LocalLeftovers("kind-canary", ["canary", "xray", "mysql"], kubectl=cluster.kubectl,
                          wait_s=60, poll_s=5, log=lines.append, sleep=cluster.sleep,
                          monotonic=lambda: 5.0 * cluster.sleeps)


def test_local_check_waits_for_terminating_objects_to_go() -> None:
    cluster, lines = FakeCluster([BEFORE, LEFT, LEFT, BEFORE]), list[str]()
    check = local_check(cluster, lines)
    check.before("s")
    cluster.sleeps = 1  # the life cycle ran
    assert check.after("s", Record("s")).objects == []
    assert cluster.sleeps == 3 and "waiting for 5 object(s) to go" in lines[0]


def test_local_check_reports_what_is_left_at_its_deadline() -> None:
    cluster, lines = FakeCluster([BEFORE, LEFT]), list[str]()
    check = local_check(cluster, lines)
    check.before("s")
    cluster.sleeps = 1
    assert check.after("s", Record("s")).objects == [
        "Namespace mysql (Terminating)", "PersistentVolumeClaim mysql/data-mysql-0",
        "PersistentVolume pvc-1 (claim mysql/data-mysql-0)", "ClusterRole canary-reader",
        "CustomResourceDefinition virtualservices.networking.istio.io"]


def test_local_check_refuses_a_cluster_with_the_stacks_namespaces() -> None:
    check = local_check(FakeCluster([{"namespaces": [ns("xray")]}]), [])
    with pytest.raises(LifeCycleError, match="namespace.s. xray already exist"):
        check.before("s")


def test_what_pulumi_made() -> None:
    assert pulumi_made({"metadata": {"name": "a", "labels": {
        "app.kubernetes.io/managed-by": "pulumi"}}})  # client-side apply
    assert pulumi_made(made("ClusterRole", "a"))  # server-side apply's field manager
    assert pulumi_made(made("ValidatingWebhookConfiguration", "istio-validator", "helm"))
    assert not pulumi_made(made("ClusterRole", "system:view", "kube-apiserver"))


# ----------------------------------------------------------------------------- AWS

ACCOUNT, REGION = "123456789012", "us-east-1"
NAT = f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/nat-0123456789abcdef0"
INSTANCE = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
VPC = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0123456789abcdef0"
SNAPSHOT = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:eks-canary-s-usermgmtdb-final-0a1b2c3d"
FILTERS = [{"Key": "Project", "Values": ["eks-canary"]}, {"Key": "Stack", "Values": ["s"]}]


def test_arn_resource() -> None:
    assert arn_resource(NAT) == ("ec2", "natgateway", "nat-0123456789abcdef0")
    assert arn_resource(SNAPSHOT) == ("rds", "snapshot", "eks-canary-s-usermgmtdb-final-0a1b2c3d")


def aws_world() -> tuple[Any, Any, dict[str, Any]]:
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber

    clients = {name: boto3.client(name, region_name=REGION, aws_access_key_id="x",
                                  aws_secret_access_key="x")
               for name in ("resourcegroupstaggingapi", "ec2")}
    return (Stubber(clients["resourcegroupstaggingapi"]), Stubber(clients["ec2"]), clients)


def page(arns: list[str], token: str = "") -> dict[str, Any]:
    return {"ResourceTagMappingList": [{"ResourceARN": a, "Tags": [
        {"Key": "Stack", "Value": "s"}]} for a in arns], "PaginationToken": token}


def test_aws_check_pages_waits_for_lingering_arns_and_lists_snapshots() -> None:
    tagging, ec2, clients = aws_world()
    # poll 1: two pages; the VPC still listed, the NAT gateway deleted, the instance gone
    tagging.add_response("get_resources", page([VPC, NAT], "next"), {"TagFilters": FILTERS})
    tagging.add_response("get_resources", page([INSTANCE, SNAPSHOT]),
                         {"TagFilters": FILTERS, "PaginationToken": "next"})
    ec2.add_client_error("describe_instances", service_error_code="InvalidInstanceID.NotFound",
                         expected_params={"InstanceIds": ["i-0123456789abcdef0"]})
    ec2.add_response("describe_nat_gateways", {"NatGateways": [
        {"NatGatewayId": "nat-0123456789abcdef0", "State": "deleted"}]},
        {"NatGatewayIds": ["nat-0123456789abcdef0"]})
    # poll 2: only the snapshot
    tagging.add_response("get_resources", page([SNAPSHOT]), {"TagFilters": FILTERS})
    lines: list[str] = []
    sleeps: list[float] = []
    check = AwsLeftovers(REGION, client=clients.__getitem__, wait_s=600, poll_s=30,
                         log=lines.append, sleep=sleeps.append, monotonic=lambda: 0.0)
    record = Record("s", outputs=[{"databaseFinalSnapshot": "eks-canary-s-usermgmtdb-final-9"}])
    with tagging, ec2:
        left = check.after("s", record)
        tagging.assert_no_pending_responses()
        ec2.assert_no_pending_responses()
    assert left.objects == [] and sleeps == [30]
    assert "still lists 1 resource(s), e.g. " + VPC in lines[0]
    assert [k.split(":")[0] for k in left.kept] == [
        "final DB snapshot eks-canary-s-usermgmtdb-final-0a1b2c3d",
        "final DB snapshot eks-canary-s-usermgmtdb-final-9"]
    assert "aws rds delete-db-snapshot --region us-east-1 --db-snapshot-identifier" in left.kept[0]
    assert "/aws/eks/eks-canary-s/cluster" in left.notes[0]


def test_aws_check_reports_what_is_still_listed_at_its_deadline() -> None:
    tagging, _, clients = aws_world()
    tagging.add_response("get_resources", page([VPC]), {"TagFilters": FILTERS})
    check = AwsLeftovers(REGION, client=clients.__getitem__, wait_s=0, log=lambda _: None,
                         monotonic=iter([0.0, 1.0]).__next__)
    with tagging:
        assert check.after("s", Record("s")).objects == [VPC]


def test_the_live_test_wiring_for_aws() -> None:
    """tests/live/test_live.py's set-up for aws: the region from the environment, the public
    url, the tagging-API check (nothing runs here)."""
    pytest.importorskip("boto3")
    from tests.live import test_live
    from tests.live.reach import public_url

    plan, runners = test_live.live_setup({"EKS_CANARY_LIVE": "aws", "AWS_REGION": "eu-west-1",
                                          "EKS_CANARY_LIVE_STRATEGY": "istio"})
    assert plan.config == {"target": "aws", "canaryWeight": "50", "canaryStrategy": "istio",
                           "aws:region": "eu-west-1"}
    assert plan.stack.startswith("live-aws-") and plan.requests == 200 and plan.bake == 30
    assert runners.reach is public_url
    assert isinstance(runners.leftovers, AwsLeftovers) and runners.leftovers.region == "eu-west-1"


def test_aws_without_a_region_is_skipped_with_the_reason() -> None:
    from tests.live import test_live

    with pytest.raises(pytest.skip.Exception, match="EKS_CANARY_LIVE_REGION or AWS_REGION"):
        test_live.live_setup({"EKS_CANARY_LIVE": "aws"})


def test_the_public_url_is_used_once_it_answers(tmp_path: Path) -> None:
    from tests.live.reach import public_url
    from tests.loopback_app import LoopbackApp

    state = tmp_path / "state.json"
    write_fake_pulumi_state(state, {"dev": {"outputs": {"trafficSplit": {"effectiveWeight": 0}}}})
    app = LoopbackApp(state).start()
    try:
        with public_url({"url": app.base_url}, ready_s=5) as base:
            assert base == app.base_url
    finally:
        app.stop()
    with pytest.raises(LifeCycleError, match="not an http"):
        with public_url({"url": "(pending: the load balancer)"}):
            pass
