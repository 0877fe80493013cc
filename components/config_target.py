"""The `target` rules: which keys mean something on which platform.

Core. With `target: local` the program must not need AWS at all, so a key that only AWS reads
(`config_keys.AWS_ONLY`), or VPC Lattice, set away from its default is an error naming both
keys, instead of a value silently ignored; likewise `kubeContext` on AWS.

`tracing` is not among them: the Pulumi CLI fills in its default (`xray-daemon`), so an unset
key cannot be told from a set one. On a local cluster either value runs the OpenTelemetry
collector, which sends the apps' segments to Jaeger (the X-Ray daemon can only send to AWS).
"""

from __future__ import annotations

import json

from components.config_keys import (
    AWS_ONLY,
    AWS_ONLY_STRATEGIES,
    DEFAULTS,
    KEYS,
    LOCAL_ONLY,
    TARGETS,
)
from components.config_rules import Reader

_TYPES = {key.name: key.type for key in KEYS}


def is_default(key: str, value: str | None) -> bool:
    """Whether a raw config value is unset or spells the key's default."""
    if value is None:
        return True
    text, default = value.strip(), DEFAULTS[key]
    kind = _TYPES[key]
    if kind == "integer":
        return text.lstrip("+") == str(default)
    if kind == "boolean":
        return text.lower() == str(default).lower()
    if kind == "array":
        try:
            return text == "" or json.loads(text) == default
        except ValueError:
            return False
    return text == default


def check_target(r: Reader) -> str:
    """The validated target ('aws' when invalid, so the other keys are still checked)."""
    target = r.text("target")
    if target not in TARGETS:
        r.problem("target", " or ".join(repr(t) for t in TARGETS))
        return "aws"
    if target == "local":
        for key in sorted(AWS_ONLY):
            if not is_default(key, r.raw.get(key)):
                r.problem(key, f"only with target 'aws' (this stack's target is 'local'; "
                               f"`pulumi config rm {key}`)")
        strategy = r.text("canaryStrategy")
        if strategy in AWS_ONLY_STRATEGIES:
            r.problem("canaryStrategy", f"'replicas' or 'istio' with target 'local' "
                                        f"({strategy!r} needs AWS: set target 'aws')")
    else:
        for key in sorted(LOCAL_ONLY):
            if not is_default(key, r.raw.get(key)):
                r.problem(key, "only with target 'local' (this stack's target is 'aws')")
    # a kubeconfig context name: anything printable without blanks (kind-canary, k3d-canary,
    # minikube, docker-desktop, arn:aws:eks:...:cluster/x, user@cluster)
    context = r.text("kubeContext")
    if context and any(c.isspace() for c in context):
        r.problem("kubeContext", "a kubeconfig context name (`kubectl config get-contexts`), "
                                 "without blanks")
    return target
