"""Everything the app's objects depend on (`AppSpec`), and how it is made from the validated
stack config and the platform's values (`app_spec`).

One function, used by the Pulumi program (with Outputs) and by `canaryctl render` (with
placeholders), so what is rendered for review is what is deployed. What the app knows of the
platform it runs on (AWS or a local cluster) arrives through `components.seam.AppServices`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.canary import TrafficSplit
from components.config import StackConfig
from components.seam import AppServices, Peers


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
    # NetworkPolicy peers (components.seam): whom the public entry sends from (the ALB's
    # subnets; none without a load balancer), where MySQL is, whence the kubelet probes
    usermgmt_from_peers: Peers
    db_peers: Peers
    node_peers: Peers
    xray_address: Any  # "<svc>.<ns>:2000" from the tracing backend (either kind)
    xray_namespace: str  # where the tracing pods run (NetworkPolicy egress)
    xray_pod_labels: Mapping[str, str]  # and their labels: the X-Ray daemon's or the collector's
    db_address: Any  # target of the `mysql` ExternalName Service (RDS, or MySQL in the cluster)
    db_password: Any  # secret
    smtp_host: str  # target of the `smtp-service` ExternalName Service
    smtp_peers: Peers  # egress to the SMTP server, on smtp_ports
    smtp_ports: tuple[int, ...]
    smtp_username: Any  # secret
    smtp_password: Any  # secret
    smtp_from_address: str
    load_balancer: bool  # an Ingress makes an internet-facing load balancer; else none
    domain_name: str | None  # None -> HTTP only
    certificate_arn: Any | None  # set iff domain_name is set
    url: Any = None  # the stack's `url` when there is no load balancer
    namespace_labels: Mapping[str, str] = field(default_factory=dict)  # asked by the platform
    java_memory_request_mib: int | None = None  # None: the app's own sizing
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


def app_spec(cfg: StackConfig, split: TrafficSplit, services: AppServices,
             notification_host: Any = None) -> AppSpec:
    """The app's spec from the config and what the platform built (`services`)."""
    exposure = services.exposure
    return AppSpec(
        namespace=cfg.app_namespace,
        usermgmt_image=cfg.usermgmt_image,
        notification_v1_image=cfg.notification_v1_image,
        notification_v2_image=cfg.notification_v2_image,
        usermgmt_replicas=cfg.usermgmt_replicas,
        notification_replicas=cfg.notification_replicas,
        v1_replicas=split.v1_replicas,
        v2_replicas=split.v2_replicas,
        usermgmt_from_peers=exposure.from_peers,
        db_peers=services.database.peers,
        node_peers=services.node_peers,
        xray_address=services.tracing.address,
        xray_namespace=services.tracing.namespace,
        xray_pod_labels=dict(services.tracing.pod_labels),
        db_address=services.database.address,
        db_password=services.database.password,
        smtp_host=services.mail.host,
        smtp_peers=services.mail.peers,
        smtp_ports=services.mail.ports,
        smtp_username=services.mail.username,
        smtp_password=services.mail.password,
        smtp_from_address=cfg.smtp_from_address,
        load_balancer=exposure.load_balancer,
        domain_name=exposure.domain_name,
        certificate_arn=exposure.certificate_arn,
        url=exposure.url,
        namespace_labels=dict(exposure.namespace_labels),
        java_memory_request_mib=services.java_memory_request_mib,
        name_prefix=cfg.name_prefix,
        strategy=split.strategy,
        canary_weight=cfg.canary_weight,
        lattice_name=cfg.lattice_name,
        notification_host=notification_host,
        lattice_peers=services.lattice_peers,
    )
