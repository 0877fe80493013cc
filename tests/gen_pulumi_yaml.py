"""Regenerate Pulumi.yaml's `config:` block from the key table (components/config_keys.py).

    venv/bin/python -m tests.gen_pulumi_yaml

The rest of Pulumi.yaml (name, description, runtime) is kept; tests/test_config.py checks that
the two stay identical.
"""

from __future__ import annotations

import json
import re

from components.config_keys import KEYS
from tests.harness import ROOT


def default_text(key) -> str:
    value = key.default
    if key.type == "boolean":
        return "true" if value else "false"
    if key.type == "array":
        return json.dumps(value)
    if key.type == "string":
        if value == "":
            return '""'
        return json.dumps(value) if re.fullmatch(r"[\d.]+", value) or ":" in value else value
    return str(value)


def config_block() -> str:
    blocks = []
    for key in KEYS:
        block = f"  {key.name}:\n    type: {key.type}\n"
        if key.type == "array":
            block += "    items:\n      type: string\n"
        block += f"    default: {default_text(key)}\n"
        block += f"    description: {json.dumps(key.description)}\n"
        blocks.append(block)
    return "config:\n" + "".join(blocks)


def main() -> None:
    path = ROOT / "Pulumi.yaml"
    head = path.read_text().split("config:\n", 1)[0]
    path.write_text(head + config_block())


if __name__ == "__main__":
    main()
