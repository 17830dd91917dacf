"""Runs Pulumi programs under the SDK's mock engine and records what they register.

Used by the offline plan (`tools/plan.py`) and the test suite. No Pulumi CLI, cloud credentials
or network are needed: a recording resource monitor sees every registration with its options,
and `PlanMocks` answers with outputs plausible enough for the program to run (ids, ARNs,
endpoints, kubeconfig-shaped values).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings

SECRET = "[secret]"
ACCOUNT_ID = "123456789012"
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
        }


@dataclass
class Recording:
    """Everything one program run registered, in registration order, and its stack outputs."""

    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        """The single resource of a type (and name); fails loudly if there is not exactly one."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {names}")
        return found[0]

    def children_of(self, parent: Registration) -> list[Registration]:
        return [r for r in self.resources if r.parent == parent.key]


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


def _redact(value: Any) -> Any:
    """Plain data with secrets replaced by a marker, so nothing secret is printed or written."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
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

    def Invoke(self, request):  # noqa: N802 (gRPC method name)
        response = super().Invoke(request)
        _remember_thread_loop()
        return response

    def ReadResource(self, request):  # noqa: N802
        response = super().ReadResource(request)
        _remember_thread_loop()
        return response

    def RegisterResource(self, request):  # noqa: N802
        if request.type != _STACK_TYPE:
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            self.recording.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    parent=_key_of_urn(request.parent),
                    provider=_key_of_provider_ref(request.provider),
                    custom=bool(request.custom),
                    inputs=_redact(inputs),
                    options=_options(request),
                )
            )
        response = super().RegisterResource(request)
        _remember_thread_loop()
        return response


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


_MOCK_CA = "bW9jay1jbHVzdGVyLWNh"  # base64 of "mock-cluster-ca"


def _fake_kubeconfig(name: str, endpoint: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": {}}],
        }
    )


class PlanMocks(mocks.Mocks):
    """Answers registrations and invokes with deterministic, plausible values."""

    def __init__(self, region: str = "us-east-1", project: str = "mock-project"):
        self.region = region
        self.project = project

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
        outputs = dict(args.inputs)
        package = args.typ.split(":")[0]
        resource_id = args.resource_id or f"{args.name}-{_digest(args.typ, args.name)}"
        if package == "aws":
            module = args.typ.split(":")[1].split("/")[0]
            outputs.setdefault(
                "arn", f"arn:aws:{module}:{self.region}:{ACCOUNT_ID}:{module}/{resource_id}"
            )
        if package == "gcp":
            outputs.setdefault("selfLink", f"https://mock.googleapis.com/{args.typ}/{resource_id}")
        outputs.setdefault("id", resource_id)
        for extra in _EXTRA_OUTPUTS.get(args.typ, ()):
            outputs.update(extra(self, args))
        return resource_id, outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict, list | None]:
        handler = _CALLS.get(args.token)
        return (handler(self, args) if handler else dict(args.args)), []


def _eks_endpoint(m: PlanMocks, name: str) -> str:
    return f"https://{_digest(name, length=32).upper()}.gr7.{m.region}.eks.amazonaws.com"


def _eks_cluster(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    endpoint = _eks_endpoint(m, args.name)
    issuer = f"https://oidc.eks.{m.region}.amazonaws.com/id/{_digest(args.name, length=32).upper()}"
    return {
        "name": args.inputs.get("name", args.name),
        "endpoint": endpoint,
        "certificateAuthority": {"data": _MOCK_CA},
        "identities": [{"oidcs": [{"issuer": issuer}]}],
        "kubeconfig": _fake_kubeconfig(args.name, endpoint),
    }


def _gke_cluster(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    return {
        "name": args.inputs.get("name", args.name),
        "endpoint": "203.0.113.10",
        "masterAuth": {"clusterCaCertificate": _MOCK_CA},
        "workloadIdentityConfig": {"workloadPool": f"{m.project}.svc.id.goog"},
    }


def _node_group(_m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    group = args.inputs.get("nodeGroupName", args.name)
    return {
        "resources": [
            {
                "autoscalingGroups": [{"name": f"eks-{group}-{_digest(args.name, length=36)}"}],
                "remoteAccessSecurityGroupId": "",
            }
        ],
        "status": "ACTIVE",
    }


def _iam_role(_m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    role = args.inputs.get("name", args.name)
    return {"name": role, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"}


def _gcp_service_account(m: PlanMocks, args: mocks.MockResourceArgs) -> dict:
    email = f"{args.inputs.get('accountId', args.name)}@{m.project}.iam.gserviceaccount.com"
    return {"email": email, "member": f"serviceAccount:{email}"}


_EXTRA_OUTPUTS: dict[str, tuple[Callable[[PlanMocks, mocks.MockResourceArgs], dict], ...]] = {
    "aws:eks/cluster:Cluster": (_eks_cluster,),
    "aws:eks/nodeGroup:NodeGroup": (_node_group,),
    "aws:iam/role:Role": (_iam_role,),
    "aws:ec2/launchTemplate:LaunchTemplate": (lambda _m, _a: {"latestVersion": 1},),
    "aws:kms/key:Key": (lambda _m, a: {"keyId": _digest(a.name, length=32)},),
    "gcp:container/cluster:Cluster": (_gke_cluster,),
    "gcp:serviceaccount/account:Account": (_gcp_service_account,),
}

_CALLS: dict[str, Callable[[PlanMocks, mocks.MockCallArgs], dict]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _m, _a: {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan",
        "userId": "AIDAPLAN",
        "id": ACCOUNT_ID,
    },
    "aws:index/getRegion:getRegion": lambda m, _a: {"name": m.region, "region": m.region},
    "aws:index/getPartition:getPartition": lambda _m, _a: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
    },
    "aws:eks/getCluster:getCluster": lambda m, a: {
        "name": a.args["name"],
        "id": a.args["name"],
        "endpoint": _eks_endpoint(m, a.args["name"]),
        "certificateAuthorities": [{"data": _MOCK_CA}],
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{m.region}.amazonaws.com/id/MOCK"}]}
        ],
        "vpcConfig": {"vpcId": "vpc-0mock", "subnetIds": ["subnet-0mock1", "subnet-0mock2"]},
        "version": "1.33",
    },
    "aws:ec2/getSubnets:getSubnets": lambda _m, a: {
        "ids": [f"subnet-{_digest(str(a.args), str(i))}" for i in range(2)],
        "id": "subnets",
    },
    "gcp:container/getCluster:getCluster": lambda _m, a: {
        "name": a.args["name"],
        "id": f"projects/{a.args.get('project')}/locations/{a.args.get('location')}/clusters/"
        f"{a.args['name']}",
        "endpoint": "203.0.113.20",
        "masterAuths": [{"clusterCaCertificate": _MOCK_CA}],
    },
    "gcp:organizations/getClientConfig:getClientConfig": lambda m, _a: {
        "project": m.project,
        "region": m.region,
        "accessToken": "mock-token",
    },
}


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
    engine_mocks = engine_mocks or PlanMocks()
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

    mocks.test(body)()
    return recording
