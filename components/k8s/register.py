"""Register plain Kubernetes object dicts (from the pure builders) as typed Pulumi resources.

One place maps apiVersion/kind to the pulumi-kubernetes class, so the builders stay plain data
(renderable to YAML offline) and every object gets the same options: the cluster's provider,
never the ambient kubeconfig.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_CLASSES: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "DaemonSet"): k8s.apps.v1.DaemonSet,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}
_WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")
# top-level fields besides apiVersion/kind, as the typed classes name their arguments
_FIELDS = {"metadata": "metadata", "spec": "spec", "data": "data", "stringData": "string_data",
           "type": "type", "automountServiceAccountToken": "automount_service_account_token"}


def logical_name(obj: dict[str, Any]) -> str:
    """Stable Pulumi name: kind and object name (namespace is one per stack for app objects)."""
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}"


def register(objects: Iterable[dict[str, Any]], opts: pulumi.ResourceOptions,
             prefix: str = "",
             names: Mapping[str, str] | None = None) -> dict[str, pulumi.CustomResource]:
    """Create one resource per object; returns them by logical name.

    Objects listed after a Namespace depend on it, so they are created after it (and deleted
    before it, instead of racing the namespace's own cascade). A workload whose pods name a
    ServiceAccount listed before it depends on that account: EKS's pod identity webhook reads
    the account's role annotation when a pod is created, so a pod made before its account
    would run without the role's credentials. `names` fixes the Pulumi name of some objects
    (keyed by `logical_name`, without prefix), for objects that keep one URN while another
    component registers them.
    """
    created: dict[str, pulumi.CustomResource] = {}
    accounts: dict[tuple[str | None, str], pulumi.CustomResource] = {}
    for obj in objects:
        namespaces = [r for r in created.values() if isinstance(r, k8s.core.v1.Namespace)]
        if namespaces:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=namespaces))
        name = (names or {}).get(logical_name(obj)) or prefix + logical_name(obj)
        account_key = _service_account_of(obj)
        account = accounts.get(account_key) if account_key is not None else None
        obj_opts = opts if account is None else pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[account]))
        cls = _CLASSES.get((obj["apiVersion"], obj["kind"]))
        if cls is None:  # custom resources (Istio routing)
            created[name] = k8s.apiextensions.CustomResource(
                name, api_version=obj["apiVersion"], kind=obj["kind"],
                metadata=obj["metadata"], spec=obj.get("spec"), opts=obj_opts)
            continue
        unknown = set(obj) - set(_FIELDS) - {"apiVersion", "kind"}
        if unknown:
            raise ValueError(f"{name}: fields {sorted(unknown)} are not mapped")
        kwargs = {_FIELDS[key]: value for key, value in obj.items() if key in _FIELDS}
        created[name] = cls(name, opts=obj_opts, **kwargs)
        if obj["kind"] == "ServiceAccount":
            accounts[_key(obj["metadata"], obj["metadata"]["name"])] = created[name]
    return created


def _key(meta: dict[str, Any], name: str) -> tuple[str | None, str]:
    return meta.get("namespace"), name


def _service_account_of(obj: dict[str, Any]) -> tuple[str | None, str] | None:
    """(namespace, name) of the ServiceAccount a workload's pods run as; None otherwise."""
    if obj["kind"] not in _WORKLOADS:
        return None
    account = obj["spec"]["template"]["spec"].get("serviceAccountName")
    return None if account is None else _key(obj["metadata"], account)
