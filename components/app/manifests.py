"""The canary app as plain Kubernetes objects: plain values in, dicts (as in YAML) out.

What the course deploys (its names, ports, env, probes and annotations), with its
mistakes fixed: one namespace for everything, secrets from Secrets, a version label in each
notification Deployment's selector, an ALB with a health check, hardened pods and
NetworkPolicies. No Pulumi here: the component registers these dicts, and the same builders
render YAML offline.

Values marked `Any` in `AppSpec` may be Pulumi Outputs. They are placed into the dicts as they
are, never formatted or inspected, so a builder never forces or leaks an Output.

The canary weight reaches the objects only through `spec.replicas` of the notification
Deployments (and, with Istio, the VirtualService weights): a weight change rescales pods and
never rolls them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PART_OF = {"app.kubernetes.io/part-of": "eks-canary"}

# ---- names, labels and ports of the course
USERMGMT_DEPLOYMENT = "usermgmt-microservice"
USERMGMT_CONTAINER = "usermgmt-restapp"
USERMGMT_LABELS = {"app": "usermgmt-restapp"}
USERMGMT_PORT = 8095
USERMGMT_SERVICE = "usermgmt-restapp-nodeport-service"
USERMGMT_HEALTH_PATH = "/usermgmt/health-status"

NOTIFICATION_CONTAINER = "notification-service"
NOTIFICATION_LABELS = {"app": "notification-restapp"}
NOTIFICATION_PORT = 8096
NOTIFICATION_SERVICE = "notification-clusterip-service"
# REFERENCE.md names no probe for notification; GET /notification/health-status is the
# notification app's own health endpoint (its NotificationController, X-Ray versions included).
NOTIFICATION_HEALTH_PATH = "/notification/health-status"
VERSIONS = ("v1", "v2")
TRACING_NAMES = {"v1": "V1-Notification-Microservice", "v2": "V2-Notification-Microservice"}

INGRESS_NAME = "eks-microservices-demo-canary"
INGRESS_CLASS = "alb"  # the IngressClass the AWS Load Balancer Controller chart creates
ALB_NAME_MAX = 32
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

DB_SECRET = "mysql-db-password"
DB_SECRET_KEY = "db-password"
SMTP_SECRET = "smtp-credentials"
MYSQL_SERVICE = "mysql"
MYSQL_PORT = 3306
DB_NAME = "usermgmt"
DB_USERNAME = "dbadmin"
SMTP_SERVICE = "smtp-service"
SMTP_PORT = 587
SES_SMTP_PORTS = (25, 587, 465, 2587, 2465)  # every port the SES SMTP endpoint listens on

XRAY_PORT = 2000
XRAY_LABELS = {"app": "xray-daemon"}

INIT_IMAGE = "busybox:1.37.0"
RUN_AS_UID = 10001  # high, so it maps to no user of the node (checkov CKV_K8S_40)
# a scale-down (weight change) must let kube-proxy and the ALB drop a pod before it stops
# taking calls: the pod keeps serving for PRE_STOP_SECONDS after it is marked terminating
PRE_STOP_SECONDS = 15
TERMINATION_GRACE_SECONDS = 45
PROBE_INITIAL_DELAY = 60  # the course's; Spring Boot 2.1 takes tens of seconds to start

ISTIO_NAMESPACE = "istio-system"
ISTIOD_LABELS = {"app": "istiod"}
ISTIOD_PORTS = (15012, 15017)  # xDS + certificates; webhook/injection
ISTIO_SIDECAR_PORTS = (15020, 15021)  # merged status/metrics (rewritten probes); health

_SKIP_KEY = re.compile(r"^checkov\.io/skip\d+$")


@dataclass(frozen=True)
class AppSpec:
    """Everything the app's objects depend on. `Any` fields may be Pulumi Outputs."""

    namespace: str
    usermgmt_image: str
    notification_v1_image: str
    notification_v2_image: str
    usermgmt_replicas: int
    v1_replicas: int
    v2_replicas: int
    region: str  # for smtp-service: email-smtp.<region>.amazonaws.com
    # NetworkPolicy ipBlocks: the ALB's addresses are in the public subnets, RDS and the nodes
    # (kubelet) in the private ones
    public_subnet_cidrs: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    xray_address: Any  # "<svc>.<ns>:2000" from the X-Ray add-on
    xray_namespace: str  # where the X-Ray daemon pods run (NetworkPolicy egress)
    db_address: Any  # RDS address, target of the `mysql` ExternalName Service
    db_password: Any  # secret
    smtp_username: Any  # secret
    smtp_password: Any  # secret
    smtp_from_address: str
    domain_name: str | None  # None -> HTTP only
    certificate_arn: Any | None  # set iff domain_name is set
    name_prefix: str = "eks-canary"  # unique per stack: names the ALB
    istio: bool = False  # canaryStrategy=istio
    canary_weight: int = 50  # only used for the Istio VirtualService weights

    def image(self, version: str) -> str:
        return {"v1": self.notification_v1_image, "v2": self.notification_v2_image}[version]

    def replicas(self, version: str) -> int:
        return {"v1": self.v1_replicas, "v2": self.v2_replicas}[version]


