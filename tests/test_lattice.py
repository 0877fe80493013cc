"""canaryStrategy=lattice under mocks: the controller add-on, the program-owned network, exact
weights on the HTTPRoute, capacity, user management's address, blast radius and destroy order."""

import hashlib
import re

import pytest

from components.addons import gateway_api_controller
from components.app import routing_lattice
from tests import fakes
from tests.harness import UNKNOWN
from tests.test_addons import policy_of, role_for
from tests.test_app import changed
from tests.util import env_of

LATTICE = {"canaryStrategy": "lattice"}
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
SERVICE_NETWORK = "aws:vpclattice/serviceNetwork:ServiceNetwork"
ASSOCIATION = "aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
NAMESPACE = "aws-application-networking-system"
GATEWAY_API_KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "TargetGroupPolicy")


@pytest.fixture
def run(program):
    result = program({**LATTICE, "canaryWeight": "10", "notificationReplicas": "4"})
    assert result.error is None, result.error
    return result


def of_kind(run, kind: str) -> list:
    return [r for r in run.k8s_objects() if r.inputs["kind"] == kind]


def weights(run) -> dict[str, int]:
    [route] = of_kind(run, "HTTPRoute")
    [rule] = route.get("spec.rules")
    return {ref["name"]: ref["weight"] for ref in rule["backendRefs"]}


# ---- the controller add-on

def test_controller_chart_is_pinned_from_its_oci_registry(run):
    release = run.one(RELEASE, "gateway-api-controller")
    inputs = release.inputs
    assert inputs["chart"] == \
        "oci://public.ecr.aws/aws-application-networking-k8s/aws-gateway-controller-chart"
    assert inputs["version"] == "v2.1.3"
    assert not inputs.get("repositoryOpts")  # an OCI chart is not looked up in a repo index
    assert inputs["namespace"] == NAMESPACE
    values = inputs["values"]
    # set explicitly: empty, the controller asks the instance metadata service for each
    assert values["clusterName"] == "eks-canary-dev"
    assert values["clusterVpcId"] == "vpc-network-vpc"
    assert values["awsRegion"] == "us-east-1"
    assert values["awsAccountId"] == fakes.ACCOUNT
    assert "defaultServiceNetwork" not in values  # the program owns the service network
    role = role_for(run, NAMESPACE, "gateway-api-controller")
    assert values["serviceAccount"] == {
        "create": True, "name": "gateway-api-controller",
        "annotations": {"eks.amazonaws.com/role-arn":
                        f"arn:aws:iam::{fakes.ACCOUNT}:role/{role.name}"}}
    assert release.provider.startswith(run.one("pulumi:providers:kubernetes").urn)


def test_gateway_api_crds_come_from_the_pinned_standard_release(run):
    crds = run.one(CONFIG_FILE)
    assert crds.inputs["file"] == ("https://github.com/kubernetes-sigs/gateway-api/releases/"
                                   "download/v1.5.0/standard-install.yaml")
    assert crds.provider.startswith(run.one("pulumi:providers:kubernetes").urn)
    # the controller exits unless the CRDs are served when it starts
    assert run.depends_on(run.one(RELEASE, "gateway-api-controller"), crds)


def test_controller_role_has_the_documented_policy(run):
    raw = gateway_api_controller.POLICY_FILE.read_bytes()
    # byte for byte files/controller-installation/recommended-inline-policy.json of
    # aws/aws-application-networking-k8s at tag v2.1.3 (commit e3fb86ea)
    assert hashlib.sha256(raw).hexdigest() == \
        "3990890bcc821730da14a27b28c2796cd3c8c5d5e9d23344196efa03fa314dae"
    assert gateway_api_controller.POLICY_FILE.name == \
        "aws-application-networking-k8s-v2.1.3-recommended-inline-policy.json"
    policy = policy_of(run, role_for(run, NAMESPACE, "gateway-api-controller"))
    # the vendored document minus its access-log part (tests/test_lattice_rollout.py)
    assert policy == gateway_api_controller.controller_policy(raw.decode())
    actions = {a for s in policy["Statement"] for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert any(a.startswith("vpc-lattice:") for a in actions)


def test_controller_owns_a_restricted_namespace(run):
    namespace = run.k8s("Namespace", NAMESPACE)
    assert namespace.get("metadata.labels")["pod-security.kubernetes.io/enforce"] == "restricted"
    assert run.depends_on(run.one(RELEASE, "gateway-api-controller"), namespace)


# ---- the network the program owns

def test_one_service_network_associated_with_the_vpc(run):
    network = run.one(SERVICE_NETWORK)
    assert network.inputs["name"] == "eks-canary-dev"
    assert network.inputs["authType"] == "NONE"
    association = run.one(ASSOCIATION)
    assert association.inputs["vpcIdentifier"] == "vpc-network-vpc"
    assert association.inputs["serviceNetworkIdentifier"] == f"{network.name}-id"
    assert run.depends_on(association, network)


def test_lattice_prefix_list_is_admitted_on_the_notification_port(run):
    # the fake cloud knows the list only under AWS's name com.amazonaws.us-east-1.vpc-lattice
    [rule] = [r for r in run.of_type(INGRESS_RULE) if r.inputs.get("prefixListId")]
    assert rule.inputs["prefixListId"] == fakes.LATTICE_PREFIX_LIST_ID
    assert rule.inputs["securityGroupId"] == fakes.CLUSTER_SECURITY_GROUP_ID
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == \
        ("tcp", 8096, 8096)


def test_network_policies_admit_the_prefix_list_entries(run):
    blocks = [{"ipBlock": {"cidr": c}} for c in fakes.LATTICE_CIDRS]
    to_lattice = run.k8s("NetworkPolicy", "usermgmt-to-vpc-lattice")
    assert to_lattice.get("spec.podSelector") == {"matchLabels": {"app": "usermgmt-restapp"}}
    assert to_lattice.get("spec.egress") == [
        {"to": blocks, "ports": [{"protocol": "TCP", "port": 80}]}]
    from_lattice = run.k8s("NetworkPolicy", "vpc-lattice-to-notification")
    assert from_lattice.get("spec.podSelector") == \
        {"matchLabels": {"app": "notification-restapp"}}
    assert from_lattice.get("spec.ingress") == [
        {"from": blocks, "ports": [{"protocol": "TCP", "port": 8096}]}]


# ---- routing

def test_one_gateway_class_and_one_gateway_bound_to_the_service_network(run):
    [gateway_class] = of_kind(run, "GatewayClass")
    assert gateway_class.get("metadata.name") == "amazon-vpc-lattice"
    assert gateway_class.get("spec.controllerName") == \
        "application-networking.k8s.aws/gateway-api-controller"
    [gateway] = of_kind(run, "Gateway")
    # the controller binds a Gateway to the service network of the same name
    assert gateway.get("metadata.name") == run.one(SERVICE_NETWORK).inputs["name"]
    assert gateway.get("spec.gatewayClassName") == "amazon-vpc-lattice"
    assert gateway.get("spec.listeners") == [{"name": "http", "protocol": "HTTP", "port": 80}]
    [route] = of_kind(run, "HTTPRoute")
    assert route.get("spec.parentRefs") == [{"name": "eks-canary-dev", "sectionName": "http"}]


@pytest.mark.parametrize(("weight", "v1", "v2"),
                         [("0", 100, 0), ("10", 90, 10), ("50", 50, 50), ("90", 10, 90),
                          ("100", 0, 100)])
def test_route_weights_are_exact(program, weight, v1, v2):
    run = program({**LATTICE, "canaryWeight": weight})
    assert weights(run) == {"notification-v1": v1, "notification-v2": v2}
    split = run.outputs["trafficSplit"]
    assert (split["strategy"], split["effectiveWeight"]) == ("lattice", int(weight))
    assert not any("cannot be served exactly" in w for w in run.warnings)


def test_one_service_and_health_check_per_version(run):
    for version in ("v1", "v2"):
        service = run.k8s("Service", f"notification-{version}")
        assert service.get("spec.selector") == {"app": "notification-restapp", "version": version}
        assert service.get("spec.ports.0.targetPort") == 8096
        policy = run.k8s("TargetGroupPolicy", f"notification-{version}")
        assert policy.get("spec.targetRef") == {
            "group": "", "kind": "Service", "name": f"notification-{version}"}
        # Lattice checks `/` by default, which the notification app answers with 404
        assert policy.get("spec.healthCheck.path") == "/notification/health-status"


def test_capacity_follows_traffic(run, program):
    assert run.k8s("Deployment", "v1-notification-microservice").get("spec.replicas") == 4
    assert run.k8s("Deployment", "v2-notification-microservice").get("spec.replicas") == 1
    nothing = program({**LATTICE, "canaryWeight": "0", "notificationReplicas": "4"})
    assert nothing.k8s("Deployment", "v2-notification-microservice").get("spec.replicas") == 0


def test_user_management_calls_the_lattice_service(run):
    usermgmt = run.k8s("Deployment", "usermgmt-microservice")
    env = env_of(usermgmt.get("spec.template.spec.containers.0"))
    assert env["NOTIFICATION_SERVICE_HOST"] == fakes.LATTICE_DOMAIN
    assert env["NOTIFICATION_SERVICE_HOST"] != "notification-clusterip-service"
    assert env["NOTIFICATION_SERVICE_PORT"] == "80"
    [route] = of_kind(run, "HTTPRoute")
    assert run.depends_on(usermgmt, route)


def test_route_waits_for_its_lattice_dns_name(run):
    [route] = of_kind(run, "HTTPRoute")
    notes = route.get("metadata.annotations")
    assert notes["pulumi.com/waitFor"] == (
        "jsonpath={.metadata.annotations"
        "['application-networking.k8s.aws/lattice-assigned-domain-name']}")
    # Lattice service names are unique per account and region: named after the stack
    name = notes["application-networking.k8s.aws/service-name-override"]
    assert name == "eks-canary-dev-notification" and 3 <= len(name) <= 40


def test_first_preview_passes_an_unknown_address(program):
    # `pulumi preview`, and the preview `pulumi up` starts with, of a stack without the route:
    # the provider returns the route's inputs, without the controller's annotation
    run = program({**LATTICE, "canaryWeight": "10"}, preview=True)
    assert run.error is None, run.error
    usermgmt = run.k8s("Deployment", "usermgmt-microservice")
    env = env_of(usermgmt.get("spec.template.spec.containers.0"))
    assert env["NOTIFICATION_SERVICE_HOST"] == UNKNOWN
    assert env["NOTIFICATION_SERVICE_PORT"] == "80"

def test_weight_change_touches_only_the_route_and_the_replica_counts(program):
    before = program({**LATTICE, "canaryWeight": "10", "notificationReplicas": "4"})
    after = program({**LATTICE, "canaryWeight": "90", "notificationReplicas": "4"})
    assert changed(before, after) == {
        "deployment-v1-notification-microservice": ["spec.replicas"],
        "deployment-v2-notification-microservice": ["spec.replicas"],
        "httproute-notification": ["spec.rules.0.backendRefs.0.weight",
                                   "spec.rules.0.backendRefs.1.weight"],
    }
    assert weights(after) == {"notification-v1": 10, "notification-v2": 90}


# ---- destroy order (Pulumi deletes dependants first)

def test_destroy_order(run):
    release = run.one(RELEASE, "gateway-api-controller")
    crds = run.one(CONFIG_FILE)
    network = run.one(SERVICE_NETWORK)
    association = run.one(ASSOCIATION)
    [route] = of_kind(run, "HTTPRoute")
    [gateway] = of_kind(run, "Gateway")
    role = role_for(run, NAMESPACE, "gateway-api-controller")
    attachment = next(a for a in run.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.parent == role.parent)
    # routes and Gateway go while the controller runs (their finalizers need it), and before
    # the CRDs that define them
    for obj in (route, gateway, *of_kind(run, "TargetGroupPolicy"), *of_kind(run, "GatewayClass")):
        assert run.depends_on(obj, release), obj.name
        assert run.depends_on(obj, crds), obj.name
    # the association outlives the Lattice targets: the route and the notification pods
    for obj in (route, run.k8s("Deployment", "v1-notification-microservice"),
                run.k8s("Deployment", "v2-notification-microservice")):
        assert run.depends_on(obj, association), obj.name
    # the controller goes before its role and the service network
    assert run.depends_on(release, attachment)
    assert run.depends_on(release, network) and run.depends_on(release, association)


def test_route_goes_before_its_gateway_class_gateway_and_services(run):
    # aws/aws-application-networking-k8s v2.1.3, pkg/k8s/utils.go: the controller reconciles a
    # Gateway only while its GatewayClass exists (IsControlledByLatticeGatewayController), and a
    # route only while its Gateway and that class exist (FindControlledParents); otherwise it
    # ignores them and their finalizers stay, so `pulumi destroy` would hang on them. A route
    # deleted while its Services exist deletes their target groups itself (IsDeleted,
    # pkg/gateway/model_build_targetgroup.go); a missing Service is only an invalid backend.
    [gateway_class] = of_kind(run, "GatewayClass")
    [gateway] = of_kind(run, "Gateway")
    [route] = of_kind(run, "HTTPRoute")
    assert run.depends_on(gateway, gateway_class)
    assert run.depends_on(route, gateway) and run.depends_on(route, gateway_class)
    for version in ("v1", "v2"):
        assert run.depends_on(route, run.k8s("Service", f"notification-{version}")), version


# ---- the other strategies have none of it

@pytest.mark.parametrize("config", [{}, {"canaryStrategy": "istio"}])
def test_other_strategies_have_no_lattice_resource(program, config):
    run = program(config)
    assert run.error is None, run.error
    assert not [r for r in run.resources if r.type.startswith("aws:vpclattice/")]
    assert not [r for r in run.of_type(INGRESS_RULE) if r.inputs.get("prefixListId")]
    assert not run.of_type(CONFIG_FILE)
    assert not [r for r in run.of_type(RELEASE) if r.name == "gateway-api-controller"]
    assert not [r for r in run.k8s_objects() if r.inputs["kind"] in GATEWAY_API_KINDS]
    assert not [r for r in run.k8s_objects()
                if r.get("metadata.name", "").startswith("notification-v")]
    usermgmt = run.k8s("Deployment", "usermgmt-microservice")
    env = env_of(usermgmt.get("spec.template.spec.containers.0"))
    assert (env["NOTIFICATION_SERVICE_HOST"], env["NOTIFICATION_SERVICE_PORT"]) == \
        ("notification-clusterip-service", "8096")


# ---- the pure builders

def test_route_weights_reject_out_of_range():
    assert routing_lattice.route_weights(37) == {"v1": 63, "v2": 37}
    for bad in (-1, 101):
        with pytest.raises(ValueError, match="0..100"):
            routing_lattice.route_weights(bad)


def test_domain_name_is_read_from_the_controllers_annotation():
    meta = {"name": "notification", "annotations": {
        "application-networking.k8s.aws/lattice-assigned-domain-name": "x.on.aws"}}
    assert routing_lattice.domain_name(meta) == "x.on.aws"
    with pytest.raises(ValueError, match="Gateway API Controller"):
        routing_lattice.domain_name({"name": "notification"})


def test_lattice_service_name_fits_forty_characters():
    assert routing_lattice.lattice_service_name("eks-canary-dev") == \
        "eks-canary-dev-notification"
    long = "eks-canary-" + "a" * 30 + "-b"
    name = routing_lattice.lattice_service_name(long)
    assert len(name) <= 40 and "--" not in name and re.fullmatch(r"[a-z0-9-]+", name)
    # two long stacks that differ only at the end keep distinct services
    assert name != routing_lattice.lattice_service_name(long[:-1] + "c")


def test_readme_documents_the_lattice_strategy():
    from components.config_keys import KEYS
    from tests.harness import ROOT
    readme = (ROOT / "README.md").read_text()
    [key] = [k for k in KEYS if k.name == "canaryStrategy"]
    assert f"| `canaryStrategy` | string | `replicas` | " \
           f"{key.description.replace(chr(39), '`')} |" in readme
    assert "| | `replicas` (default, the course's) | `istio` | `lattice` |" in readme
    for fact in ("v2.1.3", "v1.5.0", "com.amazonaws.<region>.vpc-lattice",
                 "lattice-assigned-domain-name", "App Mesh"):
        assert fact in readme, fact
