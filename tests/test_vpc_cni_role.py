"""The VPC CNI's permissions sit on an IRSA role of `kube-system/aws-node`, not on the nodes.

EKS user guide, "Amazon EKS node IAM role": the CNI permissions belong on the node role only
when no IRSA role is given to the add-on, and it recommends a separate role ("Configure the
Amazon VPC CNI plugin to use IRSA"); the ECR permission it names is
AmazonEC2ContainerRegistryPullOnly. Ordering: nodes never run aws-node without a role that
carries the policy: on a new stack the node group waits for the role and its policy; on an
existing stack the cluster's vpc-cni add-on is pointed at the role only once it exists.
"""

import json
import os

import pytest

from tests import fakes
from tests.harness import run_program

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"


@pytest.fixture(scope="module")
def run():
    from tests.conftest import cached_run
    result = cached_run()
    assert result.error is None, result.error
    return result


def roles(run):
    return run.of_type("aws:iam/role:Role")


def node_role(run):
    return next(r for r in roles(run) if "ec2.amazonaws.com" in r.inputs["assumeRolePolicy"])


def cni_role(run):
    [role] = [r for r in roles(run) if "system:serviceaccount:kube-system:aws-node"
              in r.inputs["assumeRolePolicy"]]
    return role



def test_the_node_role_has_no_cni_policy_and_pulls_only(run):
    node = {a.inputs["policyArn"] for a in run.of_type(ATTACHMENT) if "-node-" in a.name}
    assert node == {"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"}


def test_an_irsa_role_of_aws_node_carries_the_cni_policy(run):
    role = cni_role(run)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    [statement] = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"] == fakes.OIDC_PROVIDER_ARN
    assert statement["Condition"]["StringEquals"] == {
        f"{fakes.OIDC_ISSUER}:sub": "system:serviceaccount:kube-system:aws-node",
        f"{fakes.OIDC_ISSUER}:aud": "sts.amazonaws.com"}
    [attachment] = [a for a in run.of_type(ATTACHMENT) if a.inputs["policyArn"] == CNI_POLICY]
    assert run.depends_on(attachment, role)


def test_the_clusters_vpc_cni_options_name_the_role(run):
    options = run.one("eks:index:Cluster").inputs["vpcCniOptions"]
    role = cni_role(run)
    assert options["serviceAccountRoleArn"] == \
        f"arn:aws:iam::{fakes.ACCOUNT}:role/{role.inputs['name']}"
    assert options["enableNetworkPolicy"] is True


def test_on_a_new_stack_no_node_runs_before_the_role_has_its_policy(run):
    [attachment] = [a for a in run.of_type(ATTACHMENT) if a.inputs["policyArn"] == CNI_POLICY]
    assert run.depends_on(run.one("eks:index:ManagedNodeGroup"), attachment)


def test_on_an_existing_stack_the_addon_is_pointed_at_the_role_once_it_exists():
    """The cluster exists: its OIDC issuer is read from EKS, the role is made first, and the
    cluster (its vpc-cni add-on) waits for the role and its policy. The node role's old CNI
    attachment is deleted only at the end of the update (Pulumi deletes removed resources
    after every create and update)."""
    os.environ["EKS_CANARY_FAKE_EXISTING_CLUSTER"] = "1"
    try:
        run = run_program({})
    finally:
        del os.environ["EKS_CANARY_FAKE_EXISTING_CLUSTER"]
    assert run.error is None, run.error
    [attachment] = [a for a in run.of_type(ATTACHMENT) if a.inputs["policyArn"] == CNI_POLICY]
    cluster = run.one("eks:index:Cluster")
    assert run.depends_on(cluster, attachment)
    role = cni_role(run)
    assert not run.depends_on(role, cluster)  # the trust came from EKS, not the component
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"]["Federated"] == fakes.OIDC_PROVIDER_ARN
    assert cluster.inputs["vpcCniOptions"]["serviceAccountRoleArn"] == \
        f"arn:aws:iam::{fakes.ACCOUNT}:role/{role.inputs['name']}"
