"""Runs Pulumi programs under the SDK's mock engine and records what they register.

Used by the offline plan (`tools/plan.py`) and the test suite. No Pulumi CLI, cloud credentials
or network are needed: a recording resource monitor sees every registration with its options,
and `tools.mockdata.PlanMocks` answers with outputs plausible enough for the program to run.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.proto import source_pb2

from tools import mockdata

SECRET = "[secret]"
_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Registration:
    """One resource as the engine would receive it."""

    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    """Where inputs hold a secret (a dotted path) -> a digest of its value, so a plan diff can
    tell a changed secret from an unchanged one without either value. Offline, secrets are the
    stack file's stand-ins (derived from its ciphertext) and the mocks' values."""

    @property
    def key(self) -> str:
        """`<type>::<name>`, the form parents, providers and dependencies are given in."""
        return f"{self.type}::{self.name}"

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "custom": self.custom,
            "inputs": self.inputs,
            "options": self.options,
            "secrets": self.secrets,
        }


@dataclass
class Recording:
    """Everything one program run registered, in registration order, and its stack outputs."""

    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def sort(self) -> None:
        """Put resources in a stable order: each after its parent, siblings by type and name.
        Registration order depends on how the program's outputs resolve, which varies."""
        by_key = {r.key: r for r in self.resources}

        def path(r: Registration) -> tuple[str, ...]:
            chain, parent = [r.key], r.parent
            while parent in by_key:
                chain.append(parent)
                parent = by_key[parent].parent
            return tuple(reversed(chain))

        self.resources.sort(key=path)

    def one(self, type_: str, name: str | None = None) -> Registration:
        """The single resource of a type (and name); fails loudly if there is not exactly one."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {names}")
        return found[0]


def _key_of_urn(urn: str) -> str | None:
    """`urn:pulumi:<stack>::<project>::<parent$...$type>::<name>` -> `<type>::<name>`."""
    if not urn:
        return None
    parts = urn.split("::")
    type_, name = parts[2].split("$")[-1], "::".join(parts[3:])
    return None if type_ == _STACK_TYPE else f"{type_}::{name}"


def _key_of_provider_ref(ref: str) -> str | None:
    """A provider reference is `<urn>::<id>`."""
    return _key_of_urn(ref.rsplit("::", 1)[0]) if ref else None


def _digest(value: Any) -> str:
    """A short digest of a secret's value: enough to see that it changed, not what it is."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _redact(value: Any, secrets: dict[str, str] | None = None, path: str = "") -> Any:
    """Plain data with secrets replaced by a marker, so nothing secret is printed or written;
    `secrets` collects each secret's path and digest."""
    if rpc.is_rpc_secret(value):
        if secrets is not None:
            secrets[path] = _digest(rpc.unwrap_rpc_secret(value))
        return SECRET
    if isinstance(value, dict):
        # Sorted: the wire's map order varies between runs, and plans must diff cleanly.
        return {
            k: _redact(v, secrets, f"{path}.{k}" if path else k) for k, v in sorted(value.items())
        }
    if isinstance(value, list | tuple):
        return [_redact(v, secrets, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double
    if isinstance(value, pulumi.Resource):
        return "<resource>"
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return f"<{type(value).__name__}>"
    return value


def _options(request: Any) -> dict[str, Any]:
    return {
        "protect": bool(request.protect) if request.HasField("protect") else False,
        "retainOnDelete": (
            bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False
        ),
        "dependsOn": sorted(filter(None, (_key_of_urn(u) for u in request.dependencies))),
        "ignoreChanges": list(request.ignoreChanges),
        "replaceOnChanges": list(request.replaceOnChanges),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "import": request.importId or None,
        "customTimeouts": (
            {
                k: v
                for k in ("create", "update", "delete")
                if (v := getattr(request.customTimeouts, k))
            }
            if request.HasField("customTimeouts")
            else {}
        ),
    }


# The SDK calls the monitor from executor threads and gives each thread an event loop it never
# closes; left to the garbage collector at interpreter exit they print "Exception ignored" noise.
_THREAD_LOOPS: set[asyncio.AbstractEventLoop] = set()


@atexit.register
def _close_thread_loops() -> None:
    for loop in _THREAD_LOOPS:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


def _remember_thread_loop() -> None:
    if threading.current_thread() is threading.main_thread():
        return
    with contextlib.suppress(RuntimeError):  # this thread has not needed a loop yet
        _THREAD_LOOPS.add(asyncio.get_event_loop())


class RecordingMonitor(mocks.MockMonitor):
    """A mock resource monitor that keeps each registration's inputs and resource options."""

    def __init__(self, engine_mocks: mocks.Mocks, recording: Recording):
        super().__init__(engine_mocks)
        self.recording = recording
        self._urns: set[str] = set()

    def Invoke(self, request):  # noqa: N802 (gRPC method name)
        response = super().Invoke(request)
        _remember_thread_loop()
        return response

    def ReadResource(self, request):  # noqa: N802
        response = super().ReadResource(request)
        _remember_thread_loop()
        return response

    def RegisterResource(self, request):  # noqa: N802
        urn = self.make_urn(request.parent, request.type, request.name)
        if urn in self._urns:
            # The real engine refuses a second resource with one URN; so does the plan.
            raise ValueError(f"duplicate resource URN {urn}: two resources have this type and name")
        self._urns.add(urn)
        if request.type != _STACK_TYPE:
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            secrets: dict[str, str] = {}
            redacted = _redact(inputs, secrets)
            self.recording.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    parent=_key_of_urn(request.parent),
                    provider=_key_of_provider_ref(request.provider),
                    custom=bool(request.custom),
                    inputs=redacted,
                    options=_options(request),
                    secrets=secrets,
                )
            )
        response = super().RegisterResource(request)
        _remember_thread_loop()
        return response


