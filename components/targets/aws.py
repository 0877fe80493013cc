"""`target: aws`: VPC, EKS, RDS, ACM and the AWS add-ons, and what the app gets from them.

The resources keep the names (and so the URNs) they had when `__main__.py` made them.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.addons.addon import ClusterHandles
from components.addons.external_dns import ExternalDnsProps, external_dns
from components.addons.gateway_api_controller import (
    GatewayApiController,
    GatewayApiControllerArgs,
    account_id,
)
from components.addons.istio import Istio
from components.addons.load_balancer_controller import (
    READINESS_GATE_INJECT,
    load_balancer_controller,
)
from components.addons.tracing import endpoint, tracing_backend
from components.app.names import NOTIFICATION_PORT
from components.config import StackConfig
from components.k8s.network_policy import ip_blocks
from components.platform.certificate import Certificate, CertificateArgs
from components.platform.cluster import Cluster, ClusterArgs
from components.platform.database import Database, DatabaseArgs
from components.platform.lattice_network import LatticeNetwork, LatticeNetworkArgs
from components.platform.network import Network, NetworkArgs, eks_zones, subnet_cidrs
from components.platform.service_account_role import OidcTrust
from components.seam import (
    AppServices,
    DatabaseEndpoint,
    Exposure,
    MailEndpoint,
    TracingEndpoint,
)
from components.tags import Tags
from components.targets.base import Platform

SES_SMTP_PORTS = (25, 587, 465, 2587, 2465)  # every port the SES SMTP endpoint listens on
ANYWHERE = ({"ipBlock": {"cidr": "0.0.0.0/0"}},)  # SES SMTP endpoints' addresses change


def ses_host(region: str) -> str:
    """The SES SMTP endpoint of the region (`smtp-service`, as the course has it)."""
    return f"email-smtp.{region}.amazonaws.com"


def app_services(cfg: StackConfig, *, tracing: TracingEndpoint, db_address: Any,
                 db_password: Any, certificate_arn: Any | None, smtp_username: Any = None,
                 smtp_password: Any = None, lattice_cidrs: Any = ()) -> AppServices:
    """What the app gets on AWS; pure, so `canaryctl render` builds it with placeholders.
    SMTP credentials default to the config's (Pulumi secrets); `lattice_cidrs` (plain, or an
    Output of the prefix list's entries) become NetworkPolicy ipBlocks here, once."""
    public, private = subnet_cidrs(cfg.vpc_cidr, cfg.availability_zone_count)
    lattice_peers = (lattice_cidrs.apply(ip_blocks) if isinstance(lattice_cidrs, pulumi.Output)
                     else ip_blocks(lattice_cidrs))
    return AppServices(
        # RDS is in the private subnets
        database=DatabaseEndpoint(db_address, db_password, tuple(ip_blocks(private))),
        mail=MailEndpoint(
            ses_host(cfg.region),
            cfg.smtp_username if smtp_username is None else smtp_username,
            cfg.smtp_password if smtp_password is None else smtp_password,
            ANYWHERE, SES_SMTP_PORTS),
        tracing=tracing,
        # the ALB sends from its public-subnet addresses; the load balancer controller's
        # readiness gates keep a rollout from removing the last healthy target
        exposure=Exposure(load_balancer=True, from_peers=tuple(ip_blocks(public)),
                          namespace_labels=READINESS_GATE_INJECT,
                          domain_name=cfg.domain_name, certificate_arn=certificate_arn),
        node_peers=tuple(ip_blocks(private)),  # the nodes (kubelet) are in the private subnets
        lattice_peers=lattice_peers,
    )


