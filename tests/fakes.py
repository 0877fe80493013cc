"""A fake AWS/EKS for Pulumi's mocks: realistic outputs for what the program reads.

Values are constants so that tests can assert that they were wired through (the RDS address
reaches the `mysql` ExternalName Service, the zone ARN reaches ExternalDNS's policy, ...).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pulumi

ACCOUNT = "123456789012"
REGION = "us-east-1"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
HOSTED_ZONE_ID = "Z0123456789EXAMPLE"
HOSTED_ZONE_ARN = f"arn:aws:route53:::hostedzone/{HOSTED_ZONE_ID}"
RDS_ADDRESS = "usermgmtdb-dev.c9akciq32.us-east-1.rds.amazonaws.com"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"
OIDC_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_ISSUER}"
CLUSTER_SECURITY_GROUP_ID = "sg-0eks0cluster0000"
ALB_HOSTNAME = "k8s-canary-demo-0123456789.us-east-1.elb.amazonaws.com"
GENERATED_PASSWORD = "generated-Pa55word-from-random"
RANDOM_HEX = "0a1b2c3d"
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deployer"
LATTICE_PREFIX_LIST_ID = "pl-0lattice000000000"
# a VPC association's addresses: the link-local range, and a non-routable public one as AWS
# now lists them too (the program must take the list's entries, not a constant)
LATTICE_CIDRS = ["169.254.171.0/24", "129.224.0.0/17"]
LATTICE_DOMAIN = "eks-canary-dev-notification-0a1b2c3d4e5f6a7b8.7d67968.vpc-lattice-svcs." \
    "us-east-1.on.aws"
LATTICE_DOMAIN_ANNOTATION = "application-networking.k8s.aws/lattice-assigned-domain-name"
KUBECONFIG = json.dumps({"apiVersion": "v1", "kind": "Config", "clusters": [
    {"name": "eks", "cluster": {"server": "https://EXAMPLE.gr7.us-east-1.eks.amazonaws.com",
                                "certificate-authority-data": "LS0tLS1CRUdJTi..."}}],
    "users": [{"name": "aws", "user": {"exec": {"command": "aws"}}}]})


EXISTING_CLUSTER_ENV = "EKS_CANARY_FAKE_EXISTING_CLUSTER"


class FakeCloud(pulumi.runtime.Mocks):
    """Returns, for each resource type and invoke the program uses, the outputs AWS would.
    `calls` records every invoke: (token, arguments)."""

    def __init__(self, preview: bool = False) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict]] = []
        self.preview = preview
        # AWS answers with ARNs of the region's partition (the stack's aws:region)
        region = json.loads(os.environ.get("PULUMI_CONFIG") or "{}").get("aws:region", REGION)
        self.partition = ("aws-cn" if region.startswith("cn-") else
                          "aws-us-gov" if region.startswith("us-gov-") else "aws")

    def _partitioned(self, value: Any) -> Any:
        if self.partition == "aws":
            return value
        if isinstance(value, str):
            return value.replace("arn:aws:", f"arn:{self.partition}:")
        if isinstance(value, dict):
            return {k: self._partitioned(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._partitioned(v) for v in value]
        return value

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, state = self._new_resource(args)
        return resource_id, self._partitioned(state)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        result, failures = self._call(args)
        return self._partitioned(result), failures

    def _new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state: dict[str, Any] = dict(args.inputs)
        name = args.name
        extra = {
            "aws:iam/role:Role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "name": name},
            "aws:iam/policy:Policy": {"arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}"},
            "aws:rds/instance:Instance": {
                "address": RDS_ADDRESS, "endpoint": f"{RDS_ADDRESS}:3306", "port": 3306,
                "arn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}",
            },
            "aws:acm/certificate:Certificate": {
                "arn": CERTIFICATE_ARN,
                "domainValidationOptions": [{
                    "domainName": args.inputs.get("domainName"),
                    "resourceRecordName": f"_x1.{args.inputs.get('domainName')}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_x2.acm-validations.aws.",
                }],
            },
            "aws:acm/certificateValidation:CertificateValidation": {
                "certificateArn": args.inputs.get("certificateArn"),
            },
            "aws:route53/record:Record": {"fqdn": str(args.inputs.get("name", "")).rstrip(".")},
            "random:index/randomPassword:RandomPassword": {"result": GENERATED_PASSWORD},
            "random:index/randomId:RandomId": {"hex": RANDOM_HEX},
            "eks:index:Cluster": {
                "kubeconfigJson": KUBECONFIG,
                "oidcProviderArn": OIDC_PROVIDER_ARN,
                "oidcProviderUrl": OIDC_ISSUER,
                "clusterSecurityGroupId": CLUSTER_SECURITY_GROUP_ID,
            },
            "kubernetes:networking.k8s.io/v1:Ingress": {
                "status": {"loadBalancer": {"ingress": [{"hostname": ALB_HOSTNAME}]}},
            },
            # the AWS Gateway API Controller annotates the route with its Lattice DNS name; a
            # preview of its creation returns the inputs as they are (pulumi-kubernetes
            # provider.go `Create`: the kind is not served yet, or the cluster is unreachable)
            "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": {} if self.preview else {
                "metadata": {**(args.inputs.get("metadata") or {}), "annotations": {
                    **((args.inputs.get("metadata") or {}).get("annotations") or {}),
                    LATTICE_DOMAIN_ANNOTATION: LATTICE_DOMAIN}},
            },
        }.get(args.typ, {})
        state.update(extra)
        if args.custom and not args.typ.startswith("kubernetes:"):
            state.setdefault("name", name)  # what auto-naming would give
        resource_id = None if not args.custom else f"{name}-id"
        if args.typ == "aws:ec2/vpc:Vpc":
            resource_id = f"vpc-{name}"
        return resource_id, state

    def _call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        token, inputs = args.token, dict(args.args)
        self.calls.append((token, inputs))
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "userId": "AROAEXAMPLE:session", "id": ACCOUNT,
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/session"}, []
        if token == "aws:iam/getSessionContext:getSessionContext":
            return {"arn": inputs.get("arn"), "issuerArn": DEPLOYER_ROLE_ARN,
                    "issuerName": "deployer", "issuerId": "AROAEXAMPLE",
                    "sessionName": "session", "id": inputs.get("arn")}, []
        if token == "aws:eks/getClusters:getClusters":  # a new stack: no cluster yet
            # EKS_CANARY_FAKE_EXISTING_CLUSTER set: the stack's cluster exists (a later `up`)
            existing = ["eks-canary-dev"] if os.environ.get(EXISTING_CLUSTER_ENV) else []
            return {"names": existing, "id": REGION}, []
        if token == "aws:eks/getCluster:getCluster":
            return {"name": inputs.get("name"), "id": inputs.get("name"),
                    "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{inputs.get('name')}",
                    "tags": {"eks-canary/cluster-creator": DEPLOYER_ROLE_ARN},
                    "identities": [{"oidcs": [{"issuer": f"https://{OIDC_ISSUER}"}]}]}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": ZONES, "zoneIds": [f"use1-az{i}" for i in range(1, 5)],
                    "id": REGION}, []
        if token == "aws:route53/getZone:getZone":
            return {"zoneId": HOSTED_ZONE_ID, "arn": HOSTED_ZONE_ARN, "id": HOSTED_ZONE_ID,
                    "name": inputs.get("name"), "privateZone": False}, []
        if token == "eks:index:Cluster/getKubeconfig":
            profile = inputs.get("profileName")
            return {"result": KUBECONFIG.replace('"aws"}', f'"aws", "profile": "{profile}"}}')}, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer",
                    "id": ACCOUNT, "userId": "AIDAEXAMPLE"}, []
        if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            # only AWS's own name for the region's VPC Lattice list is known
            if inputs.get("name") != f"com.amazonaws.{REGION}.vpc-lattice":
                raise ValueError(f"no managed prefix list {inputs.get('name')!r}")
            return {"id": LATTICE_PREFIX_LIST_ID, "name": inputs["name"],
                    "addressFamily": "IPv4", "maxEntries": 2, "ownerId": "AWS",
                    "entries": [{"cidr": c, "description": ""} for c in LATTICE_CIDRS]}, []
        raise NotImplementedError(f"the fake cloud has no answer for invoke {token}")