def _replace_event_loop() -> None:
    """Close whatever loop this thread has (the SDK creates one on import) and start a new one."""
    policy = asyncio.get_event_loop_policy()
    try:
        previous = policy.get_event_loop()
    except RuntimeError:
        previous = None
    if previous is not None and not previous.is_running():
        previous.close()
    policy.set_event_loop(policy.new_event_loop())


@contextlib.contextmanager
def _without_stack_traces() -> Iterator[None]:
    """Skip the SDK's capture of a stack trace for every registration while a program runs under
    the mock engine. Only the engine reads it (to point diagnostics at source lines); a mock
    monitor never does, and capturing it is a sixth of a program's time here."""
    original = resource_runtime._get_stack_trace
    resource_runtime._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        resource_runtime._get_stack_trace = original


def run_program(
    program: Callable[[], Any],
    *,
    project: str,
    stack: str,
    config: dict[str, Any],
    secret_keys: tuple[str, ...] = (),
    engine_mocks: mocks.Mocks | None = None,
    recording: Recording | None = None,
) -> Recording:
    """Run `program` under the mock engine with the given config and return what it registered.

    `config` maps full keys (`gpu-platform:platform`) to plain values; non-string values are
    passed as JSON, as the Pulumi CLI does for structured config. Each run gets a fresh event
    loop, a fresh root stack and fresh mocks, so runs in one process do not leak into each other.
    Pass `recording` to keep what was registered even when the program raises.
    """
    recording = Recording() if recording is None else recording
    engine_mocks = engine_mocks or mockdata.PlanMocks()
    _replace_event_loop()
    settings.ROOT.set(None)
    mocks.set_mocks(
        engine_mocks,
        project=project,
        stack=stack,
        preview=False,
        monitor=RecordingMonitor(engine_mocks, recording),
    )
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        list(secret_keys),
    )

    async def exported() -> None:
        root = settings.get_root_resource()
        for name, value in dict(getattr(root, "outputs", {})).items():
            output = pulumi.Output.from_input(value)
            resolved = await output.future()
            recording.outputs[name] = SECRET if await output.is_secret() else _redact(resolved)

    def body() -> Any:
        program()
        return pulumi.Output.from_input(asyncio.ensure_future(exported()))

    try:
        with _without_stack_traces():
            mocks.test(body)()
    finally:
        recording.sort()
    return recording
