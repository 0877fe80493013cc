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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

STRATEGIES = ("replicas", "istio")

# Pinned defaults: the images of the course this project reimplements (see README).
USERMGMT_IMAGE = "stacksimplify/kube-usermanagement-microservice:3.0.0-AWS-XRay-MySQLDB"
NOTIFICATION_V1_IMAGE = "stacksimplify/kube-notifications-microservice:3.0.0-AWS-XRay"
NOTIFICATION_V2_IMAGE = "stacksimplify/kube-notifications-microservice:4.0.0-AWS-XRay"


@dataclass(frozen=True)
class Key:
    """One config key: its name, Pulumi.yaml type, default and description."""

    name: str
    type: str  # "integer" | "string" | "boolean", as in Pulumi.yaml
    default: Any
    description: str
    secret: bool = False


KEYS: tuple[Key, ...] = (
    Key("canaryWeight", "integer", 50,
        "Percent of notification calls served by V2 (0..100)."),
    Key("notificationReplicas", "integer", 4,
        "Notification pods in total, split between V1 and V2 (>= 1)."),
    Key("canaryStrategy", "string", "replicas",
        "How the split is made: 'replicas' (kube-proxy spreads over the V1/V2 pods) "
        "or 'istio' (exact weights by an Istio VirtualService)."),
    Key("domainName", "string", "",
        "Public hostname of the app. When set: HTTPS with an ACM certificate and a DNS record "
        "kept by ExternalDNS. Empty: HTTP on the load balancer's own hostname."),
    Key("hostedZoneName", "string", "",
        "Route53 public zone for certificate validation and records. Empty: the parent zone "
        "of domainName (or domainName itself when it has only two labels)."),
    Key("certificateArn", "string", "",
        "Use this ACM certificate (same region) instead of creating one. Needs domainName."),
    Key("dbPassword", "string", "",
        "Master password of the database; set with --secret. Empty: a generated one.",
        secret=True),
    Key("smtpUsername", "string", "",
        "SES SMTP username for the notification service; set with --secret.", secret=True),
    Key("smtpPassword", "string", "",
        "SES SMTP password for the notification service; set with --secret.", secret=True),
    Key("smtpFromAddress", "string", "",
        "Sender address of notification mails (an SES-verified identity). "
        "Empty: noreply@<hostedZoneName>, or noreply@example.com without a domain."),
    Key("appNamespace", "string", "canary",
        "Kubernetes namespace of the app stack (never 'default')."),
    Key("usermgmtReplicas", "integer", 1, "User-management pods (>= 1)."),
    Key("usermgmtImage", "string", USERMGMT_IMAGE, "User-management image, pinned by tag."),
    Key("notificationV1Image", "string", NOTIFICATION_V1_IMAGE,
        "Notification V1 image, pinned by tag."),
    Key("notificationV2Image", "string", NOTIFICATION_V2_IMAGE,
        "Notification V2 image, pinned by tag."),
    Key("kubernetesVersion", "string", "1.35",
        "EKS Kubernetes version, 1.NN (1.33 or newer)."),
    Key("nodeInstanceType", "string", "t3.large", "Instance type of the managed node group."),
    Key("nodeDesiredSize", "integer", 2, "Nodes the group starts with."),
    Key("nodeMinSize", "integer", 2, "Fewest nodes in the group (>= 1)."),
    Key("nodeMaxSize", "integer", 4, "Most nodes in the group."),
    Key("vpcCidr", "string", "10.0.0.0/16", "IPv4 CIDR of the VPC, /16 to /20."),
    Key("availabilityZoneCount", "integer", 2,
        "Availability zones to spread subnets over (2..4)."),
    Key("natGatewayPerZone", "boolean", False,
        "One NAT gateway per zone (survives a zone outage) instead of one shared gateway."),
    Key("dbInstanceClass", "string", "db.t4g.small", "RDS instance class."),
    Key("dbEngineVersion", "string", "8.4", "RDS MySQL engine version (8.4 or 8.4.N)."),
    Key("dbAllocatedStorage", "integer", 20, "RDS storage in GiB (20..16384)."),
    Key("dbBackupRetentionDays", "integer", 7, "Days of automated backups (1..35)."),
    Key("dbMultiAz", "boolean", False, "Run RDS Multi-AZ (a standby in a second zone)."),
    Key("dbSkipFinalSnapshot", "boolean", False,
        "Skip the final DB snapshot on destroy. Default false: destroy keeps a snapshot."),
    Key("dbDeletionProtection", "boolean", False,
        "Protect the database from deletion (destroy fails until this is turned off)."),
)