# ---- shared building blocks (also used by the X-Ray add-on)


def metadata(name: str, namespace: str | None = None, labels: dict | None = None,
             annotations: dict | None = None) -> dict:
    """Object metadata with the project's part-of label; empty annotations are left out."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**(labels or {}), **PART_OF}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def checkov_skip_annotations(*skips: tuple[str, str]) -> dict[str, str]:
    """`checkov.io/skipN: CHECK=reason` annotations: a justified exception, on its object."""
    for check, reason in skips:
        if not check or not reason.strip():
            raise ValueError(f"checkov skip {check!r} needs a check id and a reason")
    return {f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in
            enumerate(skips, start=1)}


def checkov_skips(objects: Iterable[dict]) -> list[tuple[str, str, str, str]]:
    """Every checkov exception declared on the objects: (kind, name, check id, reason)."""
    found = []
    for obj in objects:
        annotations = obj.get("metadata", {}).get("annotations", {})
        for key, value in annotations.items():
            if _SKIP_KEY.match(key):
                check, _, reason = value.partition("=")
                found.append((obj["kind"], obj["metadata"]["name"], check, reason))
    return found


def container_security_context(uid: int = RUN_AS_UID) -> dict:
    """Least privilege for one container: no root, no new privileges, no capabilities."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security_context(uid: int = RUN_AS_UID) -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu_request, "memory": memory_request},
            "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def tcp_probe(port: int, *, initial_delay: int, period: int = 10, failures: int = 3) -> dict:
    return {"tcpSocket": {"port": port}, "initialDelaySeconds": initial_delay,
            "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": failures}


def http_probe(path: str, port: int, *, initial_delay: int, period: int = 10,
               failures: int = 3) -> dict:
    return {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": initial_delay,
            "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": failures}


# reasons for the checkov checks the app's pods cannot pass by design
SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "the course's images are pinned by tag as the course names them; the image config keys "
    "also take repo@sha256:<digest> for a digest pin",
)
SKIP_PULL_POLICY = (
    "CKV_K8S_15",
    "images are pinned to release tags; IfNotPresent spares a registry round trip (and "
    "Docker Hub pull limits) at every pod start and scale-up",
)
SKIP_SECRET_ENV = (
    "CKV_K8S_35",
    "the course's apps read credentials only from environment variables; they come from a "
    "Secret by secretKeyRef, never as literals",
)


def _secret_env(name: str, secret: str, key: str) -> dict:
    # not optional (the default): both Secrets always exist, SMTP values may be empty
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _xray_env(spec: AppSpec, tracing_name: str) -> list[dict]:
    return [
        {"name": "AWS_XRAY_TRACING_NAME", "value": tracing_name},
        {"name": "AWS_XRAY_DAEMON_ADDRESS", "value": spec.xray_address},
        # log a missing trace context instead of failing the request (the default)
        {"name": "AWS_XRAY_CONTEXT_MISSING", "value": "LOG_ERROR"},
    ]


