"""RDS MySQL 8.4 for the user-management service, private and encrypted.

Fixes the course's database: no public access, no 0.0.0.0/0 rule, no literal password. Only
the EKS cluster security group (which managed nodes and so their pods use) may reach 3306.
MySQL 8.4's default authentication (caching_sha2_password) works with the app's JDBC URL
because it sets `allowPublicKeyRetrieval=true&useSSL=false`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.course import DB_NAME, DB_USERNAME
from components.course import MYSQL_PORT as DB_PORT
from components.naming import final_snapshot_identifier
from components.tags import Tags

# RDS forbids / ' " @ and space in master passwords; `$`, `{` and `}` are left out too, so
# Spring's `${...}` property placeholders can never see one in DB_PASSWORD.
PASSWORD_SPECIALS = "!#%^&*()-_=+[]<>:?"


@dataclass(frozen=True)
class DatabaseArgs:
    identifier: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    allowed_security_group_id: pulumi.Input[str]
    password: pulumi.Output[str] | None  # None: generate one
    instance_class: str
    engine_version: str
    allocated_storage: int
    backup_retention_days: int
    multi_az: bool
    skip_final_snapshot: bool
    deletion_protection: bool
    tags: Tags


class Database(pulumi.ComponentResource):
    """The RDS instance; outputs its address and the master password (a secret)."""

    address: pulumi.Output[str]
    password: pulumi.Output[str]
    final_snapshot: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tag = args.tags

        if args.password is None:
            generated = random.RandomPassword(f"{name}-password", length=32, special=True,
                                              override_special=PASSWORD_SPECIALS, min_special=2,
                                              min_numeric=2, min_upper=2, min_lower=2, opts=child)
            password = generated.result
        else:
            password = args.password
        self.password = pulumi.Output.secret(password)

        subnet_group = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=args.subnet_ids,
                                           description=f"Private subnets of {args.identifier}",
                                           tags=tag(f"{args.identifier}-subnets"), opts=child)
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description=f"MySQL of {args.identifier}: 3306 from the EKS cluster only",
            tags=tag(f"{args.identifier}-mysql"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-cluster", security_group_id=security_group.id,
            referenced_security_group_id=args.allowed_security_group_id,
            ip_protocol="tcp", from_port=DB_PORT, to_port=DB_PORT,
            description="MySQL from the EKS cluster security group (nodes and pods)",
            tags=tag(f"{args.identifier}-from-cluster"), opts=child)

        # made once per deployment (a destroy deletes it, the next `up` makes a new one), so each
        # destroy's final snapshot has a name of its own
        snapshot_suffix = random.RandomId(f"{name}-final-snapshot-suffix", byte_length=4,
                                          keepers={"identifier": args.identifier}, opts=child)
        self.final_snapshot = snapshot_suffix.hex.apply(
            lambda suffix: final_snapshot_identifier(args.identifier, suffix))

        instance = aws.rds.Instance(
            f"{name}-mysql",
            identifier=args.identifier,
            engine="mysql",
            engine_version=args.engine_version,
            auto_minor_version_upgrade=True,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=DB_NAME,
            username=DB_USERNAME,
            password=self.password,
            port=DB_PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=self.final_snapshot,
            deletion_protection=args.deletion_protection,
            apply_immediately=True,
            tags=tag(args.identifier),
            opts=child,
        )
        self.address = instance.address
        self.register_outputs({"address": self.address, "finalSnapshot": self.final_snapshot})
