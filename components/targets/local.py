"""`target: local`: any Kubernetes cluster of a kubeconfig context, with no AWS at all.

What AWS gives the app elsewhere runs in the cluster: MySQL 8.4 (a StatefulSet on the default
StorageClass) for RDS, Mailpit for SES, the OpenTelemetry collector and Jaeger for X-Ray, and
Istio when chosen. No Ingress and no LoadBalancer Service: `kubectl port-forward` reaches user
management on every local distribution, so `pulumi up` never waits for an address.
"""

from __future__ import annotations

import os
import shlex
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.addons.istio import Istio
from components.addons.local_tracing import JAEGER, local_tracing_objects
from components.addons.local_tracing import UI_PORT as TRACE_UI_PORT
from components.addons.otel_collector import OtelCollectorProps
from components.addons.tracing import endpoint as tracing_endpoint
from components.addons.xray_manifests import xray_address
from components.app.names import (
    NOTIFICATION_LABELS,
    USERMGMT_LABELS,
    USERMGMT_PORT,
    USERMGMT_SERVICE,
)
from components.config import StackConfig
from components.k8s.network_policy import in_namespace
from components.platform import local_mail, local_mysql
from components.platform.in_cluster import InClusterService, InClusterServiceArgs
from components.platform.local_mail import SMTP_PORT, mail_host, mail_objects
from components.platform.local_mail import UI_PORT as MAIL_UI_PORT
from components.platform.local_mysql import mysql_address, mysql_objects
from components.seam import (
    AppServices,
    DatabaseEndpoint,
    Exposure,
    MailEndpoint,
)
from components.targets.base import Platform

MYSQL_NAMESPACE = "mysql"
MAIL_NAMESPACE = "mail"
TRACING_NAMESPACE = OtelCollectorProps().namespace  # `xray`, as on AWS
NAMESPACES = (MYSQL_NAMESPACE, MAIL_NAMESPACE, TRACING_NAMESPACE)  # besides the app's
# the Java pods' memory request on a laptop cluster (their limit and JVM bounds stay): the
# default stack then asks for less than 4 GiB (tests/test_local.py, `memory_requests`)
JAVA_MEMORY_REQUEST_MIB = 512
LOCAL_URL = f"http://localhost:{USERMGMT_PORT}"
# Not secrets: Mailpit offers no AUTH, so JavaMail never sends them. They must not be empty:
# the course's MailConfig always sets mail.smtp.auth=true, Spring's JavaMailSenderImpl turns ""
# into null, and JavaMail 1.4.7 then refuses to connect at all (SMTPTransport.protocolConnect:
# `if (useAuth && (user == null || passwd == null)) return false`).
MAIL_PLACEHOLDER_CREDENTIALS = ("mailpit", "no-auth-offered")


def port_forward(context: str | None, namespace: str, service: str, port: int) -> str:
    """The `kubectl port-forward` command that reaches a Service on localhost:port."""
    command = ["kubectl", *(["--context", context] if context else []), "-n", namespace,
               "port-forward", f"service/{service}", f"{port}:{port}"]
    return shlex.join(command)


def app_services(cfg: StackConfig, db_password: Any) -> AppServices:
    """What the app gets on a local cluster; pure, so `canaryctl render` builds it too."""
    return AppServices(
        database=DatabaseEndpoint(
            mysql_address(MYSQL_NAMESPACE), db_password,
            (in_namespace(MYSQL_NAMESPACE, local_mysql.LABELS),)),
        mail=MailEndpoint(mail_host(MAIL_NAMESPACE), *MAIL_PLACEHOLDER_CREDENTIALS,
                          (in_namespace(MAIL_NAMESPACE, local_mail.LABELS),), (SMTP_PORT,)),
        # the collector, as `tracing: otel` runs it on AWS (address and shared labels)
        tracing=tracing_endpoint("otel"),
        # reached by port-forward, from inside the pod: no peer to admit
        exposure=Exposure(load_balancer=False, url=LOCAL_URL),
        # kubelet probes come from the node, which local policy engines admit: kube-router
        # accepts traffic "from local node" (pkg/controllers/netpol/pod.go), kindnet's
        # kube-network-policies accepts root-owned traffic (`meta skuid 0 accept`), Calico
        # accepts host-to-workload traffic
        node_peers=(),
        java_memory_request_mib=JAVA_MEMORY_REQUEST_MIB,
    )


