"""The AWS platform under mocks: network, cluster, database, certificate, tags and secrets."""

import ipaddress
import json
import re
from types import SimpleNamespace

import pulumi
import pytest

from components.platform.cluster import (
    CREATOR_TAG,
    admin_access_entries,
    ami_type_for,
    cluster_creator,
)
from components.platform.network import pick_zones, plan_subnets
from tests import fakes
from tests.util import DOMAIN


@pytest.fixture
def run(program):
    result = program()
    assert result.error is None, result.error
    return result


def test_plan_subnets_are_disjoint_and_inside_the_vpc():
    plans = plan_subnets("10.0.0.0/16", ["a", "b", "c"])
    blocks = [ipaddress.IPv4Network(c) for p in plans for c in (p.public_cidr, p.private_cidr)]
    vpc = ipaddress.IPv4Network("10.0.0.0/16")
    assert all(b.subnet_of(vpc) for b in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    assert plans[0].private_cidr == "10.0.0.0/19" and plans[0].public_cidr == "10.0.128.0/19"


def test_one_vpc_with_tagged_public_and_private_subnets_in_two_zones(run):
    run.one("aws:ec2/vpc:Vpc")
    subnets = run.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if s.get("tags", {}).get("kubernetes.io/role/internal-elb")]
    public = [s for s in subnets if s.get("tags", {}).get("kubernetes.io/role/elb")]
    assert len(private) == 2 and len(public) == 2
    assert {s.inputs["availabilityZone"] for s in private} == set(fakes.ZONES[:2])
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    assert len(run.of_type("aws:ec2/natGateway:NatGateway")) == 1
    run.one("aws:ec2/internetGateway:InternetGateway")


def test_pick_zones_explains_a_region_with_too_few_zones():
    assert pick_zones(["b", "a", "c"], 2) == ["a", "b"]
    with pytest.raises(pulumi.RunError, match="availabilityZoneCount: got 4"):
        pick_zones(["a", "b", "c"], 4)


def test_nat_gateway_per_zone(program):
    run = program({"natGatewayPerZone": "true", "availabilityZoneCount": "3"})
    assert len(run.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(run.of_type("aws:ec2/subnet:Subnet")) == 6


def test_cluster_shape(run):
    cluster = run.one("eks:index:Cluster")
    inputs = cluster.inputs
    assert inputs["version"] == "1.35"
    assert inputs["authenticationMode"] == "API"
    assert inputs["createOidcProvider"] is True
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["skipDefaultSecurityGroups"] is True
    assert inputs["nodeAssociatePublicIpAddress"] is False
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert set(inputs["enabledClusterLogTypes"]) == {"api", "audit", "authenticator"}
    assert run.one("eks:index:VpcCniAddon").inputs["enableNetworkPolicy"] is True
    private_ids = {s.urn for s in run.of_type("aws:ec2/subnet:Subnet")
                   if "private" in s.name}
    assert len(inputs["privateSubnetIds"]) == 2
    assert set(cluster.property_dependencies["privateSubnetIds"]) == private_ids


def test_managed_node_group_on_al2023_in_private_subnets(run):
    group = run.one("eks:index:ManagedNodeGroup")
    assert group.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert group.inputs["instanceTypes"] == ["t3.large"]
    assert group.inputs["scalingConfig"] == {"desiredSize": 2, "minSize": 2, "maxSize": 4}
    subnet_deps = group.property_dependencies["subnetIds"]
    assert subnet_deps and all("private" in run.by_urn(u).name for u in subnet_deps)
    role = run.by_urn(group.inputs["nodeRole"]["$ref"])
    assert role.type == "aws:iam/role:Role"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {a.inputs["policyArn"] for a in run.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.parent == role.parent
        and "-node-" in a.name}
    # the CNI's policy is on aws-node's IRSA role (tests/test_vpc_cni_role.py)
    assert {p.rsplit("/", 1)[1] for p in attached} == {
        "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}


def test_ami_type_follows_architecture():
    assert ami_type_for("t3.large") == "AL2023_x86_64_STANDARD"
    assert ami_type_for("m7g.large") == "AL2023_ARM_64_STANDARD"
    assert ami_type_for("c6gn.xlarge") == "AL2023_ARM_64_STANDARD"


def test_kubernetes_provider_has_a_stable_identifier_and_secret_kubeconfig(run):
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["clusterIdentifier"] == "eks-canary-dev"
    assert provider.is_secret("kubeconfig")
    assert "kubeconfig" in run.secret_outputs
    assert run.outputs["clusterName"] == "eks-canary-dev"


def test_up_after_destroy_never_creates_the_control_plane_log_group(run):
    """EKS recreates /aws/eks/<cluster>/cluster from late deliveries after a destroy deleted it,
    and creating it again then fails with ResourceAlreadyExistsException: the program leaves
    the group to EKS (which makes it on the first delivery and reuses it after a redeploy)."""
    assert run.of_type("aws:cloudwatch/logGroup:LogGroup") == []
    cluster = run.one("eks:index:Cluster")
    assert set(cluster.inputs["enabledClusterLogTypes"]) == {"api", "audit", "authenticator"}


def test_managed_addons_are_pinned_to_exact_versions(run):
    """pulumi-eks installs the most recent vpc-cni and kube-proxy when no version is set, so a
    weight-only `up` could upgrade them and roll aws-node on every node."""
    cluster = run.one("eks:index:Cluster").inputs
    vpc_cni = run.one("eks:index:VpcCniAddon").inputs
    version = re.compile(r"v\d+\.\d+\.\d+-eksbuild\.\d+")
    assert version.fullmatch(vpc_cni["addonVersion"])
    assert vpc_cni["enableNetworkPolicy"] is True
    assert version.fullmatch(cluster["kubeProxyAddonOptions"]["version"])
    assert cluster["kubeProxyAddonOptions"]["version"].startswith("v1.35.")
    # pulumi-eks would make the managed coredns before any node exists (no default node
    # group): it is its own add-on after the node group
    assert not cluster.get("corednsAddonOptions", {}).get("enabled")
    coredns = run.one("aws:eks/addon:Addon")
    assert coredns.inputs["addonName"] == "coredns"
    assert version.fullmatch(coredns.inputs["addonVersion"])
    assert coredns.inputs["clusterName"] == "eks-canary-dev"
    assert coredns.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
    assert run.depends_on(coredns, run.one("eks:index:ManagedNodeGroup"))


def test_addon_versions_follow_config(program):
    run = program({"kubeProxyVersion": "v1.35.3-eksbuild.14",
                   "vpcCniVersion": "v1.21.1-eksbuild.8"})
    assert run.error is None, run.error
    cluster = run.one("eks:index:Cluster").inputs
    assert run.one("eks:index:VpcCniAddon").inputs["addonVersion"] == "v1.21.1-eksbuild.8"
    assert cluster["kubeProxyAddonOptions"]["version"] == "v1.35.3-eksbuild.14"


def test_zones_are_chosen_by_zone_id_excluding_those_eks_cannot_use(run):
    [(token, args)] = [c for c in run.invokes if c[0].endswith("getAvailabilityZones")]
    assert {"use1-az3", "usw1-az2", "cac1-az3"} <= set(args["excludeZoneIds"])


def test_cluster_admins_become_access_entries(program):
    admins = ["arn:aws:iam::123456789012:role/platform-admin",
              "arn:aws:iam::123456789012:user/ci", fakes.DEPLOYER_ROLE_ARN]
    run = program({"clusterAdmins": json.dumps(admins)})
    assert run.error is None, run.error
    entries = run.one("eks:index:Cluster").inputs["accessEntries"]
    # the creator already has admin (pulumi-eks bootstraps it): a second entry would fail
    assert sorted(e["principalArn"] for e in entries.values()) == sorted(admins[:2])
    for entry in entries.values():
        [policy] = entry["accessPolicies"].values()
        assert policy == {
            "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "accessScope": {"type": "cluster"}}
    assert any("already" in w and fakes.DEPLOYER_ROLE_ARN in w for w in run.warnings)


def test_no_access_entries_without_cluster_admins(run):
    assert not run.one("eks:index:Cluster").inputs.get("accessEntries")


def test_bad_cluster_admin_stops_before_any_resource(program):
    run = program({"clusterAdmins": json.dumps(["arn:aws:sts::123456789012:assumed-role/a/b"])})
    assert "clusterAdmins[0]" in run.error
    assert run.resources == []


def test_aws_profile_reaches_the_kubeconfig(program):
    run = program({"aws:profile": "canary-admin"})
    assert run.error is None, run.error
    cluster = run.one("eks:index:Cluster")
    assert cluster.inputs["providerCredentialOpts"] == {"profileName": "canary-admin"}
    provider = run.one("pulumi:providers:kubernetes")
    assert '"profile": "canary-admin"' in provider.inputs["kubeconfig"]
    assert provider.is_secret("kubeconfig")


def test_database_is_private_encrypted_backed_up_and_keeps_a_final_snapshot(run):
    db = run.one("aws:rds/instance:Instance").inputs
    assert db["engine"] == "mysql" and db["engineVersion"].startswith("8.4")
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["backupRetentionPeriod"] == 7
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == f"eks-canary-dev-usermgmtdb-final-{fakes.RANDOM_HEX}"
    assert db["dbName"] == "usermgmt" and db["username"] == "dbadmin"
    assert db["dbSubnetGroupName"] and db["vpcSecurityGroupIds"]
    assert run.one("aws:rds/instance:Instance").is_secret("password")


def test_database_admits_3306_only_from_the_cluster_security_group(run):
    rules = run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert len(rules) == 1
    rule = rules[0].inputs
    assert rule["referencedSecurityGroupId"] == fakes.CLUSTER_SECURITY_GROUP_ID
    assert (rule["fromPort"], rule["toPort"]) == (3306, 3306)
    assert "cidrIpv4" not in rule
    for group in run.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for ingress in group.inputs.get("ingress", []):
            assert "0.0.0.0/0" not in ingress.get("cidrBlocks", [])


def test_generated_password_when_none_is_configured(run):
    password = run.one("random:index/randomPassword:RandomPassword").inputs
    assert password["length"] >= 16
    assert not set(password["overrideSpecial"]) & set("/'\"@ ")


def test_configured_password_is_used_and_secret(program):
    run = program(secrets={"dbPassword": "Configured-Passw0rd"})
    assert run.error is None, run.error
    assert run.of_type("random:index/randomPassword:RandomPassword") == []
    db = run.one("aws:rds/instance:Instance")
    assert db.inputs["password"] == "Configured-Passw0rd" and db.is_secret("password")


def test_opt_outs(program):
    run = program({"dbSkipFinalSnapshot": "true", "dbDeletionProtection": "true",
                   "dbBackupRetentionDays": "14"})
    db = run.one("aws:rds/instance:Instance").inputs
    assert db["skipFinalSnapshot"] is True and db["deletionProtection"] is True
    assert db["backupRetentionPeriod"] == 14


def test_no_domain_means_no_certificate_and_no_dns(run):
    assert run.of_type("aws:acm/certificate:Certificate") == []
    assert run.of_type("aws:route53/record:Record") == []
    assert "certificateArn" not in run.outputs


def test_domain_creates_a_dns_validated_certificate(program):
    run = program(DOMAIN)
    assert run.error is None, run.error
    cert = run.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "canary.example.com"
    assert cert.inputs["validationMethod"] == "DNS"
    record = run.one("aws:route53/record:Record")
    assert record.inputs["zoneId"] == fakes.HOSTED_ZONE_ID
    assert record.inputs["name"] == "_x1.canary.example.com."
    validation = run.one("aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["validationRecordFqdns"] == ["_x1.canary.example.com"]
    assert run.outputs["certificateArn"] == fakes.CERTIFICATE_ARN


def test_existing_certificate_is_used_and_nothing_created(program):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    run = program({**DOMAIN, "certificateArn": arn})
    assert run.error is None, run.error
    assert run.of_type("aws:acm/certificate:Certificate") == []
    assert run.of_type("aws:acm/certificateValidation:CertificateValidation") == []
    assert run.outputs["certificateArn"] == arn


TAGGABLE = ("aws:ec2/", "aws:rds/", "aws:iam/role:", "aws:iam/policy:", "aws:acm/certificate:",
            "aws:cloudwatch/",
            "aws:vpc/", "aws:vpclattice/", "eks:index:")


@pytest.mark.parametrize("config", [{}, DOMAIN, {"canaryStrategy": "lattice"}])
def test_every_taggable_aws_resource_has_project_stack_and_name(program, config):
    run = program(config)
    taggable = [r for r in run.resources
                if r.custom or r.type.startswith("eks:")
                if r.type.startswith(TAGGABLE)
                and r.type not in ("aws:ec2/routeTableAssociation:RouteTableAssociation",
                                   "aws:acm/certificateValidation:CertificateValidation")]
    assert len(taggable) > 15
    for resource in taggable:
        tags = resource.inputs.get("tags", {})
        assert tags.get("Project") == "eks-canary", resource.name
        assert tags.get("Stack") == "dev", resource.name
        assert tags.get("Name"), resource.name


def test_no_output_shows_a_secret_in_plain_text(program):
    secret = "Pl4in-Text-Never-0k"
    run = program(DOMAIN, secrets={"dbPassword": secret, "smtpPassword": "smtp-secret-value"})
    plain_outputs = {k: v for k, v in run.outputs.items() if k not in run.secret_outputs}
    dumped = json.dumps(plain_outputs)
    assert secret not in dumped and "smtp-secret-value" not in dumped
    assert fakes.KUBECONFIG not in dumped


def test_bad_domain_fails_before_any_resource(program):
    run = program({"domainName": "not a host!"})
    assert "domainName" in run.error and run.resources == []


def test_stack_with_characters_aws_names_refuse_deploys_with_valid_names(program):
    run = program(stack="My_Stack.v2", stack_file="dev")
    assert run.error is None, run.error
    db = run.one("aws:rds/instance:Instance")
    assert re.fullmatch(r"[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)", db.inputs["identifier"])
    assert db.inputs["identifier"].startswith("eks-canary-my-stack-v2-")
    alb = run.k8s("Ingress", "eks-microservices-demo-canary").get(
        "metadata.annotations")["alb.ingress.kubernetes.io/load-balancer-name"]
    assert len(alb) <= 32 and re.fullmatch(r"[a-z0-9-]+", alb)
    for role in run.of_type("aws:iam/role:Role"):
        if "name" in role.inputs:
            assert len(role.inputs["name"]) <= 64


def test_two_long_stack_names_get_distinct_valid_aws_names(program):
    names = {}
    for stack in ("a" * 39 + "1", "a" * 39 + "2"):
        run = program(stack=stack, stack_file="dev")
        assert run.error is None, run.error
        db = run.one("aws:rds/instance:Instance")
        alb = run.k8s("Ingress", "eks-microservices-demo-canary").get(
            "metadata.annotations")["alb.ingress.kubernetes.io/load-balancer-name"]
        roles = sorted(r.inputs["name"] for r in run.of_type("aws:iam/role:Role")
                       if "name" in r.inputs)
        names[stack] = (db.inputs["identifier"], run.outputs["databaseFinalSnapshot"], alb,
                        tuple(roles))
        assert len(db.inputs["identifier"]) <= 63 and len(alb) <= 32
        assert len(run.outputs["databaseFinalSnapshot"]) <= 63
        assert all(len(r) <= 64 for r in roles)
    first, second = names.values()
    for a, b in zip(first, second, strict=True):
        assert a != b


def test_final_snapshot_name_comes_from_a_random_value_made_once(program):
    run = program()
    db = run.one("aws:rds/instance:Instance")
    suffix = run.one("random:index/randomId:RandomId")
    assert suffix.inputs["byteLength"] >= 4
    snapshot = db.inputs["finalSnapshotIdentifier"]
    assert snapshot == f"eks-canary-dev-usermgmtdb-final-{fakes.RANDOM_HEX}"
    assert suffix.urn in db.property_dependencies["finalSnapshotIdentifier"]
    assert run.outputs["databaseFinalSnapshot"] == snapshot


def test_the_cluster_records_its_creator_when_it_is_made(run):
    # the first `up` (no such cluster yet): the caller creates it, and the cluster carries it
    assert ("aws:eks/getClusters:getClusters", {}) in [(t, {k: v for k, v in a.items()
                                                          if v is not None})
                                                         for t, a in run.invokes]
    tags = run.one("eks:index:Cluster").inputs["clusterTags"]
    assert tags == {CREATOR_TAG: fakes.DEPLOYER_ROLE_ARN}


class _Lookups:
    """What the AWS invokes answer for an existing cluster made by `creator`, now run by `caller`
    (an IAM user: aws_iam_session_context gives issuer_arn = arn for a non-assumed-role ARN,
    terraform-provider-aws internal/service/iam/session_context_data_source.go)."""

    def __init__(self, monkeypatch, existing: list[str], tags: dict[str, str], caller: str):
        import pulumi_aws as aws

        self.caller_lookups = 0

        def caller_identity(*_a, **_k):
            self.caller_lookups += 1
            return SimpleNamespace(arn=caller)

        monkeypatch.setattr(aws.eks, "get_clusters",
                            lambda *a, **k: SimpleNamespace(names=existing))
        monkeypatch.setattr(aws.eks, "get_cluster", lambda *a, **k: SimpleNamespace(tags=tags))
        monkeypatch.setattr(aws, "get_caller_identity", caller_identity)
        monkeypatch.setattr(aws.iam, "get_session_context",
                            lambda arn, **_k: SimpleNamespace(issuer_arn=arn))


ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:role/bob"


def test_a_listed_colleague_running_up_keeps_the_entry_and_the_creator_gets_none(monkeypatch):
    # Alice created the cluster; Bob (listed) runs `up`: Bob's entry must stay, and Alice (also
    # listed) must get none (EKS gave her the bootstrap entry: a second one is ResourceInUse)
    lookups = _Lookups(monkeypatch, ["other", "eks-canary-dev"], {CREATOR_TAG: ALICE}, caller=BOB)
    creator = cluster_creator("eks-canary-dev")
    assert creator == ALICE and lookups.caller_lookups == 0
    entries = admin_access_entries([ALICE, BOB], creator)
    assert [e.principal_arn for e in entries.values()] == [BOB]


def test_a_new_cluster_is_made_by_the_caller_also_an_iam_user(monkeypatch):
    _Lookups(monkeypatch, ["other"], {}, caller=ALICE)
    assert cluster_creator("eks-canary-dev") == ALICE


def test_an_existing_cluster_without_the_tag_falls_back_to_the_caller(monkeypatch):
    _Lookups(monkeypatch, ["eks-canary-dev"], {"Name": "eks-canary-dev"}, caller=BOB)
    assert cluster_creator("eks-canary-dev") == BOB
