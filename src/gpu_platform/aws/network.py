"""The VPC an EKS cluster runs in: a private and a public subnet per zone, NAT for egress.

Nodes live in the private subnets; the public subnets hold the NAT gateways and internet-facing
load balancers. Production gets a NAT gateway per zone (a zone outage does not cut the others'
egress); other environments share one.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gpu_platform.options import child_of

TOKEN = "gpuplatform:compute:EksNetwork"
MAX_ZONES = 7


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    private_cidr: str
    public_cidr: str


def render_subnets(cidr: str, zones: tuple[str, ...]) -> tuple[SubnetPlan, ...]:
    """Split the VPC into eighths: one large private subnet per zone, and the last eighth cut
    into eight small public subnets (public subnets hold only NAT gateways and load balancers)."""
    if not 1 <= len(zones) <= MAX_ZONES:
        raise ValueError(f"an EKS VPC here spans 1 to {MAX_ZONES} zones, not {len(zones)}")
    eighths = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=3))
    public = list(eighths[-1].subnets(prefixlen_diff=3))
    return tuple(SubnetPlan(zone, str(eighths[i]), str(public[i])) for i, zone in enumerate(zones))


def render_nat_zones(zones: tuple[str, ...], production: bool) -> tuple[str, ...]:
    """Zones that get a NAT gateway."""
    return zones if production else zones[:1]


def render_subnet_tags(cluster_name: str, *, public: bool) -> dict[str, str]:
    """Tags the AWS Load Balancer Controller and EKS use to discover subnets."""
    role = "kubernetes.io/role/elb" if public else "kubernetes.io/role/internal-elb"
    return {role: "1", f"kubernetes.io/cluster/{cluster_name}": "shared"}


@dataclass(frozen=True)
class EksNetworkArgs:
    cluster_name: str
    cidr: str
    zones: tuple[str, ...]
    production: bool
    provider: pulumi.ProviderResource
    region: str


def s3_service(region: str) -> str:
    """S3's gateway-endpoint service in a region; also the name of the AWS-managed prefix list
    of the addresses that endpoint routes."""
    return f"com.amazonaws.{region}.s3"


class EksNetwork(pulumi.ComponentResource):
    """VPC, subnets, internet and NAT gateways, and route tables for one EKS cluster."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: dict[str, pulumi.Output[str]]
    """Private subnet id by zone."""
    public_subnet_ids: dict[str, pulumi.Output[str]]
    egress_ready: list[pulumi.Resource]
    """NAT gateways and private routes: nodes need them to reach the internet as they boot."""

    def __init__(self, name: str, args: EksNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)

        child = functools.partial(child_of, self, args.provider)

        plan = render_subnets(args.cidr, args.zones)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": args.cluster_name},
            opts=child(),
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": args.cluster_name}, opts=child()
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{args.cluster_name}-public"},
            opts=child(),
        )
        self.private_subnet_ids, self.public_subnet_ids = {}, {}
        for subnet in plan:
            public = aws.ec2.Subnet(
                f"{name}-public-{subnet.zone}",
                vpc_id=vpc.id,
                cidr_block=subnet.public_cidr,
                availability_zone=subnet.zone,
                tags={
                    "Name": f"{args.cluster_name}-public-{subnet.zone}",
                    **render_subnet_tags(args.cluster_name, public=True),
                },
                opts=child(),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{subnet.zone}",
                subnet_id=public.id,
                route_table_id=public_rt.id,
                opts=child(),
            )
            private = aws.ec2.Subnet(
                f"{name}-private-{subnet.zone}",
                vpc_id=vpc.id,
                cidr_block=subnet.private_cidr,
                availability_zone=subnet.zone,
                tags={
                    "Name": f"{args.cluster_name}-private-{subnet.zone}",
                    **render_subnet_tags(args.cluster_name, public=False),
                },
                opts=child(),
            )
            self.public_subnet_ids[subnet.zone] = public.id
            self.private_subnet_ids[subnet.zone] = private.id

        nat_zones = render_nat_zones(args.zones, args.production)
        nat_ids: dict[str, pulumi.Output[str]] = {}
        self.egress_ready = []
        private_tables: list[pulumi.Output[str]] = []
        for zone in nat_zones:
            eip = aws.ec2.Eip(
                f"{name}-nat-{zone}",
                domain="vpc",
                tags={"Name": f"{args.cluster_name}-nat-{zone}"},
                opts=child(),
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=eip.id,
                subnet_id=self.public_subnet_ids[zone],
                tags={"Name": f"{args.cluster_name}-{zone}"},
                opts=child(depends_on=[igw]),
            )
            nat_ids[zone] = nat.id
            self.egress_ready.append(nat)
        for zone in args.zones:
            nat_id = nat_ids.get(zone, nat_ids[nat_zones[0]])
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_id)],
                tags={"Name": f"{args.cluster_name}-private-{zone}"},
                opts=child(),
            )
            association = aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}",
                subnet_id=self.private_subnet_ids[zone],
                route_table_id=private_rt.id,
                opts=child(),
            )
            self.egress_ready.append(association)
            private_tables.append(private_rt.id)
        # S3 through a gateway endpoint (no charge): model weights and ECR's image layers stay on
        # AWS's network and off the NAT gateways, which bill every gigabyte they carry. Model
        # servers' network policies allow exactly S3's addresses (its managed prefix list).
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=s3_service(args.region),
            vpc_endpoint_type="Gateway",
            route_table_ids=private_tables,
            tags={"Name": f"{args.cluster_name}-s3"},
            opts=child(),
        )
        self.vpc_id = vpc.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )
