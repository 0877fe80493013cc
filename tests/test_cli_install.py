"""`canaryctl` as an installed command, and its answers before the dependencies are installed."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib

import pytest

from tests.harness import ROOT

INSTALL = "venv/bin/pip install -r requirements.txt -e ."


def bare_python(*args: str) -> subprocess.CompletedProcess[str]:
    """This interpreter without any site-packages (-S): as on a fresh clone, before the
    project's requirements are installed; `-m` still finds the project's own packages."""
    return subprocess.run([sys.executable, "-S", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False, env={"PATH": "/usr/bin:/bin"})


def test_pyproject_declares_the_canaryctl_console_script():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    target = project["scripts"]["canaryctl"]
    module, _, function = target.partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    assert project["requires-python"] == ">=3.11"


def test_the_sdk_is_really_missing_without_site_packages():
    assert bare_python("-c", "import pulumi").returncode != 0
    assert bare_python("-c", "import yaml").returncode != 0


def test_help_works_before_anything_is_installed():
    result = bare_python("-m", "canaryctl", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: canaryctl ")
    for command in ("render", "verify", "promote"):
        assert command in result.stdout
    assert INSTALL in result.stdout  # the commands that need the SDK say how to get it


def test_verify_needs_nothing_but_python():
    result = bare_python("-m", "canaryctl", "verify", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: canaryctl verify" in result.stdout


@pytest.mark.parametrize("command", [["render", "--out", "/nonexistent/x"],
                                     ["promote", "--steps", "10"], ["render", "--help"]])
def test_a_missing_dependency_is_one_line_naming_the_install_command(command):
    result = bare_python("-m", "canaryctl", *command)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"canaryctl {command[0]}: " in line and "is not installed" in line
    assert INSTALL in line


def test_usage_names_the_command_canaryctl(capsys):
    from canaryctl.__main__ import main

    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: canaryctl ")


def test_tests_run_says_what_each_install_does_and_how_long_before_it_starts():
    lines = (ROOT / "tests" / "run").read_text().replace("\\\n", " ").splitlines()
    installs = [i for i, line in enumerate(lines) if "pip install" in line
                and not line.lstrip().startswith("#")]
    assert len(installs) == 3  # requirements + dev tools, canaryctl, validators
    for index in installs:
        echoes = [line for line in lines[:index] if line.startswith("echo \"== install")]
        assert echoes, lines[index]
    said = " ".join(line for line in lines if "install" in line and "echo" in line)
    assert said.count("minutes") >= 2 and "canaryctl" in said
    # and CI proves the console script: render runs through venv/bin/canaryctl
    assert any(line.startswith("venv/bin/canaryctl render") for line in lines)
