"""From the validated stack config and the platform's values to the app's `AppSpec`.

One function, used by the Pulumi program (with Outputs) and by `canaryctl render` (with
placeholders), so what is rendered for review is what is deployed.
"""

from __future__ import annotations

from typing import Any

from components.app.manifests import AppSpec
from components.canary import TrafficSplit
from components.config import StackConfig
from components.network import subnet_cidrs


def app_spec(cfg: StackConfig, split: TrafficSplit, *, xray_address: Any, xray_namespace: str,
             db_address: Any, db_password: Any, certificate_arn: Any | None,
             smtp_username: Any = None, smtp_password: Any = None) -> AppSpec:
    """SMTP credentials default to the config's (Pulumi secrets)."""
    public_cidrs, private_cidrs = subnet_cidrs(cfg.vpc_cidr, cfg.availability_zone_count)
    return AppSpec(
        namespace=cfg.app_namespace,
        usermgmt_image=cfg.usermgmt_image,
        notification_v1_image=cfg.notification_v1_image,
        notification_v2_image=cfg.notification_v2_image,
        usermgmt_replicas=cfg.usermgmt_replicas,
        v1_replicas=split.v1_replicas,
        v2_replicas=split.v2_replicas,
        region=cfg.region,
        public_subnet_cidrs=public_cidrs,
        private_subnet_cidrs=private_cidrs,
        xray_address=xray_address,
        xray_namespace=xray_namespace,
        db_address=db_address,
        db_password=db_password,
        smtp_username=cfg.smtp_username if smtp_username is None else smtp_username,
        smtp_password=cfg.smtp_password if smtp_password is None else smtp_password,
        smtp_from_address=cfg.smtp_from_address,
        domain_name=cfg.domain_name,
        certificate_arn=certificate_arn,
        name_prefix=cfg.name_prefix,
        istio=split.strategy == "istio",
        canary_weight=cfg.canary_weight,
    )
