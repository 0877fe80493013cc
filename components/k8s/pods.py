"""Hardened containers and pods, probes and resources, as plain dicts.

Every pod runs as a high non-root UID with a read-only root, no privilege escalation, no
capabilities and the runtime's default seccomp profile: the `restricted` Pod Security Standard.
"""

from __future__ import annotations

from components.k8s.objects import PART_OF, metadata

RUN_AS_UID = 10001  # high, so it maps to no user of the node (checkov CKV_K8S_40)


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


def sleep_before_stop(seconds: int) -> dict:
    """A container `lifecycle` whose preStop waits, with the kubelet's built-in `sleep` action
    (no shell needed; GA in Kubernetes 1.34, KEP-3960): the pod keeps serving while kube-proxy
    and the endpoints controller take it out of its Services."""
    return {"preStop": {"sleep": {"seconds": seconds}}}


def single_pod_deployment(name: str, namespace: str, labels: dict, container: dict,
                          annotations: dict | None, volumes: list[dict]) -> dict:
    """One hardened pod of one container that needs no Kubernetes API token (the local
    platform's Mailpit and Jaeger), with the part-of label on the pods."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": metadata(name, namespace, labels, annotations),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": {**labels, **PART_OF}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security_context(),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
