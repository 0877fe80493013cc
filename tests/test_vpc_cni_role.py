"""The VPC CNI's ENI permissions: on an IRSA role of kube-system/aws-node, never on the nodes' role.

The EKS user guide ("Configure the Amazon VPC CNI plugin to use IRSA") recommends this because
every pod that reaches a node's instance metadata holds the node role's permissions. The order
matters on both kinds of stack, and is what these tests pin:

- pulumi-eks is told `useDefaultVpcCni`: an add-on made inside its component could only name a
  role that does not exist yet (the role's trust needs the component's OIDC provider, and the
  component's outputs arrive only after every child: pulumi sdk/nodejs/provider/server.ts,
  `construct` awaits `waitForRPCs`). The program makes the add-on itself with pulumi-eks' own
  `VpcCniAddon`, after the role and its policy, under the URN pulumi-eks gave its add-on
  (cluster.ts: `new VpcCniAddon(`${name}-vpc-cni`, ..., {parent})`), so an existing stack's
  add-on is updated in place (UpdateAddon with the role; terraform-provider-aws
  internal/service/eks/addon.go), never deleted and made again.
- UpdateAddon only annotates the `aws-node` ServiceAccount; the pod identity webhook gives a pod
  the role only when the pod is created. So a DaemonSet patch puts the role's ARN in aws-node's
  pod template, which rolls aws-node, and pulumi-kubernetes waits for the rollout (the DaemonSet
  awaiter, kstatus "Current") before the update goes on.
- The managed nodes wait for that patch: on a new stack every aws-node pod starts with the role
  (nodes do not join without CNI permissions: terraform-aws-eks `iam_role_attach_cni_policy`).
- The node role's old `AmazonEKS_CNI_Policy` attachment is no longer in the program, so on an
  existing stack Pulumi deletes it after every create and update has finished
  (pkg/resource/deploy/deployment_executor.go, `performPostSteps`), and not at all when the
  rollout failed: the nodes keep their permissions until aws-node runs with the role.
"""

import json

import pytest

from components.platform.vpc_cni import CNI_NAMESPACE, CNI_SERVICE_ACCOUNT, ROLE_ANNOTATION
from tests.fakes import ACCOUNT, OIDC_ISSUER, OIDC_PROVIDER_ARN

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"


@pytest.fixture(scope="module")
def run():
    from tests.conftest import cached_run
    result = cached_run()
    assert result.error is None, result.error
    return result


def cni_role(run):
    [role] = [r for r in run.of_type("aws:iam/role:Role")
              if f"system:serviceaccount:{CNI_NAMESPACE}:{CNI_SERVICE_ACCOUNT}"
              in r.inputs["assumeRolePolicy"]]
    return role


def vpc_cni(run):
    return run.one("eks:index:VpcCniAddon")


def aws_node_patch(run):
    return run.one("kubernetes:apps/v1:DaemonSetPatch")


def test_the_node_role_has_no_cni_policy_and_pulls_only(run):
    node = {a.inputs["policyArn"] for a in run.of_type(ATTACHMENT) if "-node-" in a.name}
    assert node == {"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"}


def test_an_irsa_role_trusts_aws_node_only_and_holds_the_cni_policy(run):
    role = cni_role(run)
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": OIDC_PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{OIDC_ISSUER}:sub": "system:serviceaccount:kube-system:aws-node",
        f"{OIDC_ISSUER}:aud": "sts.amazonaws.com"}}
    held = [a for a in run.of_type(ATTACHMENT) if a.inputs["policyArn"] == CNI_POLICY]
    assert [run.by_urn(a.property_dependencies["role"][0]) for a in held] == [role]


def test_pulumi_eks_makes_no_vpc_cni_add_on_of_its_own(run):
    inputs = run.one("eks:index:Cluster").inputs
    assert inputs.get("useDefaultVpcCni") is True
    assert "vpcCniOptions" not in inputs  # "should not be used in conjunction" (its docs)


def test_the_vpc_cni_add_on_names_the_role_after_the_role_has_its_policy(run):
    addon, role = vpc_cni(run), cni_role(run)
    assert addon.inputs["serviceAccountRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{role.name}"
    assert addon.property_dependencies["serviceAccountRoleArn"] == [role.urn]
    [held] = [a for a in run.of_type(ATTACHMENT) if a.inputs["policyArn"] == CNI_POLICY]
    assert run.depends_on(addon, held)
    assert addon.inputs["enableNetworkPolicy"] is True


def test_the_add_on_keeps_the_urn_and_inputs_pulumi_eks_gave_it(run):
    """An existing stack's add-on is the same resource: updated, not deleted and made again.
    The engine derives a URN from the parent's URN, the type and the name (the mocks keep only
    the parent's last type), so the same three give the URN pulumi-eks gave it."""
    addon, cluster = vpc_cni(run), run.one("eks:index:Cluster")
    assert (addon.parent, addon.type, addon.name) == (
        cluster.urn, "eks:index:VpcCniAddon", f"{cluster.name}-vpc-cni")
    assert addon.inputs["clusterName"] == cluster.inputs["name"]
    assert addon.inputs["clusterVersion"] == cluster.inputs["version"]
    assert addon.inputs["tags"] == cluster.inputs["tags"]
    assert addon.options["remote"] is True


def test_aws_node_rolls_with_the_role_before_the_nodes_come(run):
    patch, role, addon = aws_node_patch(run), cni_role(run), vpc_cni(run)
    assert patch.get("metadata.name") == "aws-node"
    assert patch.get("metadata.namespace") == "kube-system"
    annotations = patch.get("spec.template.metadata.annotations")
    assert annotations == {ROLE_ANNOTATION: f"arn:aws:iam::{ACCOUNT}:role/{role.name}"}
    assert patch.get("spec.template.spec") is None  # nothing else of EKS's DaemonSet is taken
    assert run.depends_on(patch, role)
    assert run.depends_on(patch, addon)
    assert run.depends_on(run.one("eks:index:ManagedNodeGroup"), patch)


def test_the_patch_waits_long_enough_and_is_left_on_destroy(run):
    """aws-node rolls one node at a time (its maxUnavailable); the default wait is 10 minutes.
    On destroy the nodes go first; relinquishing the field would only roll aws-node again."""
    patch = aws_node_patch(run)
    assert patch.options["retainOnDelete"] is True
    timeouts = patch.options["customTimeouts"]
    assert timeouts.get("create") == timeouts.get("update") == "30m"


def test_local_target_has_no_vpc_cni(program):
    result = program({"target": "local"})
    assert result.error is None, result.error
    assert result.of_type("eks:index:VpcCniAddon") == []
    assert result.of_type("kubernetes:apps/v1:DaemonSetPatch") == []
