"""The public entry: an internet-facing ALB (AWS Load Balancer Controller) to user management."""

from __future__ import annotations

from typing import Any

from components.app.names import INGRESS_NAME, USERMGMT_PORT, USERMGMT_SERVICE
from components.app.spec import AppSpec
from components.k8s.objects import metadata
from components.naming import ALB_MAX, shorten

INGRESS_CLASS = "alb"  # the IngressClass the AWS Load Balancer Controller chart creates
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def load_balancer_name(name_prefix: str) -> str:
    """The stack's name prefix (unique per stack and account) within the ALB's 32 characters;
    a longer one is cut and ends in a hash of all of it (see `components.naming`)."""
    return shorten(name_prefix, ALB_MAX)


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
