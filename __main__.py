"""eks-canary: read the stack config, compose the layers, export the outputs. No logic here."""

import pulumi

from components import canary
from components.config import load_config

cfg = load_config()

split = canary.plan_split(cfg.canary_strategy, cfg.canary_weight, cfg.notification_replicas)
if (warning := canary.inexact_warning(split, cfg.notification_replicas)) is not None:
    pulumi.log.warn(warning)

pulumi.export("trafficSplit", split.as_output())
