"""`canaryctl render`: write every Kubernetes object the program would apply, as YAML.

For review and for offline validation (kubernetes-validate, checkov), without AWS or the
Pulumi CLI. It calls the same builders the program registers (`app_spec` + `build_app`,
`tracing_objects`: the X-Ray daemon or the OpenTelemetry collector, as `tracing` says); values
that exist only after deployment are clearly marked placeholders.
Helm charts (load balancer controller, ExternalDNS, Istio, the Gateway API controller) and the
Gateway API CRDs are not rendered; with canaryStrategy=lattice the routing objects (GatewayClass,
Gateway, Services, TargetGroupPolicies, HTTPRoute) are.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from canaryctl.stackfiles import project, stack_config
from components.addons.gateway_api_controller import GatewayApiControllerProps, controller_objects
from components.addons.tracing import endpoint, tracing_objects
from components.app.build import build_app
from components.app.routing_lattice import DOCUMENTED_CIDRS
from components.app.spec import app_spec
from components.canary import plan_split
from components.config import StackConfig, parse_config
from components.config_keys import KEYS
from components.config_rules import ConfigError
from components.partition import in_partition as _in_partition

SECRET_KEYS = {key.name for key in KEYS if key.secret}


@dataclass(frozen=True)
class CloudValues:
    """What AWS decides at deploy time; placeholders unless a caller (a test) knows better."""

    db_address: Any = "PLACEHOLDER-rds-address.invalid"
    db_password: Any = "PLACEHOLDER-secret-database-password"
    smtp_username: Any = "PLACEHOLDER-secret-smtp-username"
    smtp_password: Any = "PLACEHOLDER-secret-smtp-password"
    certificate_arn: Any = "arn:aws:acm:PLACEHOLDER:000000000000:certificate/PLACEHOLDER"
    xray_role_arn: Any = "arn:aws:iam::000000000000:role/PLACEHOLDER-tracing"
    # canaryStrategy=lattice: the DNS name the controller gives the route, and the entries of
    # the region's VPC Lattice prefix list (the user guide's documented link-local range)
    lattice_domain_name: Any = "PLACEHOLDER-notification.vpc-lattice-svcs.invalid"
    lattice_cidrs: Any = DOCUMENTED_CIDRS


def load(stack: str, overrides: dict[str, str] | None = None) -> StackConfig:
    """The validated config of a stack, as the program would see it."""
    raw, secret_keys = stack_config(stack, overrides)
    return parse_config({k: v for k, v in raw.items() if ":" not in k},
                        project=project()["name"], stack=stack, region=raw.get("aws:region"),
                        secret_keys=secret_keys | (set(overrides or {}) & SECRET_KEYS),
                        to_secret=lambda value: value)


def in_partition(value: Any, partition: str) -> Any:
    """A placeholder ARN moved to the stack's partition; other values as they are."""
    return _in_partition(value, partition) if isinstance(value, str) else value


def render_objects(cfg: StackConfig, cloud: CloudValues = CloudValues()) -> dict[str, list[dict]]:
    """Objects by component, in apply order."""
    split = plan_split(cfg.canary_strategy, cfg.canary_weight, cfg.notification_replicas)
    # placeholders in the stack's partition, as AWS would give them
    certificate = cfg.certificate_arn or (in_partition(cloud.certificate_arn, cfg.partition)
                                          if cfg.domain_name else None)
    spec = app_spec(cfg, split, tracing=endpoint(cfg.tracing), db_address=cloud.db_address,
                    db_password=cloud.db_password, certificate_arn=certificate,
                    smtp_username=cloud.smtp_username, smtp_password=cloud.smtp_password,
                    lattice_cidrs=cloud.lattice_cidrs,
                    notification_host=cloud.lattice_domain_name)
    # one folder for either backend, so a re-render after switching leaves no stale objects
    objects = {"app": build_app(spec),
               "tracing": tracing_objects(cfg.tracing, cfg.region,
                                          in_partition(cloud.xray_role_arn, cfg.partition))}
    if cfg.canary_strategy == "lattice":
        objects["gateway-api-controller"] = controller_objects(GatewayApiControllerProps())
    return objects


def write(objects: dict[str, list[dict]], out: Path, kubernetes_version: str) -> list[Path]:
    """One YAML file per object, numbered in apply order; stale files are removed first."""
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for component, items in objects.items():
        folder = out / component
        folder.mkdir(exist_ok=True)
        for stale in folder.glob("*.yaml"):
            stale.unlink()
        for index, obj in enumerate(items, start=1):
            path = folder / f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
            path.write_text(yaml.safe_dump(obj, sort_keys=False))
            written.append(path)
    (out / "KUBERNETES_VERSION").write_text(kubernetes_version + "\n")
    return written


def _assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "render", help="write the Kubernetes objects of a stack as YAML (no AWS needed)",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to use")
    parser.add_argument("--out", type=Path, default=Path("build/manifests"),
                        help="output folder (default build/manifests)")
    parser.add_argument("--set", dest="overrides", action="append", type=_assignment,
                        default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set domainName=canary.example.com")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load(args.stack, dict(args.overrides))
    except (ConfigError, FileNotFoundError) as error:
        print(f"render: {error}", file=sys.stderr)
        return 2
    objects = render_objects(cfg)
    written = write(objects, args.out, cfg.kubernetes_version)
    summary = {component: len(items) for component, items in objects.items()}
    print(f"wrote {len(written)} objects to {args.out} ({json.dumps(summary)}); "
          f"Kubernetes {cfg.kubernetes_version}; values marked PLACEHOLDER exist only after "
          f"deployment")
    return 0
