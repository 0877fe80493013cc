"""eks-canary: read the stack config, compose the layers, export the outputs. No logic here."""

import pulumi
import pulumi_aws as aws

from components import canary
from components.addons.addon import ClusterHandles
from components.addons.external_dns import ExternalDnsProps, external_dns
from components.addons.gateway_api_controller import (
    GatewayApiController,
    GatewayApiControllerArgs,
    account_id,
)
from components.addons.istio import Istio
from components.addons.load_balancer_controller import load_balancer_controller
from components.addons.service_account_role import OidcTrust
from components.addons.tracing import endpoint, tracing_backend
from components.app.component import CanaryApp, CanaryAppArgs
from components.app.names import NOTIFICATION_PORT
from components.app.spec import app_spec
from components.config import load_config
from components.platform.certificate import Certificate, CertificateArgs
from components.platform.cluster import Cluster, ClusterArgs
from components.platform.database import Database, DatabaseArgs
from components.platform.lattice_network import LatticeNetwork, LatticeNetworkArgs
from components.platform.network import Network, NetworkArgs, eks_zones
from components.tags import Tags

cfg = load_config()
tags = Tags(cfg.project, cfg.stack)

split = canary.plan_split(cfg.canary_strategy, cfg.canary_weight, cfg.notification_replicas)
if (warning := canary.inexact_warning(split)) is not None:
    pulumi.log.warn(warning)

# ---- platform
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
istio = Istio("istio", handles) if cfg.canary_strategy == "istio" else None
gateway_api = GatewayApiController("gateway-api-controller", handles, GatewayApiControllerArgs(
    account_id=account_id(), depends_on=[lattice_network],
)) if lattice_network is not None else None

# ---- the canary app
app = CanaryApp("app", CanaryAppArgs(
    spec=app_spec(cfg, split, tracing=endpoint(cfg.tracing),
                  db_address=database.address, db_password=database.password,
                  certificate_arn=certificate_arn,
                  lattice_cidrs=lattice_network.cidrs if lattice_network is not None else ()),
    provider=cluster.provider,
    depends_on=[*lb_controller.installed, *tracing.addon.installed,
                *([istio.istiod] if istio is not None else []),
                *([*gateway_api.installed, lattice_network]
                  if gateway_api is not None and lattice_network is not None else [])],
    external_dns=dns.installed if dns is not None else []))

# ---- outputs
pulumi.export("trafficSplit", split.as_output())
pulumi.export("url", app.url)
pulumi.export("clusterName", cluster.name)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("region", cfg.region)
pulumi.export("databaseAddress", database.address)
if not cfg.db_skip_final_snapshot:  # where `pulumi destroy` keeps the data, to restore from
    pulumi.export("databaseFinalSnapshot", database.final_snapshot)
pulumi.export("xrayDaemonAddress", tracing.address)
if certificate_arn is not None:
    pulumi.export("certificateArn", certificate_arn)
