"""Kubernetes versions and their EKS standard-support dates (the EKS release calendar).

`today` is an input of the check, so these tests use fixed dates; one test checks the default
version against the real date of the run.
"""

from datetime import UTC, date, datetime

import pytest

from components.config import parse_config
from components.config_keys import KEYS
from components.config_rules import ConfigError
from components.eks_addons import STANDARD_SUPPORT_ENDS, support_warning

DEFAULT_VERSION = next(k.default for k in KEYS if k.name == "kubernetesVersion")


def parse(today, **raw):
    return parse_config(raw, project="eks-canary", stack="dev", region="us-east-1",
                        to_secret=lambda v: v, today=today)


def problems(today, **raw):
    with pytest.raises(ConfigError) as caught:
        parse(today, **raw)
    return caught.value.problems


def test_the_calendar_is_the_eks_release_calendar():
    assert STANDARD_SUPPORT_ENDS["1.33"] == date(2026, 7, 29)
    assert STANDARD_SUPPORT_ENDS["1.34"] == date(2026, 12, 2)
    assert STANDARD_SUPPORT_ENDS["1.35"] == date(2027, 3, 27)


def test_a_version_past_its_standard_support_is_refused_with_the_date_and_the_choices():
    [message] = problems(date(2026, 12, 7), kubernetesVersion="1.33")
    assert message.startswith("kubernetesVersion: got '1.33'")
    assert "2026-07-29" in message and "1.35" in message and "1.34" not in message.split(
        "allowed:")[1].split("(")[0]
    [message] = problems(date(2026, 12, 7), kubernetesVersion="1.34")
    assert "2026-12-02" in message


def test_the_last_day_of_standard_support_is_still_allowed():
    assert parse(date(2026, 12, 2), kubernetesVersion="1.34").kubernetes_version == "1.34"
    assert problems(date(2026, 12, 3), kubernetesVersion="1.34")


def test_the_default_version_has_standard_support_today():
    today = datetime.now(UTC).date()
    assert STANDARD_SUPPORT_ENDS[DEFAULT_VERSION] >= today
    assert parse(None).kubernetes_version == DEFAULT_VERSION  # None: the real date


def test_less_than_60_days_left_warns_with_the_upgrade_step():
    assert support_warning("1.35", date(2027, 1, 26)) is None  # 60 days left
    warning = support_warning("1.35", date(2027, 1, 27))
    assert warning is not None
    assert "2027-03-27" in warning and "59 days" in warning
    assert "pulumi config set kubernetesVersion 1.36" in warning


def test_a_newer_version_than_the_calendar_warns_that_its_date_is_unknown():
    cfg = parse(date(2026, 12, 7), kubernetesVersion="1.36", vpcCniVersion="v1.21.1-eksbuild.8",
                kubeProxyVersion="v1.36.0-eksbuild.14", corednsVersion="v1.14.3-eksbuild.3")
    assert cfg.kubernetes_version == "1.36"
    assert "not in" in (support_warning("1.36", date(2026, 12, 7)) or "")


def test_every_up_warns_near_the_end(program):
    """Under the harness (real date): the default version has more than 60 days left."""
    run = program()
    assert run.error is None, run.error
    assert not [w for w in run.warnings if "standard support" in w]


def test_an_up_refuses_1_33_with_its_date(program):
    run = program({"kubernetesVersion": "1.33"})
    assert run.error is not None and "kubernetesVersion: got '1.33'" in run.error
    assert "2026-07-29" in run.error and not run.resources


def test_an_up_near_the_end_warns_and_one_past_it_stops(monkeypatch):
    """`today` of a whole run, set through the module the program imports (the harness forks
    the test process, so the child sees the patched function)."""
    from components import config as config_module
    from tests.harness import run_program

    monkeypatch.setattr(config_module, "utc_today", lambda: date(2027, 2, 1))
    run = run_program({})
    assert run.error is None, run.error
    [warning] = [w for w in run.warnings if "standard support" in w]
    assert "2027-03-27" in warning and "pulumi config set kubernetesVersion 1.36" in warning

    monkeypatch.setattr(config_module, "utc_today", lambda: date(2027, 3, 28))
    run = run_program({})
    assert run.error is not None and "2027-03-27" in run.error and not run.resources


def test_a_local_stack_never_dates_out(monkeypatch):
    """kubernetesVersion is EKS's: a local cluster's version is the user's own, so neither the
    refusal past the date nor the warning applies to target local (it cannot even set the key)."""
    from components import config as config_module
    from tests.harness import run_program

    monkeypatch.setattr(config_module, "utc_today", lambda: date(2027, 3, 28))
    run = run_program({"target": "local"}, stack="local")
    assert run.error is None, run.error
    assert [w for w in run.warnings if "standard support" in w] == []
    monkeypatch.setattr(config_module, "utc_today", lambda: date(2027, 2, 1))
    run = run_program({"target": "local"}, stack="local")
    assert run.error is None and [w for w in run.warnings if "standard support" in w] == []
