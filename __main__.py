"""eks-canary: read the stack config, compose the layers, export the outputs. No logic here."""

import pulumi

from components import canary
from components.app.component import CanaryApp, CanaryAppArgs
from components.app.spec import app_spec
from components.config import load_config
from components.tags import Tags
from components.targets.choose import build_platform

cfg = load_config()
tags = Tags(cfg.project, cfg.stack)

split = canary.plan_split(cfg.canary_strategy, cfg.canary_weight, cfg.notification_replicas)
if (warning := canary.inexact_warning(split)) is not None:
    pulumi.log.warn(warning)

# ---- the platform: AWS (VPC, EKS, RDS, ACM, add-ons) or a local cluster, by `target`
platform = build_platform(cfg, tags)

# ---- the canary app: the same on either platform
app = CanaryApp("app", CanaryAppArgs(
    spec=app_spec(cfg, split, platform.services),
    provider=platform.provider,
    depends_on=platform.app_depends_on,
    external_dns=platform.external_dns))

# ---- outputs
pulumi.export("trafficSplit", split.as_output())
pulumi.export("url", app.url)
for name, value in platform.outputs.items():
    pulumi.export(name, value)
