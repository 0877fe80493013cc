"""Small helpers and constants shared by the test modules."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from canaryctl.stackfiles import project_defaults

REPO_ROOT = Path(__file__).resolve().parent.parent
FAKE_PULUMI_DIR = REPO_ROOT / "tests" / "fake_pulumi"
DOMAIN = {"domainName": "canary.example.com", "hostedZoneName": "example.com"}
SECRETS = {"dbPassword": "Db-Secret-Value-456", "smtpUsername": "AKIAEXAMPLE",
           "smtpPassword": "smtp-Secret-Value-123"}


def diff(a: Any, b: Any, path: tuple = ()) -> list[tuple]:
    """Paths at which two plain trees differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for key in a.keys() | b.keys()
                for p in diff(a.get(key, KeyError), b.get(key, KeyError), (*path, key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True))
                for p in diff(x, y, (*path, i))]
    return [] if a == b else [path]


def env_of(container: dict) -> dict[str, Any]:
    """A container's env as name -> value (or valueFrom)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
_JVM = {"k": 2**10, "m": 2**20, "g": 2**30}


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity ("1Gi", "768Mi", "500M", "1048576") in bytes."""
    for suffix, factor in sorted(_BINARY.items(), key=lambda kv: -len(kv[0])):
        if quantity.endswith(suffix):
            return int(quantity[: -len(suffix)]) * factor
    return int(quantity)


def jvm_bytes(size: str) -> int:
    """A JVM size argument ("512m", "1g", "65536k", "1048576") in bytes."""
    suffix = size[-1].lower()
    return int(size[:-1]) * _JVM[suffix] if suffix in _JVM else int(size)


def jvm_flags(java_opts: str) -> dict[str, str]:
    """JAVA_OPTS as flag -> value: -Xmx512m -> {"-Xmx": "512m"}, -XX:Name=v -> {"Name": "v"},
    -XX:+Flag -> {"Flag": "+"}."""
    flags: dict[str, str] = {}
    for word in java_opts.split():
        if word.startswith("-Xmx") or word.startswith("-Xss") or word.startswith("-Xms"):
            flags[word[:4]] = word[4:]
        elif word.startswith("-XX:+") or word.startswith("-XX:-"):
            flags[word[5:]] = word[4]
        elif word.startswith("-XX:") and "=" in word:
            name, _, value = word[4:].partition("=")
            flags[name] = value
        else:
            flags[word] = ""
    return flags


def fake_pulumi_path(*first: Path) -> str:
    """PATH for code that runs `pulumi`: ``first``, the stand-in pulumi, this interpreter's
    folder, then the inherited PATH."""
    return os.pathsep.join([*(str(f) for f in first), str(FAKE_PULUMI_DIR),
                            str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def write_fake_pulumi_state(path: Path, stacks: dict[str, Any], current: str | None = None,
                            **top: Any) -> None:
    """A state file for tests/fake_pulumi/pulumi: the project, Pulumi.yaml's defaults (which
    its `up` applies like the CLI), ``stacks`` and any other top-level setting (``upSeconds``,
    ``upOutputs``, ...)."""
    path.write_text(json.dumps({"project": "eks-canary", "current": current,
                                "defaults": project_defaults(REPO_ROOT), "calls": [],
                                "stacks": stacks, **top}))
