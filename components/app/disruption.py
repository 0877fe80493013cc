"""How the app's pods survive voluntary disruption (node drains, node group updates), as dicts.

- PodDisruptionBudgets of `maxUnavailable: 1` wherever a Deployment can run more than one pod:
  a drain then evicts one pod of it at a time and waits for its replacement to be ready. A
  notification version's budget exists whenever `notificationReplicas` > 1, whatever the
  weight: at 0 or 1 pod it is a no-op (one unavailable pod is always allowed), so a weight
  change adds or removes no object and still changes only the Deployments' `spec.replicas`.
  `minAvailable` would block the drain of a one-pod version, or change with the weight.
- Not-ready pods may always be evicted (`unhealthyPodEvictionPolicy: AlwaysAllow`, stable
  since Kubernetes 1.31): a crash-looping pod cannot hold a node drain forever.
- User management spreads over zones and nodes, as a preference (`ScheduleAnyway`): with two
  nodes in two zones, a pod evicted from a drained node must be able to start in the other
  zone, which a required spread (maxSkew 1, the cordoned node still counting as a domain under
  the default nodeTaintsPolicy Ignore) would refuse; the budget keeps the other pod serving.
"""

from __future__ import annotations

from components.app.names import (
    USERMGMT_DEPLOYMENT,
    USERMGMT_LABELS,
    VERSIONS,
    notification_labels,
    notification_name,
)
from components.app.spec import AppSpec
from components.k8s.objects import metadata

SPREAD_KEYS = ("topology.kubernetes.io/zone", "kubernetes.io/hostname")


def spread(labels: dict[str, str]) -> list[dict]:
    """Pods with these labels spread over zones, then nodes; preferred, never blocking."""
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": dict(labels)}} for key in SPREAD_KEYS]


def budget(spec: AppSpec, name: str, labels: dict[str, str]) -> dict:
    """At most one pod of `labels` evicted at a time (named after its Deployment)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, spec.namespace, labels),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(labels)},
                 "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }


def budgets(spec: AppSpec) -> list[dict]:
    """A budget per Deployment that can run more than one pod (independent of the weight)."""
    found = []
    if spec.usermgmt_replicas > 1:
        found.append(budget(spec, USERMGMT_DEPLOYMENT, USERMGMT_LABELS))
    if spec.notification_replicas > 1:
        found += [budget(spec, notification_name(v), notification_labels(v)) for v in VERSIONS]
    return found
