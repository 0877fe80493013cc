"""The stack config contract: every key, its type, default and validation, in one place.

`Pulumi.yaml` declares the same keys for the Pulumi CLI (a test keeps the two in step). The
CLI applies those defaults; this module applies them too, so the program behaves the same
under the Pulumi CLI, the Automation API and the offline test harness.

`load_config()` reads every key, converts and validates it, and raises one `pulumi.RunError`
naming every bad key, the value given and what is allowed, before any resource is registered.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pulumi

from components.config_cluster import addon_versions, cluster_admins
from components.config_keys import (
    KEYS,
    NOTIFICATION_V1_IMAGE,
    NOTIFICATION_V2_IMAGE,
    STRATEGIES,
    TRACING_MODES,
    USERMGMT_IMAGE,
)
from components.config_rules import (
    CERT_ARN,
    DB_CLASS,
    DB_ENGINE,
    DNS_LABEL,
    IMAGE_REF,
    INSTANCE_TYPE,
    K8S_VERSION,
    REGION,
    ConfigError,
    Reader,
    db_password_problems,
    default_zone,
    hostname,
    is_graviton,
    secret,
    unknown_key_problems,
)
from components.config_target import check_target
from components.eks_addons import (
    AddonVersions,
    support_warning,
    supported_versions,
)
from components.naming import AwsNames
from components.partition import arn_partition, partition_of

T = TypeVar("T")


@dataclass(frozen=True)
class StackConfig:
    """Validated stack config. Secret values stay Pulumi secrets (Outputs); the rest are plain."""

    project: str
    stack: str
    region: str
    aws_profile: str | None
    canary_weight: int
    notification_replicas: int
    canary_strategy: str
    tracing: str  # TRACING_MODES: the X-Ray daemon or an OpenTelemetry collector
    domain_name: str | None
    hosted_zone_name: str | None
    certificate_arn: str | None
    db_password: pulumi.Output[str] | None
    smtp_username: pulumi.Output[str]
    smtp_password: pulumi.Output[str]
    smtp_from_address: str
    app_namespace: str
    usermgmt_replicas: int
    usermgmt_image: str
    notification_v1_image: str
    notification_v2_image: str
    kubernetes_version: str
    node_instance_type: str
    node_desired_size: int
    node_min_size: int
    node_max_size: int
    vpc_cidr: str
    availability_zone_count: int
    nat_gateway_per_zone: bool
    db_instance_class: str
    db_engine_version: str
    db_allocated_storage: int
    db_backup_retention_days: int
    db_multi_az: bool
    db_skip_final_snapshot: bool
    db_deletion_protection: bool
    addon_versions: AddonVersions  # vpc-cni, kube-proxy, coredns: pinned or from config
    cluster_admins: tuple[str, ...]  # IAM principal ARNs with cluster-admin access entries
    target: str = "aws"  # TARGETS: AWS, or a local cluster (`components.targets`)
    kube_context: str | None = None  # target local: the kubeconfig context; None: current

    @property
    def partition(self) -> str:
        """The region's AWS partition (aws, aws-cn, aws-us-gov): every AWS-owned ARN's."""
        return partition_of(self.region)

    @property
    def names(self) -> AwsNames:
        """The stack's AWS names: valid for any stack name, distinct per stack (`naming`)."""
        return AwsNames.of(self.project, self.stack)

    @property
    def name_prefix(self) -> str:
        """Prefix of every AWS name, so two stacks can share an account and region."""
        return self.names.prefix

    @property
    def lattice_name(self) -> str:
        """The VPC Lattice service network's name, which is also its Gateway's (the AWS Gateway
        API Controller binds a Gateway to the service network of the same name)."""
        return self.names.service_network


