"""Read a stack's config the way the Pulumi CLI hands it to the program, without the CLI.

Pulumi.yaml declares defaults; Pulumi.<stack>.yaml sets values, encrypted ones as `secure:`.
Encrypted values cannot be read without the stack's secrets provider, so they come back as
placeholders, listed among the secret keys (what the program sees for them is a secret too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "Placeholder-Secret-0"  # valid for every secret key's rules


def _text(value: Any) -> str:
    # as the Pulumi CLI hands config to the program: JSON for booleans and structured values
    return json.dumps(value) if isinstance(value, bool | list | dict) else str(value)


def project(root: Path = ROOT) -> dict[str, Any]:
    return yaml.safe_load((root / "Pulumi.yaml").read_text())


def project_defaults(root: Path = ROOT) -> dict[str, str]:
    """What the Pulumi CLI fills in from Pulumi.yaml for keys the stack does not set: the
    project's keys' `default`, other namespaces' `value` (aws:region)."""
    declared = project(root).get("config") or {}
    return {key: _text(spec["default"] if "default" in spec else spec["value"])
            for key, spec in declared.items()
            if isinstance(spec, dict) and ("default" in spec or "value" in spec)}


def stack_values(stack: str, root: Path = ROOT) -> tuple[dict[str, str], set[str]]:
    """`Pulumi.<stack>.yaml` values keyed without the project prefix, and the secret keys."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name} (stacks: "
                                f"{', '.join(p.name[7:-5] for p in root.glob('Pulumi.*.yaml'))})")
    name = project(root)["name"]
    values, secrets = {}, set()
    for key, value in ((yaml.safe_load(path.read_text()) or {}).get("config") or {}).items():
        key = key.removeprefix(f"{name}:")
        if isinstance(value, dict) and "secure" in value:
            values[key] = SECRET_PLACEHOLDER
            secrets.add(key)
        else:
            values[key] = _text(value)
    return values, secrets


def stack_config(stack: str, overrides: dict[str, str] | None = None,
                 root: Path = ROOT) -> tuple[dict[str, str], set[str]]:
    """Defaults, then the stack file, then `overrides`: what `pulumi up` would run with."""
    values, secrets = stack_values(stack, root)
    merged = {**project_defaults(root), **values, **(overrides or {})}
    return merged, secrets
