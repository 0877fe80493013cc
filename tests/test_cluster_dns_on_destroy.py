"""Destroy keeps the cluster's DNS until the controllers that clean up AWS objects are gone.

The load balancer controller deletes the ALB and its security groups, ExternalDNS the Route53
records (during the destroy delay), the Gateway API controller the Lattice services: each calls
AWS endpoints by name, resolved by CoreDNS. So each of their releases depends on the coredns
add-on (destroy removes them first), and the add-on is `preserve`d: deleting it from EKS leaves
the CoreDNS Deployment running (pulumi-eks does the same for its own add-ons, cluster.ts).
"""

import pytest

from tests.util import DOMAIN


@pytest.fixture
def run(program):
    result = program({**DOMAIN, "canaryStrategy": "lattice"})
    assert result.error is None, result.error
    return result


def coredns(run):
    return next(r for r in run.of_type("aws:eks/addon:Addon")
                if r.inputs.get("addonName") == "coredns")


def test_the_coredns_addon_is_preserved(run):
    assert coredns(run).inputs.get("preserve") is True


def test_pulumi_eks_is_told_not_to_make_its_own_coredns(run):
    """Its args class sets `enabled=True` once built; passing none leaves the choice to the
    component's defaults: the program says False explicitly."""
    options = run.one("eks:index:Cluster").inputs.get("corednsAddonOptions")
    assert options is not None and options.get("enabled") is False


@pytest.mark.parametrize("release", ["aws-load-balancer-controller", "external-dns",
                                     "gateway-api-controller"])
def test_controllers_that_clean_up_on_destroy_depend_on_coredns(run, release):
    helm = run.one("kubernetes:helm.sh/v3:Release", release)
    assert run.depends_on(helm, coredns(run))


def test_tracing_backend_depends_on_coredns(run):
    """The X-Ray daemon resolves the X-Ray and STS endpoints while it flushes its buffer."""
    daemon_set = run.k8s("DaemonSet", "xray-daemon")
    assert run.depends_on(daemon_set, coredns(run))