def parse_config(
    raw: Mapping[str, str | None],
    *,
    project: str,
    stack: str,
    region: str | None,
    aws_profile: str | None = None,
    secret_keys: Set[str] = frozenset(),
    to_secret: Callable[[str], Any] = pulumi.Output.secret,
    unknown_fix: str = "`pulumi config rm {key}`",
    today: date | None = None,
) -> StackConfig:
    """Validate raw config strings (None = unset) into a StackConfig, or raise ConfigError.
    Every key of `raw` must be in the key table; `unknown_fix` says how to remove one. `today`
    (default: the current UTC date) decides which Kubernetes versions are supported."""
    today = today or utc_today()
    r = Reader(raw, set(secret_keys))
    target = check_target(r)
    r.problems += unknown_key_problems(raw, unknown_fix)

    if target == "aws" and (not region or not REGION.fullmatch(region)):
        given = f"got {region!r}" if region else "not set"
        r.problems.append(f"aws:region: {given}; allowed: an AWS region such as us-east-1 "
                          "(`pulumi config set aws:region us-east-1`)")
    partition = partition_of(region) if region and REGION.fullmatch(region) else None

    weight = r.integer("canaryWeight", 0, 100)
    replicas = r.integer("notificationReplicas", 1)
    strategy = r.text("canaryStrategy")
    r.check("canaryStrategy", strategy in STRATEGIES, " or ".join(repr(s) for s in STRATEGIES))
    tracing = r.text("tracing")
    r.check("tracing", tracing in TRACING_MODES, " or ".join(repr(m) for m in TRACING_MODES))

    domain = hostname(r, "domainName")
    zone = hostname(r, "hostedZoneName")
    if r.text("hostedZoneName") and not r.text("domainName"):
        r.problem("hostedZoneName", "only together with domainName")
    if domain and zone and not (domain == zone or domain.endswith("." + zone)):
        r.problem("hostedZoneName", f"a zone that domainName {domain!r} is in, such as "
                                    f"{default_zone(domain)!r}")
    if domain and not r.text("hostedZoneName"):
        zone = default_zone(domain)

    certificate_arn = r.text("certificateArn") or None
    if certificate_arn:
        match = CERT_ARN.fullmatch(certificate_arn)
        if not match:
            r.problem("certificateArn", "an ACM certificate ARN such as arn:aws:acm:us-east-1:"
                                        "123456789012:certificate/<uuid>")
            certificate_arn = None
        elif partition is not None and arn_partition(certificate_arn) != partition:
            r.problem("certificateArn", f"a certificate of the region's partition {partition} "
                                        f"(arn:{partition}:acm:...)")
        elif region and match["region"] != region:
            r.problem("certificateArn", f"a certificate in the stack's region {region} "
                                        "(the ALB can only use certificates of its own region)")
        if not r.text("domainName"):
            r.problem("certificateArn", "only together with domainName (the name the "
                                        "certificate is for)")

    db_password = secret(r, "dbPassword")
    if db_password is not None and (why := db_password_problems(db_password)):
        r.problems.append(f"dbPassword: (secret value hidden) is not valid; allowed: {why}")
    smtp_username = secret(r, "smtpUsername")
    smtp_password = secret(r, "smtpPassword")

    from_address = r.text("smtpFromAddress")
    if from_address and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", from_address):
        r.problem("smtpFromAddress", "an e-mail address such as noreply@example.com")
    if not from_address:
        from_address = f"noreply@{zone}" if zone else "noreply@example.com"

    namespace = r.text("appNamespace")
    r.check("appNamespace",
            bool(DNS_LABEL.fullmatch(namespace)) and namespace != "default"
            and not namespace.startswith("kube-"),
            "a DNS label (lower-case letters, digits, '-'), not 'default' or 'kube-*'")

    usermgmt_replicas = r.integer("usermgmtReplicas", 1)
    image_rule = "an image reference pinned by tag or digest, e.g. repo/name:1.2.3 (not :latest)"
    images = {}
    for key in ("usermgmtImage", "notificationV1Image", "notificationV2Image"):
        image = images[key] = r.matching(key, IMAGE_REF, image_rule)
        if image is not None and image.endswith(":latest"):
            r.problem(key, image_rule)

    in_support = ", ".join(supported_versions(today))
    k8s_version = r.matching("kubernetesVersion", K8S_VERSION,
                             f"1.NN in EKS standard support: {in_support}")
    # EKS's calendar: a local cluster's version is the user's own (and the key keeps its default)
    versions = addon_versions(r, k8s_version, today if target == "aws" else None)
    admins = cluster_admins(r, partition)

    instance_type = r.matching("nodeInstanceType", INSTANCE_TYPE, "an EC2 instance type, "
                                                                   "e.g. t3.large")
    course_images = {USERMGMT_IMAGE, NOTIFICATION_V1_IMAGE, NOTIFICATION_V2_IMAGE}
    if instance_type and is_graviton(instance_type) and course_images & set(images.values()):
        r.problem("nodeInstanceType", "an x86_64 type (e.g. t3.large, m6i.large) while the "
                                      "course's images, built for amd64 only, are used")
    node_min = r.integer("nodeMinSize", 1)
    node_desired = r.integer("nodeDesiredSize", 1)
    node_max = r.integer("nodeMaxSize", 1)
    if node_min is not None and node_desired is not None and node_max is not None and not (
        node_min <= node_desired <= node_max
    ):
        r.problems.append(
            f"nodeMinSize/nodeDesiredSize/nodeMaxSize: got {node_min}/{node_desired}/{node_max};"
            " allowed: nodeMinSize <= nodeDesiredSize <= nodeMaxSize"
        )

    vpc_cidr = r.text("vpcCidr")
    try:
        network = ipaddress.IPv4Network(vpc_cidr)
        r.check("vpcCidr", 16 <= network.prefixlen <= 20, "an IPv4 CIDR from /16 to /20")
    except ValueError:
        r.problem("vpcCidr", "an IPv4 network CIDR such as 10.0.0.0/16")
    az_count = r.integer("availabilityZoneCount", 2, 4)
    nat_per_zone = r.boolean("natGatewayPerZone")

    db_class = r.matching("dbInstanceClass", DB_CLASS, "an RDS instance class, e.g. db.t4g.small")
    db_engine = r.matching("dbEngineVersion", DB_ENGINE, "8.4 or 8.4.N (MySQL 8.4 LTS)")
    db_storage = r.integer("dbAllocatedStorage", 20, 16384)
    db_backups = r.integer("dbBackupRetentionDays", 1, 35)
    db_multi_az = r.boolean("dbMultiAz")
    db_skip_snapshot = r.boolean("dbSkipFinalSnapshot")
    db_protect = r.boolean("dbDeletionProtection")

    if r.problems:
        raise ConfigError(r.problems)

    def need(value: T | None) -> T:
        """A value the reader returned: None only ever comes with a recorded problem."""
        if value is None:
            raise AssertionError("a config value is missing although no problem was recorded")
        return value

    return StackConfig(
        project=project,
        stack=stack,
        region=region or "",
        aws_profile=aws_profile or None,
        canary_weight=need(weight),
        notification_replicas=need(replicas),
        canary_strategy=strategy,
        tracing=tracing,
        domain_name=domain,
        hosted_zone_name=zone,
        certificate_arn=certificate_arn,
        db_password=to_secret(db_password) if db_password else None,
        smtp_username=to_secret(smtp_username or ""),
        smtp_password=to_secret(smtp_password or ""),
        smtp_from_address=from_address,
        app_namespace=namespace,
        usermgmt_replicas=need(usermgmt_replicas),
        usermgmt_image=need(images["usermgmtImage"]),
        notification_v1_image=need(images["notificationV1Image"]),
        notification_v2_image=need(images["notificationV2Image"]),
        kubernetes_version=need(k8s_version),
        node_instance_type=need(instance_type),
        node_desired_size=need(node_desired),
        node_min_size=need(node_min),
        node_max_size=need(node_max),
        vpc_cidr=vpc_cidr,
        availability_zone_count=need(az_count),
        nat_gateway_per_zone=need(nat_per_zone),
        db_instance_class=need(db_class),
        db_engine_version=need(db_engine),
        db_allocated_storage=need(db_storage),
        db_backup_retention_days=need(db_backups),
        db_multi_az=need(db_multi_az),
        db_skip_final_snapshot=need(db_skip_snapshot),
        db_deletion_protection=need(db_protect),
        addon_versions=need(versions),
        cluster_admins=tuple(need(admins)),
        target=target,
        kube_context=r.text("kubeContext") or None,
    )


