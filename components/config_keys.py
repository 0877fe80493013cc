"""The stack config's keys: name, Pulumi.yaml type, default and description, in one table.

Core. `Pulumi.yaml` declares the same keys for the Pulumi CLI (a test keeps the two in step);
`config` reads and validates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STRATEGIES = ("replicas", "istio", "lattice")
# where the stack runs: AWS (VPC, EKS, RDS, ...), or any Kubernetes cluster of a kubeconfig
TARGETS = ("aws", "local")
# what receives the apps' X-Ray segments at xray-service.xray:2000 (components/addons/tracing.py)
TRACING_MODES = ("xray-daemon", "otel")

# Pinned defaults: the images of the course this project reimplements (see README).
USERMGMT_IMAGE = "stacksimplify/kube-usermanagement-microservice:3.0.0-AWS-XRay-MySQLDB"
NOTIFICATION_V1_IMAGE = "stacksimplify/kube-notifications-microservice:3.0.0-AWS-XRay"
NOTIFICATION_V2_IMAGE = "stacksimplify/kube-notifications-microservice:4.0.0-AWS-XRay"


@dataclass(frozen=True)
class Key:
    """One config key: its name, Pulumi.yaml type, default and description."""

    name: str
    type: str  # "integer" | "string" | "boolean" | "array" (of strings), as in Pulumi.yaml
    default: Any
    description: str
    secret: bool = False


KEYS: tuple[Key, ...] = (
    Key("target", "string", "aws",
        "Where the stack runs: 'aws' (VPC, EKS, RDS, ACM and the AWS add-ons) or 'local' (any "
        "Kubernetes cluster from a kubeconfig context: kind, k3d, minikube, Docker Desktop; "
        "MySQL and tracing in the cluster, no AWS at all)."),
    Key("kubeContext", "string", "",
        "target 'local' only: the kubeconfig context of the cluster (KUBECONFIG is honoured). "
        "Empty: the current context."),
    Key("canaryWeight", "integer", 50,
        "Percent of notification calls served by V2 (0..100)."),
    Key("notificationReplicas", "integer", 4,
        "Notification pods in total, split between V1 and V2 (>= 1)."),
    Key("canaryStrategy", "string", "replicas",
        "How the split is made: 'replicas' (kube-proxy spreads over the V1/V2 pods), "
        "'istio' (exact weights by an Istio VirtualService) or 'lattice' (exact weights by "
        "a VPC Lattice service, from a Gateway API HTTPRoute)."),
    Key("tracing", "string", "xray-daemon",
        "What receives the apps' X-Ray segments at xray-service.xray:2000: 'xray-daemon' (the "
        "AWS X-Ray daemon; AWS ends its support on 2027-02-25) or 'otel' (an OpenTelemetry "
        "collector, AWS Distro for OpenTelemetry, with the awsxray receiver and exporter). With "
        "target 'local' either value runs the collector, which sends to Jaeger in the cluster."),
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
    Key("usermgmtReplicas", "integer", 2,
        "User-management pods (>= 1), spread over zones; 2 keep one serving through a node drain."),
    Key("usermgmtImage", "string", USERMGMT_IMAGE, "User-management image, pinned by tag."),
    Key("notificationV1Image", "string", NOTIFICATION_V1_IMAGE,
        "Notification V1 image, pinned by tag."),
    Key("notificationV2Image", "string", NOTIFICATION_V2_IMAGE,
        "Notification V2 image, pinned by tag."),
    Key("kubernetesVersion", "string", "1.35",
        "EKS Kubernetes version in EKS standard support (1.35 until 2027-03-27; 1.33 and 1.34 "
        "have ended). A newer 1.NN needs vpcCniVersion, kubeProxyVersion and corednsVersion set."),
    Key("vpcCniVersion", "string", "",
        "EKS add-on vpc-cni version (v1.N.N-eksbuild.N). Empty: the version pinned for "
        "kubernetesVersion."),
    Key("kubeProxyVersion", "string", "",
        "EKS add-on kube-proxy version, matching kubernetesVersion. Empty: the pinned one."),
    Key("corednsVersion", "string", "",
        "EKS add-on coredns version. Empty: the version pinned for kubernetesVersion."),
    Key("clusterAdmins", "array", [],
        "IAM role or user ARNs that get cluster-admin access (EKS access entries) besides the "
        "identity that creates the cluster; set with `pulumi config set --path "
        "'clusterAdmins[0]' arn:aws:iam::123456789012:role/admin`."),
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

# Keys that mean something only on AWS: with target 'local' each must keep its default.
AWS_ONLY: frozenset[str] = frozenset({
    "domainName", "hostedZoneName", "certificateArn", "smtpUsername", "smtpPassword",
    "kubernetesVersion", "vpcCniVersion", "kubeProxyVersion", "corednsVersion", "clusterAdmins",
    "nodeInstanceType", "nodeDesiredSize", "nodeMinSize", "nodeMaxSize", "vpcCidr",
    "availabilityZoneCount", "natGatewayPerZone", "dbInstanceClass", "dbEngineVersion",
    "dbAllocatedStorage", "dbBackupRetentionDays", "dbMultiAz", "dbSkipFinalSnapshot",
    "dbDeletionProtection",
})
# Keys that mean something only on a local cluster: with target 'aws' each keeps its default.
LOCAL_ONLY: frozenset[str] = frozenset({"kubeContext"})
# strategies that need AWS (VPC Lattice)
AWS_ONLY_STRATEGIES = ("lattice",)
# Values for other namespaces' keys, declared in Pulumi.yaml as `value:` (no type or default:
# the Pulumi CLI allows only a value for a key that is not the project's, pulumi/pulumi
# sdk/go/common/workspace/project.go Validate). The CLI gives every stack that does not set the
# key this value (pkg/workspace/config.go mergeConfig); a stack's own setting wins.
PROJECT_VALUES: dict[str, tuple[str, str]] = {
    "aws:region": ("us-east-1", "Where everything runs on AWS. Every stack gets this value "
                                "unless it sets its own (`pulumi config set aws:region ...`)."),
}
