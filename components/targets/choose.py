"""The one place the platform is chosen, by the `target` key."""

from __future__ import annotations

from components.config import StackConfig
from components.tags import Tags
from components.targets.base import Platform


def build_platform(cfg: StackConfig, tags: Tags) -> Platform:
    """AWS (VPC, EKS, RDS, ...) or a local cluster. Each module is imported only when chosen,
    so a local run never loads the AWS SDK's modules."""
    if cfg.target == "local":
        from components.targets import local
        return local.build(cfg)
    if cfg.target == "aws":
        from components.targets import aws
        return aws.build(cfg, tags)
    raise ValueError(f"target: unknown {cfg.target!r}")