def _pre_stop() -> dict:
    return {"preStop": {"exec": {"command": ["/bin/sh", "-c", f"sleep {PRE_STOP_SECONDS}"]}}}


def _java_container(name: str, image: str, port: int, env: list[dict], readiness: dict,
                    liveness: dict) -> dict:
    """A course app container: JVM-sized resources, read-only root with a writable /tmp."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "resources": resources("250m", "512Mi", "1", "1Gi"),
        "readinessProbe": readiness,
        "livenessProbe": liveness,
        "lifecycle": _pre_stop(),
        "securityContext": container_security_context(),
        # Spring Boot's embedded Tomcat and the JVM write to java.io.tmpdir
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _pod_spec(containers: list[dict], init_containers: list[dict] | None = None) -> dict:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,  # the apps never call the Kubernetes API
        # the apps read explicit env; no <SERVICE>_PORT variables for every Service around
        "enableServiceLinks": False,
        "securityContext": pod_security_context(),
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
    }
    if init_containers:
        spec["initContainers"] = init_containers
    spec["containers"] = containers
    spec["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    return spec


def _istio_pod_annotations(spec: AppSpec) -> dict[str, str]:
    if not spec.istio:
        return {}
    # the app starts only once its proxy is ready, so its first calls are not refused
    return {"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}'}


def _deployment(spec: AppSpec, name: str, labels: dict, replicas: int, pod: dict,
                pod_annotations: dict[str, str], skips: tuple[tuple[str, str], ...]) -> dict:
    template_meta: dict[str, Any] = {"labels": {**labels, **PART_OF}}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, spec.namespace, labels, checkov_skip_annotations(*skips)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            # a new pod is ready before an old one goes: rollouts keep full capacity
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": template_meta, "spec": pod},
        },
    }


# ---- the objects, in apply order


RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


def namespace_object(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name, labels=labels)}


def namespace(spec: AppSpec) -> dict:
    """The app's namespace; Istio injects sidecars here when the canary runs on Istio.

    Without Istio the namespace enforces the `restricted` Pod Security Standard, which every
    pod here meets. Istio's sidecar init container needs NET_ADMIN, so with Istio the standard
    is only warned about.
    """
    labels = {"istio-injection": "enabled", "pod-security.kubernetes.io/warn": "restricted"} \
        if spec.istio else RESTRICTED
    return namespace_object(spec.namespace, labels)


def secrets(spec: AppSpec) -> list[dict]:
    """The only objects that hold secret values; the pods read them by secretKeyRef."""
    def secret(name: str, data: dict) -> dict:
        return {"apiVersion": "v1", "kind": "Secret",
                "metadata": metadata(name, spec.namespace), "type": "Opaque",
                "stringData": data}

    return [
        secret(DB_SECRET, {DB_SECRET_KEY: spec.db_password}),
        # always present (values may be empty): the notification pods start without SES
        secret(SMTP_SECRET, {"username": spec.smtp_username, "password": spec.smtp_password}),
    ]


def smtp_host(region: str) -> str:
    return f"email-smtp.{region}.amazonaws.com"


def external_services(spec: AppSpec) -> list[dict]:
    """DNS aliases the apps connect to: `mysql` (the RDS endpoint) and `smtp-service` (SES)."""
    def external(name: str, target: Any, port: int, port_name: str) -> dict:
        return {
            "apiVersion": "v1", "kind": "Service",
            "metadata": metadata(name, spec.namespace),
            "spec": {
                "type": "ExternalName",
                "externalName": target,
                # MySQL and SMTP speak first from the server: declared TCP so that Istio does
                # not wait for the client to sniff the protocol
                "ports": [{"name": port_name, "port": port, "targetPort": port,
                           "protocol": "TCP", "appProtocol": "tcp"}],
            },
        }

    return [
        external(MYSQL_SERVICE, spec.db_address, MYSQL_PORT, "tcp-mysql"),
        external(SMTP_SERVICE, smtp_host(spec.region), SMTP_PORT, "tcp-smtp"),
    ]


def _http_port(port: int) -> dict:
    # named and typed, so Istio routes it as HTTP
    return {"name": "http", "port": port, "targetPort": port, "protocol": "TCP",
            "appProtocol": "http"}


def notification_service(spec: AppSpec) -> dict:
    """Selects only the app label: the pods of both versions, which is the replica canary."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(NOTIFICATION_SERVICE, spec.namespace, NOTIFICATION_LABELS),
        "spec": {"type": "ClusterIP", "selector": dict(NOTIFICATION_LABELS),
                 "ports": [_http_port(NOTIFICATION_PORT)]},
    }


