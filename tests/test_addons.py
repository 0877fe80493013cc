"""Cluster add-ons under mocks: charts, pins, values, IRSA trust and the scope of each policy."""

import hashlib
import json
from pathlib import Path

import pytest

from components.addons import external_dns, load_balancer_controller
from components.platform.service_account_role import trust_policy
from tests import fakes
from tests.util import DOMAIN

RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"


@pytest.fixture
def run(program):
    result = program(DOMAIN)
    assert result.error is None, result.error
    return result


def role_for(run, namespace: str, service_account: str):
    """The one role whose trust names exactly this service account."""
    subject = f"system:serviceaccount:{namespace}:{service_account}"
    roles = [r for r in run.of_type(ROLE)
             if subject in json.dumps(json.loads(r.inputs["assumeRolePolicy"]))]
    assert len(roles) == 1, f"{len(roles)} roles trust {subject}"
    return roles[0]


def policy_of(run, role):
    """The customer policy attached to a role (through its component)."""
    policies = [p for p in run.of_type("aws:iam/policy:Policy") if p.parent == role.parent]
    assert len(policies) == 1
    return json.loads(policies[0].inputs["policy"])


def attached_managed(run, role) -> set[str]:
    return {a.inputs["policyArn"] for a in
            run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.parent == role.parent and a.inputs["policyArn"].startswith("arn:aws:iam::aws:")}


def test_trust_policy_pins_subject_and_audience():
    doc = trust_policy("arn:aws:iam::1:oidc-provider/oidc.x/id/A", "oidc.x/id/A", "ns", "sa")
    statement = doc["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": "arn:aws:iam::1:oidc-provider/oidc.x/id/A"}
    assert statement["Condition"] == {"StringEquals": {
        "oidc.x/id/A:sub": "system:serviceaccount:ns:sa", "oidc.x/id/A:aud": "sts.amazonaws.com"}}


def test_every_role_trusts_exactly_one_service_account(run):
    for role in run.of_type(ROLE):
        trust = json.loads(role.inputs["assumeRolePolicy"])
        [statement] = trust["Statement"]
        if statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        assert statement["Principal"]["Federated"] == fakes.OIDC_PROVIDER_ARN
        conditions = statement["Condition"]["StringEquals"]
        assert conditions[f"{fakes.OIDC_ISSUER}:aud"] == "sts.amazonaws.com"
        subject = conditions[f"{fakes.OIDC_ISSUER}:sub"]
        assert subject.startswith("system:serviceaccount:") and "*" not in subject
        assert "StringLike" not in statement["Condition"]


def test_load_balancer_controller_release(run):
    release = run.one(RELEASE, "aws-load-balancer-controller")
    inputs = release.inputs
    assert inputs["chart"] == "aws-load-balancer-controller"
    assert inputs["version"] == "3.5.0"
    assert inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    assert inputs["namespace"] == "kube-system"
    values = inputs["values"]
    assert values["clusterName"] == "eks-canary-dev"
    assert values["region"] == "us-east-1"
    assert values["vpcId"] == "vpc-network-vpc"
    assert values["keepTLSSecret"] is True and values["replicaCount"] == 2
    # chart 3.5.0 templates/pdb.yaml renders a PodDisruptionBudget only when this is set (and
    # replicaCount > 1): a node drain then evicts one controller pod at a time
    assert values["podDisruptionBudget"] == {"maxUnavailable": 1}
    role = role_for(run, "kube-system", "aws-load-balancer-controller")
    assert values["serviceAccount"] == {
        "create": True, "name": "aws-load-balancer-controller",
        "annotations": {"eks.amazonaws.com/role-arn": fakes_role_arn(role)}}
    assert release.provider.startswith(run.one("pulumi:providers:kubernetes").urn)


def fakes_role_arn(role) -> str:
    return f"arn:aws:iam::{fakes.ACCOUNT}:role/{role.name}"


def test_load_balancer_controller_policy_is_the_official_one(run):
    raw = Path(load_balancer_controller.POLICY_FILE).read_bytes()
    # byte for byte docs/install/iam_policy.json of kubernetes-sigs/aws-load-balancer-controller
    # at tag v3.5.0 (commit 11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4)
    assert hashlib.sha256(raw).hexdigest() == \
        "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a"
    assert load_balancer_controller.POLICY_FILE.name == \
        "aws-load-balancer-controller-v3.5.0-iam_policy.json"
    official = json.loads(raw)
    role = role_for(run, "kube-system", "aws-load-balancer-controller")
    policy = policy_of(run, role)
    assert policy == official
    actions = {a for s in policy["Statement"] for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"elasticloadbalancing:CreateLoadBalancer", "ec2:CreateSecurityGroup",
            "elasticloadbalancing:DeleteLoadBalancer"} <= actions
    conditions = json.dumps([s.get("Condition") for s in policy["Statement"]])
    assert "elbv2.k8s.aws/cluster" in conditions


