"""After the last destroy and `stack rm`: is anything of the stack still there?

local: through `kubectl --context C get ... -o json`. The stack's namespaces (the app's,
`mysql`, `mail`, `xray`, and `istio-system` with Istio) must be gone, with every
PersistentVolumeClaim in them (MySQL's volumeClaimTemplate makes them; the StatefulSet's
retention policy and the namespace's deletion remove them) and every PersistentVolume bound to
one. A cluster-scoped
object counts as the stack's when it was not there before the stack was made and either
carries `app.kubernetes.io/managed-by: pulumi` (pulumi-kubernetes sets it under client-side
apply only: provider/pkg/provider/provider.go `Check`, metadata.TrySetManagedByLabel) or has a
`pulumi-kubernetes-*` field manager (server-side apply, the provider's default since v4:
provider.go `fieldManagerName`), or has `istio` in its name (Istio's CRDs, webhooks and
ClusterRoles). Deleting a namespace takes a while (Terminating): poll until a deadline.

aws: the Resource Groups Tagging API's GetResources with TagFilters Project=<project>,
Stack=<stack> (components/tags.py), paginated. GetResources "returns all the tagged or
previously tagged resources" (API reference, GetResources; botocore's service model says the
same): a deleted resource can stay listed for a while, so the query is repeated until it is
empty or a deadline passes. EC2 still describes what it has deleted: "terminated instances
remain visible after termination (for approximately one hour)" (EC2 API reference,
TerminateInstances), and a NAT gateway in state `deleted` "has been terminated" (botocore's
EC2 model, NatGateway.State); those count as gone at once, as does an EC2 id that is
`*.NotFound`. RDS snapshots (the final snapshot of each destroy, tagged through the instance's
copy_tags_to_snapshot) are left on purpose and listed for the user to delete.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterable
from typing import Any

from components.naming import AwsNames
from tests.live.lifecycle import Leftovers, LifeCycleError, Record, log_to_stdout

MANAGED_BY = "app.kubernetes.io/managed-by"


def run_kubectl(args: list[str]) -> str:
    proc = subprocess.run(["kubectl", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LifeCycleError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()[-800:]}")
    return proc.stdout


def pulumi_made(obj: dict[str, Any]) -> bool:
    """Made by pulumi-kubernetes (label or field manager), or one of Istio's."""
    meta = obj.get("metadata") or {}
    managers = [m.get("manager", "") for m in meta.get("managedFields") or []]
    return ((meta.get("labels") or {}).get(MANAGED_BY) == "pulumi"
            or any(m.startswith("pulumi-kubernetes") for m in managers)
            or "istio" in meta.get("name", ""))