def usermgmt_service(spec: AppSpec) -> dict:
    """The Ingress backend; the ALB's health check path is set here, per target group."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(USERMGMT_SERVICE, spec.namespace, USERMGMT_LABELS, {
            "alb.ingress.kubernetes.io/healthcheck-path": USERMGMT_HEALTH_PATH}),
        "spec": {"type": "NodePort", "selector": dict(USERMGMT_LABELS),
                 "ports": [_http_port(USERMGMT_PORT)]},
    }


def usermgmt(spec: AppSpec) -> dict:
    """User management: waits for MySQL, then serves the public API and calls notification."""
    env = [
        {"name": "DB_HOSTNAME", "value": MYSQL_SERVICE},
        {"name": "DB_PORT", "value": str(MYSQL_PORT)},
        {"name": "DB_NAME", "value": DB_NAME},
        {"name": "DB_USERNAME", "value": DB_USERNAME},
        _secret_env("DB_PASSWORD", DB_SECRET, DB_SECRET_KEY),
        {"name": "NOTIFICATION_SERVICE_HOST", "value": NOTIFICATION_SERVICE},
        {"name": "NOTIFICATION_SERVICE_PORT", "value": str(NOTIFICATION_PORT)},
        *_xray_env(spec, "User-Management-Microservice"),
    ]
    init_db = {
        "name": "init-db",
        "image": INIT_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c",
                    f"until nc -z {MYSQL_SERVICE} {MYSQL_PORT}; "
                    "do echo waiting for mysql; sleep 2; done"],
        "resources": resources("10m", "16Mi", "100m", "32Mi"),
        "securityContext": container_security_context(),
    }
    container = _java_container(
        USERMGMT_CONTAINER, spec.usermgmt_image, USERMGMT_PORT, env,
        readiness=http_probe(USERMGMT_HEALTH_PATH, USERMGMT_PORT,
                             initial_delay=PROBE_INITIAL_DELAY),
        liveness=tcp_probe(USERMGMT_PORT, initial_delay=PROBE_INITIAL_DELAY, failures=6))
    annotations = _istio_pod_annotations(spec)
    if spec.istio:
        # MySQL traffic bypasses the proxy: RDS is outside the mesh, and MySQL speaks first,
        # which protocol sniffing would stall. With native sidecars (the default of Istio 1.27+
        # on Kubernetes >= 1.33) the proxy runs before init containers, so init-db's
        # `nc mysql 3306` would otherwise go through it too.
        annotations["traffic.sidecar.istio.io/excludeOutboundPorts"] = str(MYSQL_PORT)
    return _deployment(spec, USERMGMT_DEPLOYMENT, USERMGMT_LABELS, spec.usermgmt_replicas,
                       _pod_spec([container], [init_db]), annotations,
                       (SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY, SKIP_SECRET_ENV))


def notification_labels(version: str) -> dict[str, str]:
    """Pod labels of one version: the Service's app label plus the version the Deployment owns."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    return {**NOTIFICATION_LABELS, "version": version}


