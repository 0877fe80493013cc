"""Guard against silent changes of the resource graph.

The recorded graph (every resource's URN, type, parent, provider, inputs, secret paths,
dependencies and options, plus the stack outputs) of three variants is compared with a
snapshot kept in `tests/snapshots/`. A refactoring must leave it identical: a changed URN
replaces a resource in every existing stack, a changed input updates it.

When a change of the graph is intended, regenerate the snapshots and review their diff:

    UPDATE_GRAPH_SNAPSHOT=1 venv/bin/python -m pytest tests/test_graph_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.util import DOMAIN, diff

SNAPSHOTS = Path(__file__).parent / "snapshots"
SECRETS = {"smtpUsername": "AKIAEXAMPLESMTPUSER", "smtpPassword": "smtp-Secret-Value-123"}
VARIANTS = {
    "http": {},
    "https": DOMAIN,
    "istio": {**DOMAIN, "canaryStrategy": "istio", "canaryWeight": "10"},
    "local": {"target": "local"},
}


def graph(run) -> dict:
    """The run as plain, order-independent JSON data keyed by URN."""
    resources = {}
    for r in run.resources:
        resources[r.urn] = {
            "type": r.type,
            "custom": r.custom,
            "parent": r.parent,
            "provider": r.provider,
            "inputs": r.inputs,
            "secretPaths": sorted(r.secret_paths),
            "dependencies": sorted(set(r.dependencies)),
            "propertyDependencies": {k: sorted(set(v))
                                     for k, v in sorted(r.property_dependencies.items())},
            "options": r.options,
        }
    return {"resources": resources, "outputs": run.outputs}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_graph_matches_snapshot(program, variant):
    config = VARIANTS[variant]
    # SES credentials mean something only on AWS (a local stack refuses them)
    run = program(config, secrets=None if config.get("target") == "local" else SECRETS)
    assert run.error is None, run.error
    current = json.loads(json.dumps(graph(run), sort_keys=True, default=str))
    path = SNAPSHOTS / f"graph-{variant}.json"
    if os.environ.get("UPDATE_GRAPH_SNAPSHOT") == "1":
        path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    added = sorted(set(current["resources"]) - set(expected["resources"]))
    removed = sorted(set(expected["resources"]) - set(current["resources"]))
    changed = {urn: diff(expected["resources"][urn], current["resources"][urn])
               for urn in expected["resources"] if urn in current["resources"]}
    changed = {urn: paths for urn, paths in changed.items() if paths}
    assert not (added or removed or changed), (
        f"URNs added: {added}\nURNs removed: {removed}\n"
        f"resources changed (urn: paths): {json.dumps(changed, default=str)}")
    assert current["outputs"] == expected["outputs"]
