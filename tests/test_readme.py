"""The README's first screen and the facts it states about the program."""

from __future__ import annotations

import re

from tests.harness import ROOT
from tests.util import DOMAIN

README = (ROOT / "README.md").read_text()


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_first_screen_has_both_commands_and_the_cost():
    first = "\n".join(README.splitlines()[:60])
    assert "pulumi up" in first and "bash tests/run" in first
    assert re.search(r"\d+(\.\d+)? USD", first)  # a cost figure in USD
    assert "| **total, before traffic** |" in first and "per day" in first
    assert "#try-it-locally-free" in first  # the way without an AWS account


def test_the_table_of_contents_links_to_headings_that_exist():
    headings = {anchor(h) for h in re.findall(r"^#{2,3} (.+)$", README, re.M)}
    contents = README.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(links) >= 10
    assert [link for link in links if link not in headings] == []
    # use before detail: the design notes come after the config reference
    assert README.index("## Config reference") < README.index("## Architecture") \
        < README.index("## Design notes")


def test_kubectl_and_its_kubeconfig_are_explained():
    prerequisites = README.split("## Prerequisites\n", 1)[1].split("\n## ", 1)[0]
    assert "kubectl" in prerequisites
    assert 'aws eks update-kubeconfig --name "$(pulumi stack output clusterName)"' in README
    assert "pulumi stack output kubeconfig --show-secrets" in README and "umask 077" in README


def test_every_stack_output_the_readme_names_exists(program):
    named = set(re.findall(r"pulumi stack output (?:--\S+ )*([A-Za-z]+)", README))
    assert {"clusterName", "region", "url", "kubeconfig", "databaseFinalSnapshot"} <= named
    runs = [program(), program(DOMAIN), program({"target": "local"}, stack="local")]
    assert [run.error for run in runs] == [None, None, None]
    assert named <= {name for run in runs for name in run.outputs}


def test_the_cost_table_adds_up():
    rows = README.split("**What it costs**", 1)[1].split("\n\n", 2)[1].splitlines()[2:]
    items, total = [], None
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if cells[0].startswith("**total"):
            total = (float(cells[2].strip("*")), float(cells[3].split()[0].strip("*")))
            break
        items.append((float(cells[2]), float(cells[3])))
    assert total is not None and len(items) == 8
    assert abs(sum(h for h, _ in items) - total[0]) < 0.005
    assert abs(sum(d for _, d in items) - total[1]) < 0.015
    assert all(abs(h * 24 - d) < 0.02 for h, d in items)  # a day is 24 hours of each


def test_the_local_port_forwards_the_readme_writes_out_are_the_outputs(program):
    """The README spells the port-forwards out (a new terminal would first ask for the
    passphrase): they must be what a default local stack exports."""
    run = program({"target": "local"}, stack="local")
    for output in ("portForward", "traceUiPortForward", "mailUiPortForward"):
        assert f"`{run.outputs[output]}`" in README.replace("\n", " ") or \
            run.outputs[output] in README, output
