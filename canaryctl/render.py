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
from components.canary import inexact_warning, plan_split
from components.config import StackConfig, parse_config
from components.config_keys import KEYS
from components.config_rules import ConfigError
from components.partition import in_partition as _in_partition
from components.targets import local
from components.targets.aws import app_services as aws_app_services

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
    """The validated config of a stack, as the program would see it. `overrides` may name a
    key as the stack files do (`eks-canary:canaryWeight`) or without the project's prefix; a
    key of this project that the key table does not know is refused, like in `pulumi up`."""
    name = project()["name"]
    overrides = {key.removeprefix(f"{name}:"): value for key, value in (overrides or {}).items()}
    raw, secret_keys = stack_config(stack, overrides)
    return parse_config({k: v for k, v in raw.items() if ":" not in k},
                        project=name, stack=stack, region=raw.get("aws:region"),
                        secret_keys=secret_keys | (set(overrides) & SECRET_KEYS),
                        to_secret=lambda value: value,
                        unknown_fix=f"drop `--set {{key}}=...`, or remove it from "
                                    f"Pulumi.{stack}.yaml")


def in_partition(value: Any, partition: str) -> Any:
    """A placeholder ARN moved to the stack's partition; other values as they are."""
    return _in_partition(value, partition) if isinstance(value, str) else value


def render_objects(cfg: StackConfig, cloud: CloudValues = CloudValues()) -> dict[str, list[dict]]:
    """Objects by component, in apply order."""
    split = plan_split(cfg.canary_strategy, cfg.canary_weight, cfg.notification_replicas)
    if cfg.target == "local":  # the same app, on what the local platform runs in the cluster
        services = local.app_services(cfg, cloud.db_password)
        return {"app": build_app(app_spec(cfg, split, services)),
                **local.backing_objects(cfg, cloud.db_password)}
    # placeholders in the stack's partition, as AWS would give them
    certificate = cfg.certificate_arn or (in_partition(cloud.certificate_arn, cfg.partition)
                                          if cfg.domain_name else None)
    services = aws_app_services(
        cfg, tracing=endpoint(cfg.tracing), db_address=cloud.db_address,
        db_password=cloud.db_password, certificate_arn=certificate,
        smtp_username=cloud.smtp_username, smtp_password=cloud.smtp_password,
        lattice_cidrs=cloud.lattice_cidrs)
    spec = app_spec(cfg, split, services, notification_host=cloud.lattice_domain_name)
    # one folder for either backend, so a re-render after switching leaves no stale objects
    objects = {"app": build_app(spec),
               "tracing": tracing_objects(cfg.tracing, cfg.region,
                                          in_partition(cloud.xray_role_arn, cfg.partition))}
    if cfg.canary_strategy == "lattice":
        objects["gateway-api-controller"] = controller_objects(GatewayApiControllerProps())
    return objects


RECORD = ".canaryctl-render"  # the files the last render wrote into a folder, one per line


class FolderError(Exception):
    """The output folder holds files that render did not write: it is left as it is."""


def written_files(out: Path) -> list[Path]:
    """What the last render into `out` wrote (relative paths), from its record."""
    record = out / RECORD
    return [Path(line) for line in record.read_text().splitlines() if line] \
        if record.is_file() else []


def clear(out: Path) -> None:
    """Remove what an earlier render wrote into `out` (and the folders it left empty); refuse,
    before removing anything, when `out` holds a file that no render wrote."""
    if not out.exists():
        return
    if not out.is_dir():
        raise FolderError(f"{out} is a file, not a folder")
    ours = {out / path for path in written_files(out)} | {out / RECORD}
    foreign = sorted(p for p in out.rglob("*") if not p.is_dir() and p not in ours)
    if foreign:
        shown = ", ".join(str(p.relative_to(out)) for p in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise FolderError(f"{out} holds files that render did not write ({shown}{more}); "
                          "choose another --out, or remove them")
    for path in ours:
        path.unlink(missing_ok=True)
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def write(objects: dict[str, list[dict]], out: Path, kubernetes_version: str) -> list[Path]:
    """One YAML file per object, numbered in apply order, in a folder per component. What an
    earlier render wrote into `out` is removed first (so no stale object mixes in), and the
    files written are recorded in `out/.canaryctl-render` for the next render."""
    clear(out)
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for component, items in objects.items():
        folder = out / component
        folder.mkdir(exist_ok=True)
        for index, obj in enumerate(items, start=1):
            path = folder / f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
            path.write_text(yaml.safe_dump(obj, sort_keys=False))
            written.append(path)
    (out / "KUBERNETES_VERSION").write_text(kubernetes_version + "\n")
    files = [*written, out / "KUBERNETES_VERSION"]
    (out / RECORD).write_text("".join(f"{p.relative_to(out)}\n" for p in files))
    return written


def describe_split(cfg: StackConfig) -> list[str]:
    """What `pulumi up` would serve: the strategy, the weight asked, the split served, and the
    same warning as `pulumi up` when the replica strategy cannot serve the weight exactly."""
    split = plan_split(cfg.canary_strategy, cfg.canary_weight, cfg.notification_replicas)

    def pods(n: int) -> str:
        return f"{n} pod" if n == 1 else f"{n} pods"
    lines = [f"canaryStrategy {split.strategy}: canaryWeight {split.requested_weight} serves "
             f"{split.effective_weight:g}% of notification calls to V2 "
             f"(V1 {pods(split.v1_replicas)}, V2 {pods(split.v2_replicas)})"]
    if (warning := inexact_warning(split)) is not None:
        lines.append(f"warning: {warning}")
    return lines


def render_fix(stack: str) -> str:
    """How to fix a value in `render`: on its command line, or in the stack file."""
    return (f"fix with `--set <key>=<value>`, or in Pulumi.{stack}.yaml with "
            f"`pulumi config set <key> <value> --stack {stack}`")


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
    except ConfigError as error:
        print(f"render: {error.report(render_fix(args.stack))}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"render: {error}", file=sys.stderr)
        return 2
    objects = render_objects(cfg)
    try:
        written = write(objects, args.out, cfg.kubernetes_version)
    except FolderError as error:
        print(f"render: {error}", file=sys.stderr)
        return 2
    for line in describe_split(cfg):
        print(line)
    summary = ", ".join(f"{component} {len(items)}" for component, items in objects.items())
    print(f"wrote {len(written)} objects to {args.out} ({summary}) for Kubernetes "
          f"{cfg.kubernetes_version}; values marked PLACEHOLDER exist only after deployment")
    return 0
