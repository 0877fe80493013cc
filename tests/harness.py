"""Run the whole Pulumi program offline under recording mocks, for a given stack config.

`run_program({"canaryWeight": "25"})` runs `__main__.py` as `pulumi up` would (Pulumi.yaml
defaults applied, as the CLI does), with every resource registration recorded: type, name,
inputs (with the paths of secret inputs), parent, provider, dependencies and options, plus the
stack outputs and the warnings logged. No AWS, cluster, Pulumi CLI or provider plugin is used.

Each run happens in a forked child process: the Pulumi SDK keeps global state per run, and a
fork of an interpreter that has already imported the SDKs starts in milliseconds.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import runpy
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws  # noqa: F401  (imported before forking, so children start fast)
import pulumi_eks  # noqa: F401
import pulumi_kubernetes  # noqa: F401
import pulumi_random  # noqa: F401
import pulumiverse_time  # noqa: F401
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from canaryctl.stackfiles import ROOT, project, stack_config
from tests.fakes import FakeCloud

PROJECT = project()["name"]
SIG = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
REF_SIG = rpc._special_resource_sig
UNKNOWN = rpc.UNKNOWN


@dataclass
class Resource:
    """One registered resource as the engine would see it."""

    type: str
    name: str
    urn: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    secret_paths: set[str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    options: dict[str, Any]

    def is_secret(self, path: str) -> bool:
        """Whether the input at `path` (dotted, e.g. 'stringData.db-password') is a secret."""
        return any(path == p or path.startswith(p + ".") for p in self.secret_paths)

    def get(self, path: str, default: Any = None) -> Any:
        """The input at a dotted path ('spec.template.spec'); list items by index."""
        value: Any = self.inputs
        for part in path.split("."):
            if isinstance(value, list) and part.isdigit():
                value = value[int(part)] if int(part) < len(value) else None
            elif isinstance(value, dict):
                value = value.get(part)
            else:
                return default
            if value is None:
                return default
        return value


@dataclass
class Run:
    """What one program run registered and exported."""

    config: dict[str, str]
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    invokes: list[tuple[str, dict]] = field(default_factory=list)
    error: str | None = None

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {len(found)}: " \
                                f"{[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)

    def k8s_objects(self) -> list[Resource]:
        """Kubernetes objects registered individually (not Helm releases, providers, or
        patches of objects the program does not own, such as EKS's aws-node)."""
        return [r for r in self.resources if r.type.startswith("kubernetes:")
                and r.custom and not r.type.startswith("kubernetes:helm")
                and not r.type.endswith("Patch")
                and r.type != "pulumi:providers:kubernetes"]

    def k8s(self, kind: str, name: str) -> Resource:
        found = [r for r in self.k8s_objects()
                 if r.inputs.get("kind") == kind and r.get("metadata.name") == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def ancestors(self, resource: Resource) -> list[Resource]:
        chain, urn = [], resource.parent
        while urn:
            parent = next((r for r in self.resources if r.urn == urn), None)
            if parent is None:
                break
            chain.append(parent)
            urn = parent.parent
        return chain

    def depends_on(self, resource: Resource, target: Resource) -> bool:
        """Whether `resource` waits for `target` (directly, through inputs, or via a parent)."""
        for candidate in [resource, *self.ancestors(resource)]:
            deps = set(candidate.dependencies)
            for urns in candidate.property_dependencies.values():
                deps.update(urns)
            if target.urn in deps:
                return True
            # a dependency on a component covers its children
            if any(self._is_descendant(target, d) for d in deps):
                return True
        return False

    def _is_descendant(self, resource: Resource, ancestor_urn: str) -> bool:
        return any(a.urn == ancestor_urn for a in self.ancestors(resource))


def _plain(value: Any, path: str, secrets: set[str]) -> Any:
    """Unwrap the engine's special structs: record secret paths, turn references into URNs."""
    if isinstance(value, dict):
        sig = value.get(SIG)
        if sig == SECRET_SIG:
            secrets.add(path)
            return _plain(value.get("value"), path, secrets)
        if sig == REF_SIG:
            return {"$ref": value.get("urn")}
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}.{i}", secrets) for i, v in enumerate(value)]
    return value


def _strip_references(value: Any) -> Any:
    """Replace resource references by their URN: the stock mock monitor rehydrates them on a
    worker thread, which makes remote components (pulumi-eks) flaky under mocks."""
    if isinstance(value, dict):
        if value.get(SIG) == REF_SIG:
            return value.get("urn", "")
        return {k: _strip_references(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_references(v) for v in value]
    return value


def _custom_timeouts(request: Any) -> dict[str, Any]:
    """`customTimeouts` in a resource's options, only where some are set."""
    timeouts = {k: getattr(request.customTimeouts, k) for k in ("create", "update", "delete")
                if getattr(request.customTimeouts, k)}
    return {"customTimeouts": timeouts} if timeouts else {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that keeps every registration request in plain form."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.recorded: list[Resource] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC name)
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        raw = json_format.MessageToDict(request.object)
        secrets: set[str] = set()
        inputs = _plain(raw, "", secrets)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.recorded.append(Resource(
            type=request.type,
            name=request.name,
            urn=urn,
            custom=request.custom,
            parent=request.parent,
            provider=request.provider,
            inputs=inputs,
            secret_paths=secrets,
            dependencies=list(request.dependencies),
            property_dependencies={
                k: list(v.urns) for k, v in request.propertyDependencies.items()
            },
            options={
                "protect": request.protect if request.HasField("protect") else None,
                "retainOnDelete": request.retainOnDelete
                if request.HasField("retainOnDelete") else None,
                "deleteBeforeReplace": request.deleteBeforeReplace,
                "ignoreChanges": list(request.ignoreChanges),
                "replaceOnChanges": list(request.replaceOnChanges),
                "deletedWith": request.deletedWith,
                "aliases": [str(a) for a in request.aliases],
                "version": request.version,
                "remote": request.remote,
                **_custom_timeouts(request),
            },
        ))
        stripped = struct_pb2.Struct()
        stripped.update(_strip_references(raw))
        request.object.CopyFrom(stripped)
        return super().RegisterResource(request)


    def Call(self, request):  # noqa: N802 (gRPC name)
        """Method calls on resources (e.g. `Cluster.get_kubeconfig`), answered by the mocks
        like invokes; the stock mock monitor has none."""
        from pulumi.runtime.proto import provider_pb2

        args = _strip_references(json_format.MessageToDict(request.args))
        args.pop("__self__", None)
        result, _failures = self.mocks.call(
            pulumi.runtime.MockCallArgs(token=request.tok, args=args, provider=""))
        returned = struct_pb2.Struct()
        returned.update(result)
        return provider_pb2.CallResponse(**{"return": returned})


class _CapturingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _execute(config: Mapping[str, str], secret_keys: Iterable[str], stack: str,
             preview: bool = False) -> Run:
    """Run the program in this process (call in a fresh child: the SDK keeps global state)."""
    full = {}
    for key, value in config.items():
        full[key if ":" in key else f"{PROJECT}:{key}"] = value
    os.environ["PULUMI_CONFIG"] = json.dumps(full)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(
        [k if ":" in k else f"{PROJECT}:{k}" for k in secret_keys]
    )
    # as the Pulumi CLI's Python language host does before it runs the program
    pulumi.runtime.config.set_all_config(full, pulumi.runtime.get_config_secret_keys_env())

    handler = _CapturingHandler()
    logger = logging.getLogger("eks-canary-test")
    logger.addHandler(handler)
    logger.propagate = False
    monitor = RecordingMonitor(FakeCloud(preview=preview))
    pulumi.runtime.set_mocks(FakeCloud(preview=preview), project=PROJECT, stack=stack,
                             preview=preview,
                             logger=logger, monitor=monitor)
    run = Run(config=dict(config))
    os.chdir(ROOT)
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(ROOT / "__main__.py"),
                                                           run_name="__main__")))
    except pulumi.RunError as error:
        run.error = str(error)
    except Exception:  # noqa: BLE001 (reported to the test as text)
        run.error = traceback.format_exc()
    run.resources = monitor.recorded
    run.invokes = monitor.mocks.calls
    run.warnings = handler.messages
    root = pulumi.runtime.settings.get_root_resource()
    if root is not None and run.error is None:
        for name, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            run.outputs[name] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                run.secret_outputs.add(name)
    return run


