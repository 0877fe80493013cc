"""The live life-cycle test: a real stack, on a real cluster, from `stack init` to `stack rm`.

Opt-in: it runs only with EKS_CANARY_LIVE=local (any Kubernetes cluster on a kubeconfig
context: kind, k3d, minikube, Docker Desktop) or EKS_CANARY_LIVE=aws (an AWS account; it
costs money), and the Pulumi CLI on PATH. See the README, "Live life-cycle test (opt-in)":

    EKS_CANARY_LIVE=local venv/bin/python -m pytest -m live -s tests/live

Settings (environment): EKS_CANARY_LIVE_CONTEXT (local: the kubeconfig context; default the
current one), EKS_CANARY_LIVE_REGION or AWS_REGION (aws), EKS_CANARY_LIVE_STRATEGY
(`replicas`, the default, or `istio`), EKS_CANARY_LIVE_KEEP=1 (leave a failed stack for
inspection instead of destroying it). The driver is tests/live/lifecycle.py; the ordinary suite
runs it against stand-ins in tests/live/test_driver.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import pytest
from pulumi import automation as auto

from components.config_keys import DEFAULTS
from components.targets import local
from tests.live.leftovers import AwsLeftovers, LocalLeftovers
from tests.live.lifecycle import (
    ROOT,
    Plan,
    Runners,
    log_to_stdout,
    run_canaryctl,
    run_life_cycle,
    unique_stack_name,
)
from tests.live.reach import port_forward, public_url

TARGET = os.environ.get("EKS_CANARY_LIVE", "")
PULUMI = shutil.which("pulumi")


def _skip_reason() -> str:
    wanted = "set EKS_CANARY_LIVE=local or EKS_CANARY_LIVE=aws and put the Pulumi CLI on PATH"
    seen = (f"EKS_CANARY_LIVE={TARGET!r}" if TARGET else "EKS_CANARY_LIVE unset") + \
        (", pulumi on PATH" if PULUMI else ", no pulumi on PATH")
    return f"opt-in live test: {wanted} ({seen})"


pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(TARGET not in ("local", "aws") or PULUMI is None, reason=_skip_reason()),
]


def _local(env: Mapping[str, str], config: dict[str, str],
           strategy: str) -> tuple[LocalLeftovers, str]:
    if shutil.which("kubectl") is None:
        pytest.skip("EKS_CANARY_LIVE=local needs kubectl on PATH (port-forward, leftover check)")
    context = env.get("EKS_CANARY_LIVE_CONTEXT") or subprocess.run(
        ["kubectl", "config", "current-context"], capture_output=True, text=True,
        check=True).stdout.strip()
    # set explicitly, so the stack, its port-forward and the leftover check use one cluster
    # even if the current context changes during the run
    config["kubeContext"] = context
    namespaces = [DEFAULTS["appNamespace"], *local.NAMESPACES] + (
        ["istio-system"] if strategy == "istio" else [])
    return LocalLeftovers(context, namespaces), context


def _aws(env: Mapping[str, str], config: dict[str, str]) -> AwsLeftovers:
    region = env.get("EKS_CANARY_LIVE_REGION") or env.get("AWS_REGION")
    if not region:
        pytest.skip("EKS_CANARY_LIVE=aws needs the region: set EKS_CANARY_LIVE_REGION or "
                    "AWS_REGION")
    try:
        import boto3  # noqa: F401 - the leftover check asks the Resource Groups Tagging API
    except ImportError:
        pytest.skip("EKS_CANARY_LIVE=aws needs boto3 for the leftover check (Resource Groups "
                    "Tagging API): venv/bin/pip install -r requirements.txt")
    config["aws:region"] = region
    return AwsLeftovers(region)


def live_setup(env: Mapping[str, str], **sampling: Any) -> tuple[Plan, Runners]:
    """The plan and the real runners for the target ``env`` names. ``sampling`` overrides
    Plan's requests/concurrency/timeout/steps/bake (the suite's run of this wiring uses
    small ones, tests/live/test_driver.py)."""
    target = env["EKS_CANARY_LIVE"]
    strategy = env.get("EKS_CANARY_LIVE_STRATEGY", "replicas")
    config = {"target": target, "canaryWeight": "50", "canaryStrategy": strategy}
    leftovers: LocalLeftovers | AwsLeftovers
    if target == "local":
        leftovers, where = _local(env, config, strategy)
        reach: Callable[[Mapping[str, Any]], AbstractContextManager[str]] = port_forward
    else:
        leftovers = _aws(env, config)
        where, reach = leftovers.region, public_url
    plan = Plan(**{"stack": unique_stack_name(target), "target": target, "config": config,
                   "requests": 200, "concurrency": 10, "timeout": 10.0, "steps": "25,50,100",
                   "bake": 30.0, "keep_on_failure": env.get("EKS_CANARY_LIVE_KEEP") == "1",
                   **sampling})
    log_to_stdout(f"live life cycle on {target} ({where}), strategy {strategy}")
    runners = Runners(workspace=lambda: auto.LocalWorkspace(work_dir=str(ROOT)), reach=reach,
                      canaryctl=run_canaryctl, leftovers=leftovers, log=log_to_stdout)
    return plan, runners


def test_life_cycle() -> None:
    run_life_cycle(*live_setup(os.environ))
