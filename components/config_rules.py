"""Validation rules of the config contract: patterns, and a reader that collects every problem.

Core: each helper returns the parsed value, or records a problem (key, value given, what is
allowed; secret values never echoed) and returns None, so one run reports every bad key.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping

from components.config_keys import DEFAULTS

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
CERT_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
IMAGE_REF = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
DB_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
K8S_VERSION = re.compile(r"^1\.(\d{2})$")
DB_ENGINE = re.compile(r"^8\.4(\.\d+)?$")
_DB_PASSWORD_FORBIDDEN = set("/'\"@ ")


# an IAM role (with or without a path) or user; not an STS session, not a service-linked role
IAM_PRINCIPAL = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/(?!aws-service-role/)([\w+=,.@-]+/)*[\w+=,.@-]+$"
)


# how to fix a value, by where it came from: `pulumi up` reads the stack config
PULUMI_FIX = ("fix with `pulumi config set <key> <value>`; a key that is not this project's: "
              "`pulumi config rm <key>`")
WHERE_KEYS_ARE = "the keys are declared in Pulumi.yaml (`config:`) and listed in README.md, " \
                 "\"Config reference\""


class ConfigError(Exception):
    """Bad stack config: the message lists every problem, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(self.report(PULUMI_FIX))

    def report(self, fix: str) -> str:
        """The problems under a header that names the fix for where the values came from."""
        return f"invalid stack config ({fix}):\n" + "\n".join(f"  - {p}" for p in self.problems)


def unknown_key_problems(keys: Iterable[str], fix: str = "`pulumi config rm {key}`") -> list[str]:
    """One problem per key of the project's namespace that the key table does not know, with the
    nearest known key (a typo such as canaryWieght must never be silently ignored)."""
    known = {name.lower(): name for name in DEFAULTS}
    problems = []
    for key in sorted(set(keys) - set(DEFAULTS)):
        near = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6)
        guess = f"did you mean `{known[near[0]]}`? " if near else ""
        problems.append(f"{key}: is not a key of this project; {guess}remove it: "
                        f"{fix.format(key=key)}; {WHERE_KEYS_ARE}")
    return problems


class Reader:
    """Reads raw string values and collects every problem instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, str | None], secret_keys: set[str]):
        self.raw = raw
        self.secret_keys = secret_keys
        self.problems: list[str] = []

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None:
            return DEFAULTS[key]
        return value.strip()

    def show(self, key: str) -> str:
        """How to quote a given value in a message; secret values are never echoed."""
        if self.raw.get(key) is None:
            return "not set"
        return "(secret value hidden)" if key in self.secret_keys else repr(self.raw.get(key))

    def problem(self, key: str, allowed: str) -> None:
        given = "not set" if self.raw.get(key) is None else f"got {self.show(key)}"
        self.problems.append(f"{key}: {given}; allowed: {allowed}")

    def string_list(self, key: str, example: str) -> list[str] | None:
        """A list of strings, as structured config reaches the program: JSON text."""
        value = self.raw.get(key)
        if value is None or value.strip() == "":
            return list(DEFAULTS[key])
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.problem(key, f"a list, set item by item with `pulumi config set --path "
                              f"'{key}[0]' {example}`")
            return None
        return items

    def integer(self, key: str, low: int, high: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return DEFAULTS[key]
        allowed = f"a whole number from {low} to {high}" if high is not None else \
            f"a whole number >= {low}"
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            self.problem(key, allowed)
            return None
        number = int(value)
        if number < low or (high is not None and number > high):
            self.problem(key, allowed)
            return None
        return number

    def boolean(self, key: str) -> bool | None:
        value = self.raw.get(key)
        if value is None:
            return DEFAULTS[key]
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        self.problem(key, "true or false")
        return None

    def matching(self, key: str, pattern: re.Pattern[str], allowed: str) -> str | None:
        value = self.text(key)
        if not pattern.fullmatch(value):
            self.problem(key, allowed)
            return None
        return value

    def check(self, key: str, ok: bool, allowed: str) -> None:
        if not ok:
            self.problem(key, allowed)


def is_hostname(value: str) -> bool:
    """A fully qualified DNS hostname: two or more RFC 1123 labels, 253 characters at most."""
    labels = value.split(".")
    return (
        len(value) <= 253
        and len(labels) >= 2
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def is_graviton(instance_type: str) -> bool:
    """Graviton (ARM) families carry a `g` after the generation: t4g, m7g, c6gn, r8g..."""
    return bool(re.fullmatch(r"[a-z]+\d+g[a-z]*", instance_type.split(".")[0]))


def default_zone(domain: str) -> str:
    """The parent zone of a hostname; a two-label name is its own zone (example.com)."""
    labels = domain.split(".")
    return domain if len(labels) <= 2 else ".".join(labels[1:])


def hostname(r: Reader, key: str) -> str | None:
    value = r.text(key).lower().rstrip(".")
    if not value:
        return None
    if not is_hostname(value):
        r.problem(key, "a DNS hostname such as canary.example.com (letters, digits, hyphens, "
                       "two or more dot-separated labels)")
        return None
    return value


def db_password_problems(value: str) -> str | None:
    if not 8 <= len(value) <= 41:
        return "8 to 41 characters"
    if any(c in _DB_PASSWORD_FORBIDDEN or not 32 < ord(c) < 127 for c in value):
        return "printable ASCII without / ' \" @ or space (RDS rules)"
    return None


def secret(r: Reader, key: str) -> str | None:
    """A secret value: it must have been set with --secret, so it is encrypted at rest."""
    value = r.raw.get(key)
    if value is None or value == "":
        return None
    if key not in r.secret_keys:
        r.problems.append(
            f"{key}: is set in plain text; allowed: only a secret "
            f"(`pulumi config set --secret {key} ...`)"
        )
        return None
    return value
