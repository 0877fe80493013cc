"""The VPC Lattice network of canaryStrategy=lattice, owned by the program (not the controller).

- A service network, named as the Gateway that binds to it (the AWS Gateway API Controller
  finds the service network by the Gateway's name and never creates or deletes it unless told
  to with `defaultServiceNetwork`: docs/api-types/gateway.md, pkg/controllers/
  gateway_controller.go of aws/aws-application-networking-k8s v2.1.3). Auth type NONE: the
  course's apps do not sign their calls (SigV4), which AWS_IAM would require.
- Its association with the stack's VPC, so the VPC's pods resolve and reach its services.
- The region's VPC Lattice managed prefix list, looked up by name
  (`com.amazonaws.<region>.vpc-lattice`, Lattice user guide "Control traffic in VPC Lattice
  using security groups"), admitted by the nodes' (EKS cluster) security group on the target
  port: "the security group rules for targets control inbound traffic from VPC Lattice to
  targets, including health check traffic". Its entries are also what the app's
  NetworkPolicies admit.

Destroy: Lattice refuses to delete a service network that still has associations, and the
association must outlive the Lattice targets (the app's route and pods), so the controller and
the app depend on this component, and go first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tags import Tags


def prefix_list_name(region: str) -> str:
    """The IPv4 managed prefix list of VPC Lattice in a region."""
    return f"com.amazonaws.{region}.vpc-lattice"


@dataclass(frozen=True)
class LatticeNetworkArgs:
    name: str  # the service network's (and the Gateway's) name
    vpc_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]  # of the pods that are Lattice targets (the nodes')
    target_port: int  # where Lattice sends calls and health checks
    region: str
    tags: Tags


class LatticeNetwork(pulumi.ComponentResource):
    """Service network + VPC association + the prefix-list rule; outputs Lattice's CIDRs."""

    service_network_name: str
    service_network_id: pulumi.Output[str]
    prefix_list_id: pulumi.Output[str]
    cidrs: pulumi.Output[list[str]]

    def __init__(self, name: str, args: LatticeNetworkArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:LatticeNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        network = aws.vpclattice.ServiceNetwork(
            f"{name}-service-network", name=args.name, auth_type="NONE",
            tags=args.tags(args.name), opts=child)
        aws.vpclattice.ServiceNetworkVpcAssociation(
            f"{name}-vpc", service_network_identifier=network.id, vpc_identifier=args.vpc_id,
            tags=args.tags(f"{args.name}-vpc"), opts=child)

        prefix_list = aws.ec2.get_managed_prefix_list_output(
            name=prefix_list_name(args.region), opts=pulumi.InvokeOutputOptions(parent=self))
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-targets", security_group_id=args.security_group_id,
            prefix_list_id=prefix_list.id, ip_protocol="tcp",
            from_port=args.target_port, to_port=args.target_port,
            description="VPC Lattice to its targets (calls and health checks)",
            tags=args.tags(f"{args.name}-to-targets"), opts=child)

        self.service_network_name = args.name
        self.service_network_id = network.id
        self.prefix_list_id = prefix_list.id
        self.cidrs = prefix_list.entries.apply(lambda entries: [e.cidr for e in entries])
        self.register_outputs({"serviceNetworkId": network.id,
                               "prefixListId": prefix_list.id})
