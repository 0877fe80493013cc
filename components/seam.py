"""The seam between the two platforms and the app: what the app needs, as values.

Core: plain data, no Pulumi resources. The AWS platform (VPC, EKS, RDS, ACM and its add-ons)
and the local one (a kubeconfig context with MySQL and tracing in the cluster) each build one
`AppServices`; the app reads only that, and never asks which target it runs on. Fields typed
`Any` may hold Pulumi Outputs; the app places them into its objects as they are.

NetworkPolicy peers are plain dicts (`components.k8s.network_policy`): an `ipBlock` for an
address range outside the cluster (RDS, the ALB's subnets), or a namespace and pod selector for
a service inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Peers = tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class TracingEndpoint:
    """Where the apps send X-Ray segments (AWS_XRAY_DAEMON_ADDRESS), and which pods in which
    namespace receive them (the app's NetworkPolicy egress)."""

    address: str
    namespace: str
    pod_labels: Mapping[str, str]


@dataclass(frozen=True)
class DatabaseEndpoint:
    """MySQL, which user management reaches as `mysql:3306` (an ExternalName to `address`)."""

    address: Any  # DNS name: the RDS endpoint, or the in-cluster Service's
    password: Any  # a Pulumi secret
    peers: Peers  # whom user management may reach on 3306 (egress)


@dataclass(frozen=True)
class MailEndpoint:
    """The SMTP server the notification app sends through, as `smtp-service` (ExternalName)."""

    host: str
    username: Any  # Pulumi secrets (may be empty)
    password: Any
    peers: Peers  # egress to it, on `ports` (the pods' ports: policies see them after DNAT)
    ports: tuple[int, ...]


@dataclass(frozen=True)
class Exposure:
    """How user management is reached from outside the cluster."""

    # an internet-facing load balancer from an Ingress (AWS), or none (local: port-forward)
    load_balancer: bool
    url: Any = None  # the stack's `url` without a load balancer (else: the Ingress's)
    from_peers: Peers = ()  # NetworkPolicy peers the entry sends from (the ALB's subnets)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)  # e.g. readiness gates
    domain_name: str | None = None  # HTTPS on this name (load balancer only)
    certificate_arn: Any | None = None  # set iff domain_name is set


@dataclass(frozen=True)
class AppServices:
    """Everything the app takes from the platform it runs on."""

    database: DatabaseEndpoint
    mail: MailEndpoint
    tracing: TracingEndpoint
    exposure: Exposure
    # peers the kubelet's probes come from (Istio's rewritten probes reach the sidecar's ports)
    node_peers: Peers
    # the memory the Java pods request, in MiB; None: the app's own sizing (3/4 of the limit)
    java_memory_request_mib: int | None = None
    # canaryStrategy=lattice: NetworkPolicy peers of VPC Lattice's addresses
    lattice_peers: Any = ()
