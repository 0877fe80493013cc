"""AWS partitions: every AWS-owned ARN the program writes comes from the region's partition.

The region decides the partition (cn-* -> aws-cn, us-gov-* -> aws-us-gov, else aws), so both
`pulumi up` and `canaryctl render` (which runs without AWS) build the same ARNs. The load
balancer controller's own policy files per partition are kept as data.
"""

import hashlib
import json

import pytest

from components.addons import load_balancer_controller as lbc
from components.config import parse_config
from components.config_rules import ConfigError
from components.partition import partition_of
from tests.util import DOMAIN

CHINA = {"aws:region": "cn-north-1"}


def strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def arns(run, prefix: str) -> list[tuple[str, str]]:
    return [(r.name, s) for r in run.resources for s in strings(r.inputs) if prefix in s]


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_the_region_decides_the_partition(region, partition):
    assert partition_of(region) == partition


@pytest.mark.parametrize("config", [CHINA, {**CHINA, **DOMAIN},
                                    {**CHINA, "tracing": "otel"}])
def test_a_china_stack_registers_no_commercial_arn(program, config):
    run = program(config)
    assert run.error is None, run.error
    assert not arns(run, "arn:aws:"), arns(run, "arn:aws:")[:5]
    node_policies = {r.inputs["policyArn"] for r in run.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert "arn:aws-cn:iam::aws:policy/AmazonEKSWorkerNodePolicy" in node_policies
    assert "arn:aws-cn:iam::aws:policy/AWSXRayDaemonWriteAccess" in node_policies


def test_a_commercial_stack_uses_the_aws_partition(program):
    run = program({"clusterAdmins": json.dumps(["arn:aws:iam::123456789012:role/admin"])})
    assert run.error is None, run.error
    assert not arns(run, "arn:aws-cn:") and not arns(run, "arn:aws-us-gov:")
    cluster = run.one("eks:index:Cluster").inputs
    [entry] = cluster["accessEntries"].values()
    assert entry["accessPolicies"]["cluster-admin"]["policyArn"] == \
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def test_china_cluster_admins_get_the_china_admin_policy(program):
    run = program({**CHINA, "clusterAdmins": json.dumps(["arn:aws-cn:iam::123456789012:role/a"])})
    assert run.error is None, run.error
    [entry] = run.one("eks:index:Cluster").inputs["accessEntries"].values()
    assert entry["accessPolicies"]["cluster-admin"]["policyArn"] == \
        "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@pytest.mark.parametrize(("partition", "name", "digest"), [
    ("aws", "iam_policy.json",
     "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a"),
    ("aws-cn", "iam_policy_cn.json",
     "b1ac7c188d27a2cdb3095c7efd8376cd21705fe75d6ce91715558a85987b25bc"),
    ("aws-us-gov", "iam_policy_us-gov.json",
     "eff0caf0b8f205e63e09ee1ea37a90fba6a87a417ac40fc83da50b204a55f372"),
])
def test_the_load_balancer_controller_policy_is_its_own_file_per_partition(partition, name,
                                                                          digest):
    """Byte for byte kubernetes-sigs/aws-load-balancer-controller docs/install/<name> at tag
    v3.5.0; the China and GovCloud files differ in more than the ARNs' partition."""
    path = lbc.policy_file(partition)
    assert path.name == f"aws-load-balancer-controller-v3.5.0-{name}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_the_china_stack_gives_the_controller_the_china_file(program):
    run = program(CHINA)
    policy = next(r for r in run.of_type("aws:iam/policy:Policy")
                  if "load-balancer" in r.name)
    assert json.loads(policy.inputs["policy"]) == json.loads(
        lbc.policy_file("aws-cn").read_text())


@pytest.mark.parametrize(("key", "value"), [
    ("clusterAdmins", json.dumps(["arn:aws:iam::123456789012:role/admin"])),
    ("certificateArn", "arn:aws:acm:cn-north-1:123456789012:certificate/"
                       "11111111-2222-3333-4444-555555555555"),
])
def test_an_arn_of_another_partition_is_refused(key, value):
    raw = {key: value, **({"domainName": "canary.example.cn"} if key == "certificateArn" else {})}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, project="eks-canary", stack="dev", region="cn-north-1",
                     to_secret=lambda v: v)
    [message] = [p for p in caught.value.problems if "aws-cn" in p]
    assert "partition" in message


def test_canaryctl_render_of_a_china_stack_writes_no_commercial_arn():
    """render runs without AWS: the partition comes from the region in the config."""
    from canaryctl.render import load, render_objects
    cfg = load("dev", {"aws:region": "cn-north-1", **DOMAIN})
    assert cfg.partition == "aws-cn"
    text = json.dumps(render_objects(cfg))
    assert "arn:aws:" not in text and "arn:aws-cn:" in text