def _child(conn, config, secret_keys, stack, preview) -> None:
    try:
        result = _execute(config, secret_keys, stack, preview)
    except BaseException:  # noqa: BLE001
        result = Run(config=dict(config), error=traceback.format_exc())
    conn.send(result)
    conn.close()
    os._exit(0)


def full_config(config: Mapping[str, str] | None, secrets: Mapping[str, str] | None,
                stack: str = "dev", stack_file: str | None = None
                ) -> tuple[dict[str, str], set[str]]:
    """The merged config and its secret keys (also the cache key of a run). `stack_file`:
    whose Pulumi.<stack>.yaml to read, when the stack name itself has none (default: stack)."""
    merged, secret_keys = stack_config(stack_file or stack,
                                       {**(config or {}), **(secrets or {})})
    return merged, secret_keys | set(secrets or {})


def run_program(
    config: Mapping[str, str] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    stack: str = "dev",
    stack_file: str | None = None,
    timeout: float = 120,
    preview: bool = False,
) -> Run:
    """Run `__main__.py` for a stack config as `pulumi up` would see it: Pulumi.yaml defaults,
    then Pulumi.<stack>.yaml, then `config`, then `secrets` (set as secret values).
    `preview`: as `pulumi preview` (and the preview `pulumi up` starts with) runs it."""
    merged, secret_keys = full_config(config, secrets, stack, stack_file)
    context = multiprocessing.get_context("fork")
    parent_conn, child_conn = context.Pipe(duplex=False)
    process = context.Process(target=_child,
                              args=(child_conn, merged, sorted(secret_keys), stack, preview))
    process.start()
    child_conn.close()
    if not parent_conn.poll(timeout):
        process.kill()
        raise TimeoutError(f"program run did not finish in {timeout}s for {config}")
    result = parent_conn.recv()
    process.join(10)
    return result
