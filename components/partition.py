"""AWS partitions: which one a region is in, and AWS-owned ARNs built in it.

Core: pure. The region in the stack config decides the partition, so `pulumi up` and
`canaryctl render` (which runs without AWS) agree; it is what `aws.get_partition()` answers for a
provider in that region (AWS General Reference, "Amazon Resource Names": `aws`, `aws-cn` for the
China regions, `aws-us-gov` for AWS GovCloud (US)).
"""

from __future__ import annotations

import re

PARTITIONS = {"cn-": "aws-cn", "us-gov-": "aws-us-gov"}
COMMERCIAL = "aws"
_ARN = re.compile(r"\barn:aws:")


def partition_of(region: str) -> str:
    """The partition of a region name: aws-cn for cn-*, aws-us-gov for us-gov-*, else aws."""
    for prefix, partition in PARTITIONS.items():
        if region.startswith(prefix):
            return partition
    return COMMERCIAL


def managed_policy_arn(partition: str, name: str) -> str:
    """An AWS managed IAM policy, e.g. AmazonEKSWorkerNodePolicy."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def eks_access_policy_arn(partition: str, name: str) -> str:
    """An EKS access policy, e.g. AmazonEKSClusterAdminPolicy."""
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"


def in_partition(text: str, partition: str) -> str:
    """`text` (an ARN, or a policy document) with every commercial `arn:aws:` moved to
    `partition`; for documents AWS publishes for the commercial partition only."""
    return _ARN.sub(f"arn:{partition}:", text)


def arn_partition(arn: str) -> str | None:
    """The partition an ARN names, or None for a string that is no ARN."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" else None