def backing_objects(cfg: StackConfig, db_password: Any) -> dict[str, list[dict]]:
    """The objects of each in-cluster service, by component (also what `canaryctl render`
    writes for a local stack)."""
    app_ns = cfg.app_namespace
    return {
        "mysql": mysql_objects(MYSQL_NAMESPACE, db_password,
                               [in_namespace(app_ns, USERMGMT_LABELS)]),
        "mailpit": mail_objects(MAIL_NAMESPACE, [in_namespace(app_ns, NOTIFICATION_LABELS)]),
        "tracing": local_tracing_objects(TRACING_NAMESPACE),
    }


def kubeconfig_problem(kubeconfig_env: str | None) -> str | None:
    """Why KUBECONFIG cannot serve, or None. The SDK passes KUBECONFIG to the provider as its
    `kubeconfig` (pulumi_kubernetes/provider.py), which reads it as one file's path, or else as
    kubeconfig text (provider/pkg/provider/util.go, parseKubeconfigString): a list of files,
    which kubectl merges, would leave the cluster "unreachable"."""
    if kubeconfig_env and os.pathsep in kubeconfig_env.strip():
        return (f"KUBECONFIG lists several files ({kubeconfig_env}); pulumi-kubernetes reads "
                f"one: merge them (`kubectl config view --flatten > ~/.kube/merged && export "
                f"KUBECONFIG=~/.kube/merged`) or export KUBECONFIG=<the file with the cluster>")
    return None


def build(cfg: StackConfig) -> Platform:
    """The provider of the kubeconfig context, MySQL, Mailpit, tracing and (maybe) Istio."""
    if (problem := kubeconfig_problem(os.environ.get("KUBECONFIG"))) is not None:
        raise pulumi.RunError(problem)
    # no kubeconfig given: the provider reads KUBECONFIG or ~/.kube/config, and `context`
    # picks a context there (pulumi-kubernetes provider.go, client-go loading rules)
    provider = k8s.Provider("local-cluster", context=cfg.kube_context)
    if cfg.db_password is not None:
        db_password: pulumi.Output[str] = pulumi.Output.secret(cfg.db_password)
    else:
        db_password = pulumi.Output.secret(random.RandomPassword(
            "mysql-password", length=32, special=False).result)

    services = [InClusterService(name, InClusterServiceArgs(objects, provider))
                for name, objects in backing_objects(cfg, db_password).items()]
    istio = Istio("istio", provider) if cfg.canary_strategy == "istio" else None

    context, app_ns = cfg.kube_context, cfg.app_namespace
    return Platform(
        provider=provider,
        services=app_services(cfg, db_password),
        app_depends_on=[*(r for service in services for r in service.installed),
                        *([istio.istiod] if istio is not None else [])],
        outputs={
            "target": "local",
            "portForward": port_forward(context, app_ns, USERMGMT_SERVICE, USERMGMT_PORT),
            "traceUi": f"http://localhost:{TRACE_UI_PORT}",
            "traceUiPortForward": port_forward(context, TRACING_NAMESPACE, JAEGER,
                                               TRACE_UI_PORT),
            "mailUi": f"http://localhost:{MAIL_UI_PORT}",
            "mailUiPortForward": port_forward(context, MAIL_NAMESPACE, local_mail.NAME,
                                              MAIL_UI_PORT),
            "xrayDaemonAddress": xray_address(TRACING_NAMESPACE),
        })
