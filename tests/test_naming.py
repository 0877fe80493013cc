"""AWS names derived from the stack name: always valid, and distinct per stack.

Rules (AWS docs): RDS DB instance identifier 1-63 letters, digits and hyphens, first a letter,
no '--', not ending in '-' (RDS User Guide, "Naming constraints"); DB snapshot identifier the
same rules (we keep it within 63 too); ALB name <= 32 letters, digits and hyphens, not starting
or ending with '-' (ELB CreateLoadBalancer API); EKS cluster name <= 100,
`[0-9A-Za-z][A-Za-z0-9-_]*`
(EKS CreateCluster API); IAM role name <= 64 of `[\\w+=,.@-]` (IAM CreateRole API).
"""

from __future__ import annotations

import re

import pytest

from components.naming import AwsNames, final_snapshot_identifier, shorten, stack_prefix

RDS = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
ALB = re.compile(r"^(?!-)[A-Za-z0-9-]{1,32}(?<!-)$")
EKS = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
IAM = re.compile(r"^[\w+=,.@-]{1,64}$")
LONG_A = "a" * 39 + "1"  # two 40-character stack names that differ only at the end
LONG_B = "a" * 39 + "2"
STACKS = ["dev", "My_Stack.v2", "prod--eu", "UPPER", "x.y_z", LONG_A, LONG_B, "_", "9lives",
          "a" * 100]


def valid(names: AwsNames) -> None:
    assert RDS.fullmatch(names.db_identifier), names.db_identifier
    assert RDS.fullmatch(final_snapshot_identifier(names.db_identifier, "0f1e2d3c"))
    assert ALB.fullmatch(names.alb), names.alb
    assert EKS.fullmatch(names.cluster), names.cluster
    for suffix in ("aws-load-balancer-controller", "external-dns", "xray-daemon"):
        assert IAM.fullmatch(names.iam(suffix)), names.iam(suffix)


@pytest.mark.parametrize("stack", STACKS)
def test_every_derived_name_is_valid(stack):
    valid(AwsNames.of("eks-canary", stack))


def test_names_of_existing_valid_stacks_do_not_change():
    names = AwsNames.of("eks-canary", "dev")
    assert names.prefix == names.cluster == names.alb == "eks-canary-dev"
    assert names.db_identifier == "eks-canary-dev-usermgmtdb"
    assert names.iam("external-dns") == "eks-canary-dev-external-dns"


def test_two_long_stacks_that_differ_at_the_end_get_distinct_names():
    a, b = AwsNames.of("eks-canary", LONG_A), AwsNames.of("eks-canary", LONG_B)
    assert a.db_identifier != b.db_identifier
    assert a.alb != b.alb
    assert a.iam("aws-load-balancer-controller") != b.iam("aws-load-balancer-controller")
    assert final_snapshot_identifier(a.db_identifier, "00000000") != \
        final_snapshot_identifier(b.db_identifier, "00000000")


def test_stack_names_that_only_sanitize_alike_stay_distinct():
    assert stack_prefix("eks-canary", "My_Stack") != stack_prefix("eks-canary", "my-stack")
    assert stack_prefix("eks-canary", "my-stack") == "eks-canary-my-stack"


def test_shorten_keeps_short_names_and_hashes_long_ones():
    assert shorten("abc", 10) == "abc"
    long = "x" * 70
    assert len(shorten(long, 63)) == 63 and shorten(long, 63) != shorten(long + "y", 63)


def test_final_snapshot_identifier_is_unique_per_random_suffix():
    assert final_snapshot_identifier("eks-canary-dev-usermgmtdb", "0a1b2c3d") == \
        "eks-canary-dev-usermgmtdb-final-0a1b2c3d"