def notification(spec: AppSpec, version: str) -> dict:
    """Notification V1 or V2: same app, its own image, tracing name and pod count."""
    labels = notification_labels(version)
    env = [
        {"name": "AWS_MAIL_SERVER_HOST", "value": SMTP_SERVICE},
        _secret_env("AWS_MAIL_SERVER_USERNAME", SMTP_SECRET, "username"),
        _secret_env("AWS_MAIL_SERVER_PASSWORD", SMTP_SECRET, "password"),
        {"name": "AWS_MAIL_SERVER_FROM_ADDRESS", "value": spec.smtp_from_address},
        *_xray_env(spec, TRACING_NAMES[version]),
    ]
    container = _java_container(
        NOTIFICATION_CONTAINER, spec.image(version), NOTIFICATION_PORT, env,
        readiness=http_probe(NOTIFICATION_HEALTH_PATH, NOTIFICATION_PORT,
                             initial_delay=PROBE_INITIAL_DELAY),
        liveness=tcp_probe(NOTIFICATION_PORT, initial_delay=PROBE_INITIAL_DELAY, failures=6))
    return _deployment(spec, f"{version}-notification-microservice", labels,
                       spec.replicas(version), _pod_spec([container]),
                       _istio_pod_annotations(spec),
                       (SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY, SKIP_SECRET_ENV))


def load_balancer_name(name_prefix: str) -> str:
    """The stack's name prefix (unique per stack and account) within the ALB's 32 characters,
    not ending in a hyphen."""
    return name_prefix[:ALB_NAME_MAX].rstrip("-")


def ingress(spec: AppSpec) -> dict:
    """The public entry: an internet-facing ALB sending `/` to user management's pods."""
    annotations: dict[str, Any] = {
        "alb.ingress.kubernetes.io/load-balancer-name": load_balancer_name(spec.name_prefix),
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        # targets are pod IPs: the ALB skips the NodePort hop and sees real pod health
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-protocol": "HTTP",
        "alb.ingress.kubernetes.io/healthcheck-port": "traffic-port",
        "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "15",
        "alb.ingress.kubernetes.io/healthcheck-timeout-seconds": "5",
        "alb.ingress.kubernetes.io/success-codes": "200",
        "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
        "alb.ingress.kubernetes.io/unhealthy-threshold-count": "2",
        # within the pods' preStop sleep + grace period: in-flight calls finish
        "alb.ingress.kubernetes.io/target-group-attributes":
            "deregistration_delay.timeout_seconds=30",
    }
    if spec.domain_name is not None:
        annotations |= {
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}, {"HTTP":80}]',
            "alb.ingress.kubernetes.io/certificate-arn": spec.certificate_arn,
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/ssl-policy": ALB_SSL_POLICY,
            "external-dns.alpha.kubernetes.io/hostname": spec.domain_name,
        }
    else:
        annotations["alb.ingress.kubernetes.io/listen-ports"] = '[{"HTTP":80}]'
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(INGRESS_NAME, spec.namespace, annotations=annotations),
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [{"http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": USERMGMT_SERVICE,
                                        "port": {"number": USERMGMT_PORT}}},
            }]}}],
        },
    }


def ports(numbers: Iterable[int], protocols: Iterable[str] = ("TCP",)) -> list[dict]:
    return [{"protocol": protocol, "port": number} for number in numbers for protocol in protocols]


def in_namespace(name: str, pod_labels: dict) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}},
            "podSelector": {"matchLabels": dict(pod_labels)}}


def dns_egress() -> dict:
    """Egress to the cluster DNS (kube-dns pods in kube-system), UDP and TCP 53."""
    return {"to": [in_namespace("kube-system", {"k8s-app": "kube-dns"})],
            "ports": ports([53], ("UDP", "TCP"))}


APP_PODS = {"matchExpressions": [{
    "key": "app", "operator": "In",
    "values": [USERMGMT_LABELS["app"], NOTIFICATION_LABELS["app"]]}]}