def test_release_waits_for_nodes_and_role_policy(run):
    release = run.one(RELEASE, "aws-load-balancer-controller")
    node_group = run.one("eks:index:ManagedNodeGroup")
    assert run.depends_on(release, node_group)
    role = role_for(run, "kube-system", "aws-load-balancer-controller")
    attachment = next(a for a in run.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.parent == role.parent)
    assert run.depends_on(release, attachment)
    assert release.inputs.get("skipAwait") in (False, None)


def test_external_dns_release(run):
    release = run.one(RELEASE, "external-dns")
    inputs = release.inputs
    assert inputs["chart"] == "external-dns" and inputs["version"] == "1.21.1"
    assert inputs["repositoryOpts"]["repo"] == "https://kubernetes-sigs.github.io/external-dns/"
    values = inputs["values"]
    assert values["provider"] == {"name": "aws"}
    assert values["policy"] == "sync"
    assert set(values["sources"]) == {"service", "ingress"}
    assert values["domainFilters"] == ["example.com"]
    assert values["registry"] == "txt" and values["txtOwnerId"] == "eks-canary-dev"
    assert values["triggerLoopOnEvent"] is True
    assert f"--zone-id-filter={fakes.HOSTED_ZONE_ID}" in values["extraArgs"]
    role = role_for(run, "kube-system", "external-dns")
    assert values["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": fakes_role_arn(role)}


def test_external_dns_may_change_records_only_in_its_zone(run):
    role = role_for(run, "kube-system", "external-dns")
    policy = policy_of(run, role)
    assert policy == external_dns.route53_policy(fakes.HOSTED_ZONE_ARN)
    for statement in policy["Statement"]:
        if "route53:ChangeResourceRecordSets" in statement["Action"]:
            assert statement["Resource"] == [fakes.HOSTED_ZONE_ARN]
        else:
            assert statement["Action"] == ["route53:ListHostedZones"]
    assert "hostedzone/*" not in json.dumps(policy)


def test_no_external_dns_without_a_domain(program):
    run = program()
    assert [r for r in run.of_type(RELEASE) if r.name == "external-dns"] == []
    assert not any("external-dns" in r.name for r in run.of_type(ROLE))


def test_xray_daemon(run):
    daemonset = run.k8s("DaemonSet", "xray-daemon")
    container = daemonset.get("spec.template.spec.containers.0")
    image, tag = container["image"].rsplit(":", 1)
    assert image == "public.ecr.aws/xray/aws-xray-daemon"
    assert tag.startswith("3.") and tag.count(".") == 2
    udp = [p for p in container["ports"] if p["protocol"] == "UDP"]
    assert udp and udp[0]["containerPort"] == 2000
    assert container["resources"]["requests"] and container["resources"]["limits"]
    service = run.k8s("Service", "xray-service")
    assert {(p["port"], p["protocol"]) for p in service.get("spec.ports")} == {
        (2000, "UDP"), (2000, "TCP")}
    namespace = daemonset.get("metadata.namespace")
    labels = run.k8s("Namespace", namespace).get("metadata.labels")
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    account = run.k8s("ServiceAccount", "xray-daemon")
    role = role_for(run, namespace, "xray-daemon")
    assert account.get("metadata.annotations")["eks.amazonaws.com/role-arn"] == \
        fakes_role_arn(role)
    assert attached_managed(run, role) == {
        "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"}
    assert run.outputs["xrayDaemonAddress"] == f"xray-service.{namespace}:2000"


def test_xray_daemonset_waits_for_its_service_account(run):
    # the pods must find the role annotation (IRSA) when they are created, or they run
    # without AWS credentials
    daemonset = run.k8s("DaemonSet", "xray-daemon")
    account = run.k8s("ServiceAccount", "xray-daemon")
    assert account.urn in daemonset.dependencies


def test_every_kubernetes_object_uses_the_cluster_provider(run):
    provider = run.one("pulumi:providers:kubernetes")
    k8s_resources = [r for r in run.resources
                     if r.custom and r.type.startswith("kubernetes:")]
    assert len(k8s_resources) > 5
    for resource in k8s_resources:
        assert resource.provider.startswith(provider.urn + "::"), resource.name
        assert "default" not in resource.provider.split("::")[-2]


def test_helm_chart_is_a_repository_chart_or_an_oci_reference():
    from components.addons.addon import HelmChart
    HelmChart("external-dns", "1.21.1", "https://kubernetes-sigs.github.io/external-dns/")
    HelmChart("oci://public.ecr.aws/example/chart", "v1.0.0")
    with pytest.raises(ValueError, match="oci://"):
        HelmChart("external-dns", "1.21.1")  # a chart name needs its repository
    with pytest.raises(ValueError, match="oci://"):
        HelmChart("oci://public.ecr.aws/example/chart", "v1.0.0", "https://example.com")
