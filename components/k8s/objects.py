"""Object metadata and namespaces, as plain dicts: every object carries the part-of label."""

from __future__ import annotations

from typing import Any

PART_OF = {"app.kubernetes.io/part-of": "eks-canary"}
# namespace label enforcing the `restricted` Pod Security Standard
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}
# the service-account annotation EKS's pod identity webhook reads for IRSA
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


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


def service_host(name: str, namespace: str) -> str:
    """A Service's DNS name inside the cluster (its cluster domain, `cluster.local`)."""
    return f"{name}.{namespace}.svc.cluster.local"


def namespace_object(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name, labels=labels)}
