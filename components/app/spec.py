"""Everything the app's objects depend on (`AppSpec`), and how it is made from the validated
stack config and the platform's values (`app_spec`).

One function, used by the Pulumi program (with Outputs) and by `canaryctl render` (with
placeholders), so what is rendered for review is what is deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.addons.tracing import Endpoint
from components.canary import TrafficSplit
from components.config import StackConfig
from components.k8s.network_policy import ip_blocks
from components.platform.network import subnet_cidrs


@dataclass(frozen=True)
class AppSpec:
    """Everything the app's objects depend on. `Any` fields may be Pulumi Outputs: builders place
    them into the dicts as they are, never formatted or inspected, so they never force or leak
    an Output."""

    namespace: str
    usermgmt_image: str
    notification_v1_image: str
    notification_v2_image: str
    usermgmt_replicas: int
    notification_replicas: int  # notificationReplicas: the pods the weight splits
    v1_replicas: int
    v2_replicas: int
    region: str  # for smtp-service: email-smtp.<region>.amazonaws.com
    # NetworkPolicy ipBlocks: the ALB's addresses are in the public subnets, RDS and the nodes
    # (kubelet) in the private ones
    public_subnet_cidrs: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    xray_address: Any  # "<svc>.<ns>:2000" from the tracing add-on (either backend)
    xray_namespace: str  # where the tracing pods run (NetworkPolicy egress)
    xray_pod_labels: Mapping[str, str]  # and their labels: the X-Ray daemon's or the collector's
    db_address: Any  # RDS address, target of the `mysql` ExternalName Service
    db_password: Any  # secret
    smtp_username: Any  # secret
    smtp_password: Any  # secret
    smtp_from_address: str
    domain_name: str | None  # None -> HTTP only
    certificate_arn: Any | None  # set iff domain_name is set
    name_prefix: str = "eks-canary"  # unique per stack: names the ALB
    strategy: str = "replicas"  # canaryStrategy: picks the routing module
    canary_weight: int = 50  # only used by the routing objects of exact strategies
    # canaryStrategy=lattice only:
    lattice_name: str = ""  # the service network's name, which the Gateway takes
    # the HTTPRoute's Lattice-assigned DNS name (an Output of the route in the program, a
    # placeholder in `canaryctl render`); user management calls notification there
    notification_host: Any = None
    # NetworkPolicy peers of VPC Lattice's addresses (ipBlocks of its managed prefix list)
    lattice_peers: Any = ()

    @property
    def istio(self) -> bool:
        return self.strategy == "istio"

    @property
    def lattice(self) -> bool:
        return self.strategy == "lattice"

    def image(self, version: str) -> str:
        return {"v1": self.notification_v1_image, "v2": self.notification_v2_image}[version]

    def replicas(self, version: str) -> int:
        return {"v1": self.v1_replicas, "v2": self.v2_replicas}[version]


def app_spec(cfg: StackConfig, split: TrafficSplit, *, tracing: Endpoint,
             db_address: Any, db_password: Any, certificate_arn: Any | None,
             smtp_username: Any = None, smtp_password: Any = None,
             lattice_cidrs: Any = (), notification_host: Any = None) -> AppSpec:
    """SMTP credentials default to the config's (Pulumi secrets). `lattice_cidrs` (plain, or an
    Output of the prefix list's entries) become NetworkPolicy ipBlocks here, once."""
    public_cidrs, private_cidrs = subnet_cidrs(cfg.vpc_cidr, cfg.availability_zone_count)
    lattice_peers = (lattice_cidrs.apply(ip_blocks) if isinstance(lattice_cidrs, pulumi.Output)
                     else ip_blocks(lattice_cidrs))
    return AppSpec(
        namespace=cfg.app_namespace,
        usermgmt_image=cfg.usermgmt_image,
        notification_v1_image=cfg.notification_v1_image,
        notification_v2_image=cfg.notification_v2_image,
        usermgmt_replicas=cfg.usermgmt_replicas,
        notification_replicas=cfg.notification_replicas,
        v1_replicas=split.v1_replicas,
        v2_replicas=split.v2_replicas,
        region=cfg.region,
        public_subnet_cidrs=public_cidrs,
        private_subnet_cidrs=private_cidrs,
        xray_address=tracing.address,
        xray_namespace=tracing.namespace,
        xray_pod_labels=dict(tracing.pod_labels),
        db_address=db_address,
        db_password=db_password,
        smtp_username=cfg.smtp_username if smtp_username is None else smtp_username,
        smtp_password=cfg.smtp_password if smtp_password is None else smtp_password,
        smtp_from_address=cfg.smtp_from_address,
        domain_name=cfg.domain_name,
        certificate_arn=certificate_arn,
        name_prefix=cfg.name_prefix,
        strategy=split.strategy,
        canary_weight=cfg.canary_weight,
        lattice_name=cfg.lattice_name,
        notification_host=notification_host,
        lattice_peers=lattice_peers,
    )