DEFAULTS: dict[str, Any] = {k.name: k.default for k in KEYS}

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CERT_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_IMAGE = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_DB_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
_DB_ENGINE = re.compile(r"^8\.4(\.\d+)?$")
_DB_PASSWORD_FORBIDDEN = set("/'\"@ ")


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

    @property
    def name_prefix(self) -> str:
        """Prefix of every AWS name, so two stacks can share an account and region."""
        return f"{self.project}-{self.stack}"


class ConfigError(Exception):
    """Bad stack config: the message lists every problem, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid stack config (fix with `pulumi config set <key> <value>`):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


# ---- parsing helpers: each returns the parsed value or records a problem and returns None ----


class _Reader:
    """Reads raw string values and collects every problem instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, str | None], secret_keys: set[str]):
        self.raw = raw
        self.secret_keys = secret_keys
        self.problems: list[str] = []

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None:
            return DEFAULTS[key]
        return value.strip()

    def show(self, key: str) -> str:
        """How to quote a given value in a message; secret values are never echoed."""
        return "(secret value hidden)" if key in self.secret_keys else repr(self.raw.get(key))

    def problem(self, key: str, allowed: str) -> None:
        self.problems.append(f"{key}: got {self.show(key)}; allowed: {allowed}")

    def integer(self, key: str, low: int, high: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return DEFAULTS[key]
        allowed = f"a whole number from {low} to {high}" if high is not None else \
            f"a whole number >= {low}"
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            self.problem(key, allowed)
            return None
        number = int(value)
        if number < low or (high is not None and number > high):
            self.problem(key, allowed)
            return None
        return number

    def boolean(self, key: str) -> bool | None:
        value = self.raw.get(key)
        if value is None:
            return DEFAULTS[key]
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        self.problem(key, "true or false")
        return None

    def matching(self, key: str, pattern: re.Pattern[str], allowed: str) -> str | None:
        value = self.text(key)
        if not pattern.fullmatch(value):
            self.problem(key, allowed)
            return None
        return value

    def check(self, key: str, ok: bool, allowed: str) -> None:
        if not ok:
            self.problem(key, allowed)


def is_hostname(value: str) -> bool:
    """A fully qualified DNS hostname: two or more RFC 1123 labels, 253 characters at most."""
    labels = value.split(".")
    return (
        len(value) <= 253
        and len(labels) >= 2
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def is_graviton(instance_type: str) -> bool:
    """Graviton (ARM) families carry a `g` after the generation: t4g, m7g, c6gn, r8g..."""
    return bool(re.fullmatch(r"[a-z]+\d+g[a-z]*", instance_type.split(".")[0]))


def default_zone(domain: str) -> str:
    """The parent zone of a hostname; a two-label name is its own zone (example.com)."""
    labels = domain.split(".")
    return domain if len(labels) <= 2 else ".".join(labels[1:])


def _hostname(r: _Reader, key: str) -> str | None:
    value = r.text(key).lower().rstrip(".")
    if not value:
        return None
    if not is_hostname(value):
        r.problem(key, "a DNS hostname such as canary.example.com (letters, digits, hyphens, "
                       "two or more dot-separated labels)")
        return None
    return value


def _db_password_problems(value: str) -> str | None:
    if not 8 <= len(value) <= 41:
        return "8 to 41 characters"
    if any(c in _DB_PASSWORD_FORBIDDEN or not 32 < ord(c) < 127 for c in value):
        return "printable ASCII without / ' \" @ or space (RDS rules)"
    return None


def _secret(r: _Reader, key: str) -> str | None:
    """A secret value: it must have been set with --secret, so it is encrypted at rest."""
    value = r.raw.get(key)
    if value is None or value == "":
        return None
    if key not in r.secret_keys:
        r.problems.append(
            f"{key}: is set in plain text; allowed: only a secret "
            f"(`pulumi config set --secret {key} ...`)"
        )
        return None
    return value


def parse_config(
    raw: Mapping[str, str | None],
    *,
    project: str,
    stack: str,
    region: str | None,
    aws_profile: str | None = None,
    secret_keys: set[str] = frozenset(),  # type: ignore[assignment]
    to_secret: Callable[[str], Any] = pulumi.Output.secret,
) -> StackConfig:
    """Validate raw config strings (None = unset) into a StackConfig, or raise ConfigError."""
    r = _Reader(raw, set(secret_keys))

    if not region or not _REGION.fullmatch(region):
        r.problems.append(f"aws:region: got {region!r}; allowed: an AWS region such as us-east-1 "
                          "(`pulumi config set aws:region us-east-1`)")

    weight = r.integer("canaryWeight", 0, 100)
    replicas = r.integer("notificationReplicas", 1)
    strategy = r.text("canaryStrategy")
    r.check("canaryStrategy", strategy in STRATEGIES, " or ".join(repr(s) for s in STRATEGIES))

    domain = _hostname(r, "domainName")
    zone = _hostname(r, "hostedZoneName")
    if r.text("hostedZoneName") and not r.text("domainName"):
        r.problem("hostedZoneName", "only together with domainName")
    if domain and zone and not (domain == zone or domain.endswith("." + zone)):
        r.problem("hostedZoneName", f"a zone that domainName {domain!r} is in, such as "
                                    f"{default_zone(domain)!r}")
    if domain and not r.text("hostedZoneName"):
        zone = default_zone(domain)

    certificate_arn = r.text("certificateArn") or None
    if certificate_arn:
        match = _CERT_ARN.fullmatch(certificate_arn)
        if not match:
            r.problem("certificateArn", "an ACM certificate ARN such as arn:aws:acm:us-east-1:"
                                        "123456789012:certificate/<uuid>")
            certificate_arn = None
        elif region and match["region"] != region:
            r.problem("certificateArn", f"a certificate in the stack's region {region} "
                                        "(the ALB can only use certificates of its own region)")
        if not r.text("domainName"):
            r.problem("certificateArn", "only together with domainName (the name the "
                                        "certificate is for)")

    db_password = _secret(r, "dbPassword")
    if db_password is not None and (why := _db_password_problems(db_password)):
        r.problems.append(f"dbPassword: (secret value hidden) is not valid; allowed: {why}")
    smtp_username = _secret(r, "smtpUsername")
    smtp_password = _secret(r, "smtpPassword")

    from_address = r.text("smtpFromAddress")
    if from_address and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", from_address):
        r.problem("smtpFromAddress", "an e-mail address such as noreply@example.com")
    if not from_address:
        from_address = f"noreply@{zone}" if zone else "noreply@example.com"

    namespace = r.text("appNamespace")
    r.check("appNamespace",
            bool(_DNS_LABEL.fullmatch(namespace)) and namespace != "default"
            and not namespace.startswith("kube-"),
            "a DNS label (lower-case letters, digits, '-'), not 'default' or 'kube-*'")

    usermgmt_replicas = r.integer("usermgmtReplicas", 1)
    image_rule = "an image reference pinned by tag or digest, e.g. repo/name:1.2.3 (not :latest)"
    images = {}
    for key in ("usermgmtImage", "notificationV1Image", "notificationV2Image"):
        images[key] = r.matching(key, _IMAGE, image_rule)
        if images[key] and images[key].endswith(":latest"):
            r.problem(key, image_rule)

    k8s_version = r.matching("kubernetesVersion", _K8S_VERSION, "1.NN with NN >= 33, e.g. 1.35")
    if k8s_version and int(k8s_version.split(".")[1]) < 33:
        r.problem("kubernetesVersion", "1.NN with NN >= 33, e.g. 1.35")

    instance_type = r.matching("nodeInstanceType", _INSTANCE_TYPE, "an EC2 instance type, "
                                                                   "e.g. t3.large")
    course_images = {USERMGMT_IMAGE, NOTIFICATION_V1_IMAGE, NOTIFICATION_V2_IMAGE}
    if instance_type and is_graviton(instance_type) and course_images & set(images.values()):
        r.problem("nodeInstanceType", "an x86_64 type (e.g. t3.large, m6i.large) while the "
                                      "course's images, built for amd64 only, are used")
    node_min = r.integer("nodeMinSize", 1)
    node_desired = r.integer("nodeDesiredSize", 1)
    node_max = r.integer("nodeMaxSize", 1)
    if None not in (node_min, node_desired, node_max) and not (
        node_min <= node_desired <= node_max  # type: ignore[operator]
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

    db_class = r.matching("dbInstanceClass", _DB_CLASS, "an RDS instance class, e.g. db.t4g.small")
    db_engine = r.matching("dbEngineVersion", _DB_ENGINE, "8.4 or 8.4.N (MySQL 8.4 LTS)")
    db_storage = r.integer("dbAllocatedStorage", 20, 16384)
    db_backups = r.integer("dbBackupRetentionDays", 1, 35)
    db_multi_az = r.boolean("dbMultiAz")
    db_skip_snapshot = r.boolean("dbSkipFinalSnapshot")
    db_protect = r.boolean("dbDeletionProtection")

    if r.problems:
        raise ConfigError(r.problems)

    return StackConfig(
        project=project,
        stack=stack,
        region=region or "",
        aws_profile=aws_profile or None,
        canary_weight=weight,  # type: ignore[arg-type]
        notification_replicas=replicas,  # type: ignore[arg-type]
        canary_strategy=strategy,
        domain_name=domain,
        hosted_zone_name=zone,
        certificate_arn=certificate_arn,
        db_password=to_secret(db_password) if db_password else None,
        smtp_username=to_secret(smtp_username or ""),
        smtp_password=to_secret(smtp_password or ""),
        smtp_from_address=from_address,
        app_namespace=namespace,
        usermgmt_replicas=usermgmt_replicas,  # type: ignore[arg-type]
        usermgmt_image=images["usermgmtImage"],  # type: ignore[arg-type]
        notification_v1_image=images["notificationV1Image"],  # type: ignore[arg-type]
        notification_v2_image=images["notificationV2Image"],  # type: ignore[arg-type]
        kubernetes_version=k8s_version,  # type: ignore[arg-type]
        node_instance_type=instance_type,  # type: ignore[arg-type]
        node_desired_size=node_desired,  # type: ignore[arg-type]
        node_min_size=node_min,  # type: ignore[arg-type]
        node_max_size=node_max,  # type: ignore[arg-type]
        vpc_cidr=vpc_cidr,
        availability_zone_count=az_count,  # type: ignore[arg-type]
        nat_gateway_per_zone=nat_per_zone,  # type: ignore[arg-type]
        db_instance_class=db_class,  # type: ignore[arg-type]
        db_engine_version=db_engine,  # type: ignore[arg-type]
        db_allocated_storage=db_storage,  # type: ignore[arg-type]
        db_backup_retention_days=db_backups,  # type: ignore[arg-type]
        db_multi_az=db_multi_az,  # type: ignore[arg-type]
        db_skip_final_snapshot=db_skip_snapshot,  # type: ignore[arg-type]
        db_deletion_protection=db_protect,  # type: ignore[arg-type]
    )


def load_config() -> StackConfig:
    """Read the stack's config through the Pulumi SDK; bad input stops the run with one message."""
    config = pulumi.Config()
    raw = {key.name: config.get(key.name) for key in KEYS}
    env_secret_keys = set(pulumi.runtime.get_config_secret_keys_env())
    secret_keys = {
        key.name for key in KEYS
        if pulumi.runtime.is_config_secret(config.full_key(key.name))
        or config.full_key(key.name) in env_secret_keys
    }
    try:
        return parse_config(
            raw,
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            region=pulumi.Config("aws").get("region"),
            aws_profile=pulumi.Config("aws").get("profile"),
            secret_keys=secret_keys,
        )
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