def project_keys(project: str) -> set[str]:
    """Every key of this project's namespace the program was given, known or not.

    The Pulumi CLI merges Pulumi.yaml's defaults into the stack's config
    (pulumi/pulumi pkg/workspace/config.go, mergeConfig) and its Python language host hands all
    of it to the program as one JSON object "<namespace>:<key>" -> value in the environment
    variable PULUMI_CONFIG (sdk/python/cmd/pulumi-language-python/main.go, pulumiConfigVar),
    which `pulumi.runtime.get_config_env()` reads; an inline Automation API program gets its
    config through `set_all_config` instead (pulumi/runtime/config.py, CONFIG). Both are read.
    Keys of other namespaces (aws:, kubernetes:, pulumi:) are left to their providers.
    """
    given = {*pulumi.runtime.get_config_env(), *pulumi.runtime.config.CONFIG.get()}
    return {key.removeprefix(f"{project}:") for key in given if key.startswith(f"{project}:")}


def utc_today() -> date:
    return datetime.now(UTC).date()


def load_config(today: date | None = None) -> StackConfig:
    """Read the stack's config through the Pulumi SDK; bad input stops the run with one message.
    Every run warns when the Kubernetes version is near its end of standard support."""
    config = pulumi.Config()
    names = {key.name for key in KEYS} | project_keys(pulumi.get_project())
    raw = {name: config.get(name) for name in names}
    env_secret_keys = set(pulumi.runtime.get_config_secret_keys_env())
    secret_keys = {
        key.name for key in KEYS
        if pulumi.runtime.is_config_secret(config.full_key(key.name))
        or config.full_key(key.name) in env_secret_keys
    }
    try:
        cfg = parse_config(
            raw,
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            region=pulumi.Config("aws").get("region"),
            aws_profile=pulumi.Config("aws").get("profile"),
            secret_keys=secret_keys,
            today=today,
        )
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    if cfg.target == "aws" and (
            warning := support_warning(cfg.kubernetes_version, today or utc_today())) is not None:
        pulumi.log.warn(warning)
    return cfg
