"""Shared fixtures: program runs are cached per config, since many tests read the same run."""

from __future__ import annotations

import json

import pytest

from tests.harness import Run, full_config, run_program

_CACHE: dict[str, Run] = {}


def cached_run(config: dict[str, str] | None = None, secrets: dict[str, str] | None = None,
               **kwargs) -> Run:
    """Run the program once per distinct config in a test session."""
    merged, secret_keys = full_config(config, secrets, kwargs.get("stack", "dev"),
                                      kwargs.get("stack_file"))
    key = json.dumps([merged, sorted(secret_keys), kwargs], sort_keys=True)
    if key not in _CACHE:
        _CACHE[key] = run_program(config, secrets=secrets, **kwargs)
    return _CACHE[key]


@pytest.fixture
def program():
    """`program(config, secrets=...)`: a (cached) run of the whole program under mocks."""
    return cached_run
