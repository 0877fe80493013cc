"""The VPC: public and private subnets over >= 2 zones, internet gateway and NAT.

Public subnets hold the internet-facing ALB and the NAT gateway(s); private subnets hold the
nodes, pods (VPC CNI gives pods subnet IPs, hence the larger private blocks) and the database.
The `kubernetes.io/role/*elb` tags are how the AWS Load Balancer Controller discovers subnets
(https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tags import Tags


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    public_cidr: str
    private_cidr: str


def subnet_cidrs(vpc_cidr: str, count: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(public, private) CIDRs: the VPC in eighths, private blocks 0..n-1, public 4..4+n-1."""
    if not 2 <= count <= 4:
        raise ValueError(f"need 2 to 4 zones, got {count}")
    blocks = [str(b) for b in ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3)]
    return tuple(blocks[4:4 + count]), tuple(blocks[:count])


def pick_zones(available: Sequence[str], count: int) -> list[str]:
    """The first `count` zones in name order, or a clear error naming the config key."""
    if len(available) < count:
        raise pulumi.RunError(
            f"availabilityZoneCount: got {count}; allowed: at most {len(available)} in this "
            f"region ({', '.join(sorted(available))})")
    return sorted(available)[:count]


# Zone IDs whose zones cannot host EKS control-plane subnets (EKS user guide, "Subnet
# requirements"). By ID, not name: zone names map to different IDs in every account.
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")


def eks_zones(count: int) -> list[str]:
    """`count` zones of the region that can host the EKS control plane."""
    return pick_zones(aws.get_availability_zones(
        state="available",
        exclude_zone_ids=list(EKS_UNSUPPORTED_ZONE_IDS),
        # regular zones only: Local and Wavelength Zones cannot host EKS control-plane subnets
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
    ).names, count)


def plan_subnets(vpc_cidr: str, zones: list[str]) -> list[SubnetPlan]:
    """One public and one private subnet per zone (see `subnet_cidrs`)."""
    public, private = subnet_cidrs(vpc_cidr, len(zones))
    return [SubnetPlan(zone, public[i], private[i]) for i, zone in enumerate(zones)]


@dataclass(frozen=True)
class NetworkArgs:
    vpc_cidr: str
    zones: list[str]
    nat_gateway_per_zone: bool
    tags: Tags
    name_prefix: str


class Network(pulumi.ComponentResource):
    """A dedicated VPC for the stack; outputs the ids the cluster and database need."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tag, prefix = args.tags, args.name_prefix

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_hostnames=True,
                          enable_dns_support=True, tags=tag(f"{prefix}-vpc"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tag(f"{prefix}-igw"),
                                      opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=tag(f"{prefix}-public"), opts=child)

        self.public_subnet_ids, self.private_subnet_ids = [], []
        nat_ids: list[pulumi.Output[str]] = []
        for index, plan in enumerate(plan_subnets(args.vpc_cidr, args.zones)):
            public = aws.ec2.Subnet(
                f"{name}-public-{index}", vpc_id=vpc.id, cidr_block=plan.public_cidr,
                availability_zone=plan.zone, map_public_ip_on_launch=False,
                tags=tag(f"{prefix}-public-{plan.zone}", **{"kubernetes.io/role/elb": "1"}),
                opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{index}", subnet_id=public.id,
                                          route_table_id=public_routes.id, opts=child)
            self.public_subnet_ids.append(public.id)

            if index == 0 or args.nat_gateway_per_zone:
                eip = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc",
                                  tags=tag(f"{prefix}-nat-{plan.zone}"), opts=child)
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{index}", subnet_id=public.id, allocation_id=eip.id,
                    tags=tag(f"{prefix}-nat-{plan.zone}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]))
                nat_ids.append(nat.id)

            private = aws.ec2.Subnet(
                f"{name}-private-{index}", vpc_id=vpc.id, cidr_block=plan.private_cidr,
                availability_zone=plan.zone, map_public_ip_on_launch=False,
                tags=tag(f"{prefix}-private-{plan.zone}",
                         **{"kubernetes.io/role/internal-elb": "1"}),
                opts=child)
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-{index}", vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_ids[-1]}],
                tags=tag(f"{prefix}-private-{plan.zone}"), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{index}", subnet_id=private.id,
                                          route_table_id=private_routes.id, opts=child)
            self.private_subnet_ids.append(private.id)

        self.vpc_id = vpc.id
        self.register_outputs({"vpcId": vpc.id, "privateSubnetIds": self.private_subnet_ids,
                               "publicSubnetIds": self.public_subnet_ids})
