"""Regenerate Pulumi.yaml's `config:` block from the key table (components/config_keys.py).

    venv/bin/python -m tests.gen_pulumi_yaml

The rest of Pulumi.yaml (name, description, runtime) is kept; tests/test_config.py checks that
the two stay identical.

Secret keys (dbPassword, smtpUsername, smtpPassword) are declared without `secret: true`, from
the Pulumi CLI's source (pulumi/pulumi at 1b59498, 2026-08-21):
- `pulumi config set` never reads the project's declarations: it encrypts only with --secret
  (pkg/cmd/pulumi/config/config.go, configSetCmd.Run). Without --secret it refuses a value only
  when the key's name matches passwd|pass|password|pwd|secret|token and the value looks random
  (looksLikeSecret: zxcvbn entropy of its first 16 characters), unless --plaintext is given;
  so `smtpPassword` with a real SES password is refused there, a short or guessable one is not,
  and `smtpUsername` never is.
- `secret: true` is checked at `pulumi up`/`preview`, before the program runs: "Stack '...' with
  configuration key '...' must be encrypted as it's secret" (pkg/workspace/config.go,
  validateStackConfigValue). But a key the stack does not set gets its `default` as a plain
  value first (mergeConfig), so `secret: true` with the empty default fails every stack that
  leaves the key unset, and without a default the key becomes required ("Stack '...' is missing
  configuration value"): neither fits optional secrets.
So the strongest protection is the CLI's own check at `config set` plus the program's refusal
of a plain value before any resource (components/config_rules.py, `secret`).
"""

from __future__ import annotations

import json
import re

from components.config_keys import KEYS, PROJECT_VALUES
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
    for name, (value, description) in PROJECT_VALUES.items():
        blocks.append(f"  {name}:\n    value: {value}\n"
                      f"    description: {json.dumps(description)}\n")
    return "config:\n" + "".join(blocks)


def main() -> None:
    path = ROOT / "Pulumi.yaml"
    head = path.read_text().split("config:\n", 1)[0]
    path.write_text(head + config_block())


if __name__ == "__main__":
    main()