def object_key(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind', '?')} {obj.get('metadata', {}).get('name', '?')}"


class LocalLeftovers:
    """The stack's namespaces, PVCs, PVs and cluster-scoped objects on one kubeconfig context."""

    def __init__(self, context: str, namespaces: Iterable[str],
                 kubectl: Callable[[list[str]], str] = run_kubectl, wait_s: float = 600.0,
                 poll_s: float = 5.0, log: Callable[[str], None] = log_to_stdout,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.context, self.namespaces = context, sorted(set(namespaces))
        self.kubectl, self.wait_s, self.poll_s, self.log = kubectl, wait_s, poll_s, log
        self.sleep, self.monotonic = sleep, monotonic
        self.baseline: set[str] = set()

    def items(self, *what: str) -> list[dict[str, Any]]:
        text = self.kubectl(["--context", self.context, "get", *what, "-o", "json"])
        return list(json.loads(text).get("items") or [])

    def cluster_objects(self) -> set[str]:
        """Cluster-scoped objects that pulumi-kubernetes made (or Istio's), as "Kind name"."""
        kinds = self.kubectl(["--context", self.context, "api-resources", "--namespaced=false",
                              "--verbs=list", "-o", "name"]).split()
        found: set[str] = set()
        for kind in kinds:
            try:
                objects = self.items(kind)
            except LifeCycleError as exc:  # e.g. an aggregated API that is down: say so
                self.log(f"  could not list {kind}: {exc}")
                continue
            found |= {object_key(obj) for obj in objects if pulumi_made(obj)}
        return found

    def before(self, stack: str) -> None:
        present = sorted({n["metadata"]["name"] for n in self.items("namespaces")}
                         & set(self.namespaces))
        if present:
            raise LifeCycleError(
                f"namespace(s) {', '.join(present)} already exist on context {self.context}: "
                "the live test needs a cluster without another eks-canary stack (destroy it, "
                "or use another cluster)")
        self.baseline = self.cluster_objects()

    def left(self) -> list[str]:
        ours = set(self.namespaces)
        namespaces = [f"Namespace {n['metadata']['name']} ({n.get('status', {}).get('phase')})"
                      for n in self.items("namespaces") if n["metadata"]["name"] in ours]
        claims = [f"PersistentVolumeClaim {c['metadata']['namespace']}/{c['metadata']['name']}"
                  for c in self.items("persistentvolumeclaims", "--all-namespaces")
                  if c["metadata"].get("namespace") in ours]
        volumes = [f"PersistentVolume {v['metadata']['name']} (claim "
                   f"{v['spec']['claimRef'].get('namespace')}/{v['spec']['claimRef'].get('name')})"
                   for v in self.items("persistentvolumes")
                   if ((v.get("spec") or {}).get("claimRef") or {}).get("namespace") in ours]
        cluster = sorted(self.cluster_objects() - self.baseline
                         - {f"Namespace {n}" for n in ours})
        return namespaces + claims + volumes + cluster

    def after(self, stack: str, record: Record) -> Leftovers:
        deadline = self.monotonic() + self.wait_s
        while True:
            left = self.left()
            if not left or self.monotonic() > deadline:
                return Leftovers(objects=left)
            self.log(f"  waiting for {len(left)} object(s) to go: {', '.join(left[:5])}")
            self.sleep(self.poll_s)


# ----------------------------------------------------------------------------- AWS


def arn_resource(arn: str) -> tuple[str, str, str]:
    """(service, resource type, id) of an ARN: arn:aws:ec2:r:a:natgateway/nat-1 ->
    ("ec2", "natgateway", "nat-1"); arn:aws:rds:r:a:snapshot:name -> ("rds", "snapshot",
    "name")."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5] if len(parts) > 5 else ""
    kind, _, ident = resource.partition("/") if "/" in resource else resource.partition(":")
    return service, kind, ident


def _ec2_gone(client: Any, kind: str, ident: str) -> bool:
    """A terminated instance or a deleted NAT gateway (EC2 still describes both)."""
    if kind == "instance":
        reservations = client.describe_instances(InstanceIds=[ident])["Reservations"]
        states = [i["State"]["Name"] for r in reservations for i in r["Instances"]]
        return all(s == "terminated" for s in states)
    if kind == "natgateway":
        gateways = client.describe_nat_gateways(NatGatewayIds=[ident])["NatGateways"]
        return all(g["State"] == "deleted" for g in gateways)
    return False


class AwsLeftovers:
    """What the tagging API still lists with the stack's tags, in one region."""

    def __init__(self, region: str, project: str = "eks-canary",
                 client: Callable[[str], Any] | None = None, wait_s: float = 1200.0,
                 poll_s: float = 30.0, log: Callable[[str], None] = log_to_stdout,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.region, self.project = region, project
        self.client = client or self._boto3_client
        self.wait_s, self.poll_s, self.log = wait_s, poll_s, log
        self.sleep, self.monotonic = sleep, monotonic

    def _boto3_client(self, service: str) -> Any:
        import boto3  # lazily: only a real AWS run needs it (test_live skips without it)

        return boto3.client(service, region_name=self.region)

    def tagged(self, stack: str) -> list[str]:
        pages = self.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "Project", "Values": [self.project]},
                        {"Key": "Stack", "Values": [stack]}])
        return sorted(m["ResourceARN"] for page in pages
                      for m in page.get("ResourceTagMappingList", []))

    def gone(self, arn: str) -> bool:
        service, kind, ident = arn_resource(arn)
        if service != "ec2":
            return False
        try:
            return _ec2_gone(self.client("ec2"), kind, ident)
        except Exception as exc:  # botocore ClientError: *.NotFound means gone
            return "NotFound" in str(getattr(exc, "response", {}).get("Error", {}).get("Code"))

    def before(self, stack: str) -> None:
        found = self.tagged(stack)
        if found:
            raise LifeCycleError(f"resources tagged Stack={stack} exist before the stack: "
                                 f"{found[:5]}")

    def after(self, stack: str, record: Record) -> Leftovers:
        deadline = self.monotonic() + self.wait_s
        while True:
            arns = self.tagged(stack)
            snapshots = [a for a in arns if arn_resource(a)[:2] == ("rds", "snapshot")]
            rest = [a for a in arns if a not in snapshots and not self.gone(a)]
            if not rest or self.monotonic() > deadline:
                break
            self.log(f"  the tagging API still lists {len(rest)} resource(s), e.g. {rest[0]}; "
                     f"asking again in {self.poll_s:g} s")
            self.sleep(self.poll_s)
        names = sorted({arn_resource(a)[2] for a in snapshots} | set(record.final_snapshots))
        kept = [f"final DB snapshot {n}: aws rds delete-db-snapshot --region {self.region} "
                f"--db-snapshot-identifier {n}" for n in names]
        group = f"/aws/eks/{AwsNames.of(self.project, stack).cluster}/cluster"
        notes = [f"EKS may have (re)made the control-plane log group {group} (untagged, not "
                 f"the stack's): aws logs delete-log-group --region {self.region} "
                 f"--log-group-name {group}"]
        return Leftovers(objects=rest, kept=kept, notes=notes)
