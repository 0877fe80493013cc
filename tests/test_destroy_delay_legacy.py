"""The legacy `DestroyDelay` provider, kept only so stacks made before pulumiverse-time can
delete their old delay resource: the state pickles the provider by module path
(`components.destroy_delay._DelayProvider`), so the class must stay importable there.

Tested through what the Pulumi engine does with a dynamic provider: create, then update (the
SDK's default update stores *no* outputs, which made the old delete raise KeyError), then
delete with whatever outputs were stored.
"""

from __future__ import annotations

import base64
from pathlib import Path

import dill
import pytest

from components import destroy_delay


@pytest.fixture
def slept(monkeypatch):
    calls: list[float] = []
    monkeypatch.setattr(destroy_delay.time, "sleep", calls.append)
    return calls


def test_create_update_delete_on_stored_outputs(slept):
    provider = destroy_delay._DelayProvider()
    created = provider.create({"seconds": 90, "reason": "dns"})
    updated = provider.update(created.id, created.outs, {"seconds": 90, "reason": "new text"})
    stored = updated.outs  # what Pulumi stores after the update, and hands to delete()
    provider.delete(created.id, stored)
    assert slept == [90]


def test_delete_after_an_update_by_the_old_sdk_default(slept):
    """Stacks updated with the old module stored empty outputs: delete still waits."""
    destroy_delay._DelayProvider().delete("destroy-delay-90s", {})
    assert slept == [destroy_delay.DEFAULT_SECONDS]


def test_the_provider_in_existing_states_loads_and_deletes(slept):
    """The `__provider` a stack from before the change holds (taken from the graph snapshot of
    that version) unpickles to this class, which then deletes without error."""
    stored = (Path(__file__).parent / "data" / "legacy-destroy-delay-provider.b64").read_text()
    provider = dill.loads(base64.b64decode(stored.strip()))
    assert isinstance(provider, destroy_delay._DelayProvider)
    provider.delete("destroy-delay-90s", {"seconds": 90.0, "reason": "dns"})
    assert slept == [90]
