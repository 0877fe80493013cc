"""AWS names derived from the project and stack name: always valid, and distinct per stack.

Pulumi allows `_`, `.` and upper case in stack names; AWS names do not, and have length limits:
- RDS DB instance and snapshot identifiers: 1-63 letters, digits, hyphens; a letter first; no
  `--`; no trailing `-` (RDS User Guide, "Naming constraints in Amazon RDS"; the DeleteDBInstance
  API allows 255 for a final snapshot, we keep it within 63 like the instance);
- ALB names: at most 32 letters, digits and hyphens, no `-` at either end
  (ELBv2 CreateLoadBalancer);
- EKS cluster names: at most 100 of `[0-9A-Za-z][A-Za-z0-9-_]*` (EKS CreateCluster);
- IAM role names: at most 64 of `[\\w+=,.@-]` (IAM CreateRole);
- VPC Lattice service networks 63 and services 40 of a-z, 0-9 and inner single hyphens.

The rule: the stack name in lower case with every other character as `-` (single hyphens); if
that changed the name, a short hash of the original is appended, so `My_Stack` and `my-stack`
stay apart. A name over its limit is cut and ends in a hash of the whole name, so two long stack
names that differ only at the end still get different names. Names of stacks that were already
valid and short enough are unchanged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HASH_LENGTH = 6
RDS_MAX = 63
ALB_MAX = 32
EKS_CLUSTER_MAX = 100
IAM_ROLE_MAX = 64
LATTICE_NETWORK_MAX = 63
LATTICE_SERVICE_MAX = 40  # VPC Lattice CreateService: 3-40 of a-z, 0-9, inner single hyphens
DB_SUFFIX = "usermgmtdb"


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def slug(text: str) -> str:
    """Lower case letters and digits, everything else one hyphen, none at either end."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def shorten(name: str, limit: int) -> str:
    """`name` if it fits, else its start and a hash of all of it, within `limit` characters."""
    if len(name) <= limit:
        return name
    head = name[:limit - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{short_hash(name)}"


def iam_name(cluster: str, suffix: str) -> str:
    """An IAM role (and policy) name of a stack: its cluster's name and what it is for."""
    return shorten(f"{cluster}-{suffix}", IAM_ROLE_MAX)


def stack_prefix(project: str, stack: str) -> str:
    """`<project>-<stack>` in the characters every AWS name here allows."""
    cleaned = slug(stack)
    if cleaned != stack:
        cleaned = f"{cleaned}-{short_hash(stack)}" if cleaned else short_hash(stack)
    return f"{slug(project)}-{cleaned}"


def final_snapshot_identifier(db_identifier: str, suffix: str) -> str:
    """`<db>-final-<suffix>`: `suffix` is random, made once per deployment, so the final
    snapshot of each destroy has its own name (a fixed name fails the second destroy of a
    stack with DBSnapshotAlreadyExists)."""
    return f"{shorten(f'{db_identifier}-final', RDS_MAX - len(suffix) - 1)}-{suffix}"


@dataclass(frozen=True)
class AwsNames:
    """The names of one stack's AWS resources."""

    prefix: str

    @classmethod
    def of(cls, project: str, stack: str) -> AwsNames:
        return cls(stack_prefix(project, stack))

    @property
    def cluster(self) -> str:
        return shorten(self.prefix, EKS_CLUSTER_MAX)

    @property
    def db_identifier(self) -> str:
        return shorten(f"{self.prefix}-{DB_SUFFIX}", RDS_MAX)

    @property
    def alb(self) -> str:
        return shorten(self.prefix, ALB_MAX)

    @property
    def service_network(self) -> str:
        """VPC Lattice service network (CreateServiceNetwork: 3-63 of a-z, 0-9, inner single
        hyphens), also the name of the Gateway bound to it."""
        return shorten(self.prefix, LATTICE_NETWORK_MAX)

    def iam(self, suffix: str) -> str:
        """An IAM role (and policy) name of this stack (`iam_name`)."""
        return iam_name(self.cluster, suffix)