def build(cfg: StackConfig, tags: Tags) -> Platform:
    """Network, cluster, database, certificate and add-ons, in dependency order."""
    zones = eks_zones(cfg.availability_zone_count)
    network = Network("network", NetworkArgs(
        vpc_cidr=cfg.vpc_cidr, zones=zones, nat_gateway_per_zone=cfg.nat_gateway_per_zone,
        tags=tags, name_prefix=cfg.name_prefix))

    cluster = Cluster("cluster", ClusterArgs(
        cluster_name=cfg.names.cluster, kubernetes_version=cfg.kubernetes_version,
        vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids, node_instance_type=cfg.node_instance_type,
        node_desired_size=cfg.node_desired_size, node_min_size=cfg.node_min_size,
        node_max_size=cfg.node_max_size, tags=tags, addon_versions=cfg.addon_versions,
        admins=cfg.cluster_admins, aws_profile=cfg.aws_profile, partition=cfg.partition))

    database = Database("database", DatabaseArgs(
        identifier=cfg.names.db_identifier, vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        allowed_security_group_id=cluster.cluster_security_group_id, password=cfg.db_password,
        instance_class=cfg.db_instance_class, engine_version=cfg.db_engine_version,
        allocated_storage=cfg.db_allocated_storage,
        backup_retention_days=cfg.db_backup_retention_days, multi_az=cfg.db_multi_az,
        skip_final_snapshot=cfg.db_skip_final_snapshot,
        deletion_protection=cfg.db_deletion_protection, tags=tags))

    # the config sets hostedZoneName exactly when domainName is set (its parent zone by default)
    zone_name = cfg.hosted_zone_name
    zone = aws.route53.get_zone_output(name=zone_name, private_zone=False) if zone_name else None
    certificate_arn: pulumi.Input[str] | None = cfg.certificate_arn
    if cfg.domain_name and zone is not None and not cfg.certificate_arn:
        certificate_arn = Certificate("certificate", CertificateArgs(
            domain_name=cfg.domain_name, zone_id=zone.zone_id, tags=tags)).arn

    lattice_network = LatticeNetwork("lattice", LatticeNetworkArgs(
        name=cfg.lattice_name, vpc_id=network.vpc_id,
        security_group_id=cluster.cluster_security_group_id, target_port=NOTIFICATION_PORT,
        region=cfg.region, tags=tags)) if cfg.canary_strategy == "lattice" else None

    # ---- add-ons
    handles = ClusterHandles(
        name=cluster.name, region=cfg.region, vpc_id=network.vpc_id,
        oidc=OidcTrust(provider_arn=cluster.oidc_provider_arn, issuer=cluster.oidc_issuer),
        provider=cluster.provider, node_group=cluster.node_group, tags=tags,
        dns=[cluster.coredns])
    lb_controller = load_balancer_controller(handles)
    dns = external_dns(handles, ExternalDnsProps(
        zone_name=zone_name, zone_id=zone.zone_id, zone_arn=zone.arn,
    )) if zone_name and zone is not None else None
    tracing = tracing_backend(cfg.tracing, handles)
    istio = (Istio("istio", cluster.provider, depends_on=[cluster.node_group])
             if cfg.canary_strategy == "istio" else None)
    gateway_api = GatewayApiController("gateway-api-controller", handles, GatewayApiControllerArgs(
        account_id=account_id(), depends_on=[lattice_network],
    )) if lattice_network is not None else None

    outputs: dict[str, Any] = {
        "clusterName": cluster.name,
        "kubeconfig": cluster.kubeconfig,
        "region": cfg.region,
        "databaseAddress": database.address,
    }
    if not cfg.db_skip_final_snapshot:  # where `pulumi destroy` keeps the data, to restore from
        outputs["databaseFinalSnapshot"] = database.final_snapshot
    outputs["xrayDaemonAddress"] = tracing.address
    if certificate_arn is not None:
        outputs["certificateArn"] = certificate_arn

    return Platform(
        provider=cluster.provider,
        services=app_services(cfg, tracing=endpoint(cfg.tracing), db_address=database.address,
                              db_password=database.password, certificate_arn=certificate_arn,
                              lattice_cidrs=(lattice_network.cidrs
                                             if lattice_network is not None else ())),
        app_depends_on=[*lb_controller.installed, *tracing.addon.installed,
                        *([istio.istiod] if istio is not None else []),
                        *([*gateway_api.installed, lattice_network]
                          if gateway_api is not None and lattice_network is not None else [])],
        external_dns=dns.installed if dns is not None else [],
        outputs=outputs)