def network_policies(spec: AppSpec) -> list[dict]:
    """Default deny, then exactly the flows the app needs (enforced by the VPC CNI on EKS).

    Kubelet probes come from the node's IP, which the VPC CNI's policy agent always admits.
    """
    def policy(name: str, pod_selector: dict, ingress_rules: list | None,
               egress_rules: list | None) -> dict:
        body: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": []}
        if ingress_rules is not None:
            body["policyTypes"].append("Ingress")
            body["ingress"] = ingress_rules
        if egress_rules is not None:
            body["policyTypes"].append("Egress")
            body["egress"] = egress_rules
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": metadata(name, spec.namespace), "spec": body}

    public = [{"ipBlock": {"cidr": cidr}} for cidr in spec.public_subnet_cidrs]
    private = [{"ipBlock": {"cidr": cidr}} for cidr in spec.private_subnet_cidrs]
    usermgmt_pods = {"matchLabels": dict(USERMGMT_LABELS)}
    notification_pods = {"matchLabels": dict(NOTIFICATION_LABELS)}
    policies = [
        policy("default-deny-all", {}, [], []),
        policy("allow-dns-egress", {}, None, [dns_egress()]),
        policy("allow-xray-egress", APP_PODS, None, [{
            "to": [in_namespace(spec.xray_namespace, XRAY_LABELS)],
            "ports": ports([XRAY_PORT], ("UDP", "TCP"))}]),
        policy("usermgmt", usermgmt_pods,
               # the ALB sends to pod IPs (target-type ip) from its public-subnet addresses
               [{"from": public, "ports": ports([USERMGMT_PORT])}],
               [{"to": [{"podSelector": notification_pods}],
                 "ports": ports([NOTIFICATION_PORT])},
                # RDS, reached through the `mysql` ExternalName, is in the private subnets
                {"to": private, "ports": ports([MYSQL_PORT])}]),
        policy("notification", notification_pods,
               [{"from": [{"podSelector": usermgmt_pods}],
                 "ports": ports([NOTIFICATION_PORT])}],
               # SES SMTP endpoints have public addresses that change
               [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                 "ports": ports(SES_SMTP_PORTS)}]),
    ]
    if spec.istio:
        policies.append(policy(
            "allow-istio-sidecar", APP_PODS,
            # the sidecar's status port (probes are rewritten to 15020) and health port
            [{"from": private, "ports": ports(ISTIO_SIDECAR_PORTS)}],
            [{"to": [in_namespace(ISTIO_NAMESPACE, ISTIOD_LABELS)],
              "ports": ports(ISTIOD_PORTS)}]))
    return policies


def notification_host(namespace_name: str) -> str:
    return f"{NOTIFICATION_SERVICE}.{namespace_name}.svc.cluster.local"


def istio_routing(spec: AppSpec) -> list[dict]:
    """Exact weights per request: subsets by version label, a mesh VirtualService over them."""
    weight = spec.canary_weight
    if not 0 <= weight <= 100:
        raise ValueError(f"canary_weight must be 0..100, got {weight}")
    host = notification_host(spec.namespace)
    destination_rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": metadata("notification", spec.namespace),
        "spec": {"host": host,
                 "subsets": [{"name": v, "labels": {"version": v}} for v in VERSIONS]},
    }
    virtual_service = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": metadata("notification", spec.namespace),
        "spec": {
            "hosts": [host],  # no gateways: applies to calls inside the mesh
            "http": [{"route": [
                # both destinations stay, also at weight 0: Istio accepts it
                {"destination": {"host": host, "subset": "v1",
                                 "port": {"number": NOTIFICATION_PORT}},
                 "weight": 100 - weight},
                {"destination": {"host": host, "subset": "v2",
                                 "port": {"number": NOTIFICATION_PORT}},
                 "weight": weight},
            ]}],
        },
    }
    return [destination_rule, virtual_service]


def build_app(spec: AppSpec) -> list[dict]:
    """All of the app's objects, in apply order."""
    objects = [
        namespace(spec),
        *secrets(spec),
        *external_services(spec),
        notification_service(spec),
        usermgmt_service(spec),
        usermgmt(spec),
        *(notification(spec, version) for version in VERSIONS),
        ingress(spec),
        *network_policies(spec),
    ]
    if spec.istio:
        objects += istio_routing(spec)
    return objects
