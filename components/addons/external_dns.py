"""ExternalDNS: keeps the Route53 record of the Ingress's hostname, only when a domain is set.

Chart `external-dns` 1.21.1 (ExternalDNS v0.21.0) from the official kubernetes-sigs repository.
`policy: sync` so the record is deleted with the Ingress (the chart's default, upsert-only,
would leave it behind after `pulumi destroy`). Its IAM policy follows ExternalDNS's AWS tutorial
(docs/tutorials/aws.md) but is scoped to the one hosted zone instead of `hostedzone/*`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons.addon import Addon, AddonArgs, ClusterHandles, HelmChart

CHART = HelmChart(chart="external-dns", version="1.21.1",
                  repo="https://kubernetes-sigs.github.io/external-dns/")


@dataclass(frozen=True)
class ExternalDnsProps:
    """Defaults: kube-system, service account `external-dns`, a one-minute resync on top of
    event-triggered syncs."""

    zone_name: str
    zone_id: pulumi.Input[str]
    zone_arn: pulumi.Input[str]
    namespace: str = "kube-system"
    service_account: str = "external-dns"
    interval: str = "1m"
    chart: HelmChart = CHART


def route53_policy(zone_arn: pulumi.Input[str]) -> dict:
    """Record changes on this zone only; listing zones has no resource-level scope.
    `zone_arn` may be an Output: `pulumi.Output.json_dumps` resolves it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets",
                        "route53:ListTagsForResources"],
             "Resource": [zone_arn]},
            {"Effect": "Allow", "Action": ["route53:ListHostedZones"], "Resource": ["*"]},
        ],
    }


def txt_owner_id(cluster: ClusterHandles) -> str:
    """Unique per stack, so two stacks sharing a zone never delete each other's records."""
    return cluster.name


def chart_values(cluster: ClusterHandles, props: ExternalDnsProps) -> dict:
    return {
        "provider": {"name": "aws"},
        "policy": "sync",
        "sources": ["service", "ingress"],
        "domainFilters": [props.zone_name],
        "registry": "txt",
        "txtOwnerId": txt_owner_id(cluster),
        "triggerLoopOnEvent": True,  # --events: sync when an Ingress changes, not only on timer
        "interval": props.interval,
        # the domain filter also matches sub-zones (dev.example.com); the zone-id filter keeps
        # ExternalDNS on the one zone its policy allows, so a sub-zone cannot fail its syncs
        "extraArgs": ["--aws-zone-type=public",
                      pulumi.Output.concat("--zone-id-filter=", props.zone_id)],
        "env": [{"name": "AWS_DEFAULT_REGION", "value": cluster.region}],
    }


def external_dns(cluster: ClusterHandles, props: ExternalDnsProps,
                 opts: pulumi.ResourceOptions | None = None) -> Addon:
    return Addon(
        "external-dns",
        AddonArgs(cluster=cluster, namespace=props.namespace,
                  service_account=props.service_account,
                  policy_document=pulumi.Output.json_dumps(route53_policy(props.zone_arn)),
                  chart=props.chart, values=chart_values(cluster, props)),
        opts=opts)
