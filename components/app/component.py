"""The canary app stack: registers the pure builders' objects with the cluster's provider.

Creation and destroy order, made explicit:
- every app object waits for the load balancer controller (its webhooks admit Ingresses and
  pods), the X-Ray daemon and, with Istio, istiod (whose webhook injects the sidecars), or with
  Lattice, the Gateway API controller, its CRDs and the service network (the controller must
  run to delete the route's Lattice service; the service network outlives its targets);
- with Lattice, the namespace and routing objects go first, and user management is built with
  the HTTPRoute's Lattice DNS name (an Output of the route), so it depends on the route;
- the Ingress also waits for the certificate's validation (through its ARN) and, through a
  destroy delay, for ExternalDNS. `pulumi destroy` thus deletes the Ingress first, while the
  controller can still delete the ALB and ExternalDNS the DNS record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_time as time

from components.app import routing
from components.app.build import build_app
from components.app.names import INGRESS_NAME
from components.app.services import namespace
from components.app.spec import AppSpec
from components.k8s import register as k8s_objects

# ExternalDNS resyncs every minute and on events; 90 s covers one full interval with margin.
DNS_CLEANUP = "90s"


@dataclass(frozen=True)
class CanaryAppArgs:
    spec: AppSpec
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    external_dns: Sequence[pulumi.Resource] = field(default_factory=tuple)  # its release


class CanaryApp(pulumi.ComponentResource):
    """User management + notification V1/V2, behind one ALB where the platform has one;
    outputs the URL that reaches user management."""

    url: pulumi.Output[str]
    objects: dict[str, pulumi.CustomResource]

    def __init__(self, name: str, args: CanaryAppArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:app:CanaryApp", name, None, opts)
        spec = args.spec
        base = pulumi.ResourceOptions(parent=self, provider=args.provider,
                                      depends_on=list(args.depends_on))
        self.objects = {}
        address_route = routing.address_route(spec)
        if address_route is not None:
            self.objects = k8s_objects.register([namespace(spec)], base)
            ns = self.objects[k8s_objects.logical_name(namespace(spec))]
            # each routing object waits for those before it (GatewayClass, Gateway, Services,
            # policies, route), so destroy deletes the route first: the Gateway API controller
            # ignores a route whose Gateway or GatewayClass is gone, and a Gateway whose class
            # is gone, and their finalizers then stay (pkg/k8s/utils.go of
            # aws/aws-application-networking-k8s v2.1.3)
            routing_opts = pulumi.ResourceOptions.merge(
                base, pulumi.ResourceOptions(depends_on=[ns]))
            for obj in routing.routing_objects(spec):
                # the HTTPRoute: a new Lattice service name replaces it, the old one first
                paths = routing.replace_on_changes(obj)
                created = k8s_objects.register([obj], pulumi.ResourceOptions.merge(
                    routing_opts, pulumi.ResourceOptions(
                        replace_on_changes=paths, delete_before_replace=True)) if paths
                    else routing_opts)
                self.objects.update(created)
                routing_opts = pulumi.ResourceOptions.merge(
                    routing_opts, pulumi.ResourceOptions(depends_on=list(created.values())))
            route = self.objects[k8s_objects.logical_name(address_route)]
            # an Output of the route (a CustomResource: its outputs are untyped), so user
            # management depends on the route, and changes only if the name does
            host = cast(Any, route).metadata.apply(_route_host)
            spec = replace(spec, notification_host=host)
            base = pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[ns]))

        objects = [o for o in build_app(spec)
                   if k8s_objects.logical_name(o) not in self.objects]
        ingress_obj = next((o for o in objects if o["kind"] == "Ingress"), None)
        others = [o for o in objects if o is not ingress_obj]
        self.objects.update(k8s_objects.register(others, base))
        if ingress_obj is None:  # no load balancer: the platform says how to reach the app
            self.url = pulumi.Output.from_input(spec.url)
            self.register_outputs({"url": self.url})
            return

        # deleted first on destroy: before the pods and Services it routes to
        ingress_deps: list[pulumi.Resource] = [*self.objects.values(), *args.external_dns]
        if args.external_dns:
            # waits only on destroy: ExternalDNS, still running, deletes the Ingress's DNS
            # record before it is uninstalled (pulumiverse-time `Sleep`, destroy_duration)
            ingress_deps.append(time.Sleep(
                f"{name}-dns-cleanup", destroy_duration=DNS_CLEANUP,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.external_dns))))
        self.objects.update(k8s_objects.register(
            [ingress_obj],
            pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=ingress_deps))))

        ingress = self.objects[k8s_objects.logical_name(ingress_obj)]
        assert isinstance(ingress, k8s.networking.v1.Ingress)  # registered from an Ingress dict
        if args.spec.domain_name:
            self.url = pulumi.Output.from_input(f"https://{args.spec.domain_name}")
        else:
            self.url = ingress.status.apply(_ingress_url)
        self.register_outputs({"url": self.url, "ingress": INGRESS_NAME})


def _route_host(route_metadata: dict) -> Any:
    """User management's notification host from the route's live metadata. Unknown in a
    preview that creates the route: pulumi-kubernetes' `Create` then returns the inputs, which
    lack the controller's annotation (provider/pkg/provider/provider.go: preview of a kind not
    served yet, or of an unreachable cluster, as on the stack's first `up`)."""
    if pulumi.runtime.is_dry_run() and not routing.has_route_address(route_metadata):
        return pulumi.UNKNOWN
    return routing.route_address(route_metadata)


def _ingress_url(status) -> str:
    """http://<ALB hostname> once the controller has written it into the Ingress status."""
    try:
        return f"http://{status.load_balancer.ingress[0].hostname}"
    except (AttributeError, IndexError, TypeError):
        return "(pending: the ALB hostname appears in the Ingress status)"
