"""The policy rules (policy/rules.py) and their two runners: the offline plan's findings and the
CrossGuard pack (policy/pack.py), called as the engine calls them, with pulumi-policy's own
argument objects and its unknown-checking proxies around the inputs (no CLI, no server).

Every rule has a resource that passes and one that fails; the shipped stacks violate no
mandatory rule; both runners report the same violations on the same resources."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from harness import gcp_production, planned, platform_config, recorded, run_main
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from gpu_platform import labels
from policy import pack, rules
from policy.model import Resource
from stacks.config import CONFIG_KEY, PROJECT
from tools import findings
from tools.mockengine import Registration

DIGEST = "sha256:" + "a" * 64
VLLM = f"vllm/vllm-openai:v0.21.0@{DIGEST}"


def _pod(containers: list[dict], **spec: Any) -> dict:
    return {"spec": {"template": {"spec": {"containers": containers, **spec}}}}


def _container(**fields: Any) -> dict:
    return {"name": "c", "image": VLLM, "resources": {"limits": {"memory": "1Gi"}}, **fields}


GPU = {"limits": {"memory": "8Gi", "nvidia.com/gpu": 1}}
TOLERATE_GPU = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
POOL = Resource(
    "aws:eks/nodeGroup:NodeGroup",
    "l4",
    {
        "labels": {rules.POOL_LABEL: "l4"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
    },
)
SPOT_POOL = Resource(
    "gcp:container/nodePool:NodePool",
    "l4-spot",
    {
        "nodeConfig": {
            "labels": {rules.POOL_LABEL: "l4-spot"},
            "guestAccelerators": [{"type": "nvidia-l4", "count": 1}],
            "taints": [{"key": "gpuplatform.io/spot", "value": "true", "effect": "NO_SCHEDULE"}],
        }
    },
)


def _workload(name: str, **pod: Any) -> Resource:
    containers = pod.pop("containers", [_container()])
    return Resource("kubernetes:apps/v1:StatefulSet", name, _pod(containers, **pod))


def _namespace(name: str, role: str | None) -> Resource:
    metadata = {"name": name, "labels": {rules.NAMESPACE_ROLE_LABEL: role} if role else {}}
    return Resource("kubernetes:core/v1:Namespace", name, {"metadata": metadata})


NETPOL = Resource(
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "np",
    {"metadata": {"name": "np", "namespace": "inference"}, "spec": {}},
)
ENCRYPTED, DECRYPTED = {"state": "ENCRYPTED"}, {"state": "DECRYPTED"}
TEMPLATE = {
    "metadataOptions": {"httpTokens": "required"},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}],
}

# rule -> (production, passing resources, failing resources, violations the failing set gives)
CASES: dict[str, tuple[bool, list[Resource], list[Resource], int]] = {
    "pinned-images": (
        False,
        [_workload("ok"), _workload("tag", containers=[_container(image="nginx:1.27")])],
        [
            _workload("latest", containers=[_container(image="nginx:latest")]),
            _workload("bare", containers=[_container(image="nginx")]),
            _workload("vllm-tag", containers=[_container(image="vllm/vllm-openai:v0.21.0")]),
        ],
        3,
    ),
    "gpu-placement": (
        False,
        [
            POOL,
            SPOT_POOL,
            _workload(
                "placed",
                containers=[_container(resources=GPU)],
                nodeSelector={rules.POOL_LABEL: "l4"},
                tolerations=TOLERATE_GPU,
            ),
            _workload(
                "tiered",
                containers=[_container(resources=GPU)],
                affinity={
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": rules.POOL_LABEL,
                                            "operator": "In",
                                            "values": ["l4", "l4-spot"],
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                },
                tolerations=[
                    *TOLERATE_GPU,
                    {"key": "gpuplatform.io/spot", "operator": "Equal", "value": "true"},
                ],
            ),
            _workload("cpu-only"),
        ],
        [
            POOL,
            SPOT_POOL,
            _workload("unplaced", containers=[_container(resources=GPU)], tolerations=TOLERATE_GPU),
            _workload(
                "untolerated",
                containers=[_container(resources=GPU)],
                nodeSelector={rules.POOL_LABEL: "l4"},
            ),
            _workload(
                "spot-untolerated",
                containers=[_container(resources=GPU)],
                nodeSelector={rules.POOL_LABEL: "l4-spot"},
                tolerations=TOLERATE_GPU,
            ),
            _workload(
                "no-such-pool",
                containers=[_container(resources=GPU)],
                nodeSelector={rules.POOL_LABEL: "h100"},
                tolerations=TOLERATE_GPU,
            ),
        ],
        4,
    ),
    "memory-limits": (
        False,
        [_workload("limited")],
        [
            _workload("unlimited", containers=[_container(resources={"requests": {"cpu": "1"}})]),
            _workload("init", containers=[_container()], initContainers=[{"name": "i"}]),
        ],
        2,
    ),
    "namespace-network-policy": (
        False,
        [_namespace("inference", "application"), _namespace("keda", "platform"), NETPOL],
        [
            _namespace("inference", "application"),
            _namespace("batch", "application"),
            NETPOL,
            _namespace("unlabelled", None),
        ],
        2,
    ),
    "private-datastores": (
        False,
        [
            Resource("aws:rds/instance:Instance", "db", {"publiclyAccessible": False}),
            Resource(
                "gcp:sql/databaseInstance:DatabaseInstance",
                "sql",
                {"settings": {"ipConfiguration": {"ipv4Enabled": False}}},
            ),
            Resource(
                "kubernetes:core/v1:Service",
                "svc",
                {"spec": {"type": "ClusterIP", "selector": {"cnpg.io/cluster": "vectors"}}},
            ),
            Resource(
                "kubernetes:core/v1:Service",
                "web",
                {"spec": {"type": "LoadBalancer", "selector": {"app": "web"}}},
            ),
        ],
        [
            Resource("aws:rds/instance:Instance", "db", {"publiclyAccessible": True}),
            Resource("gcp:sql/databaseInstance:DatabaseInstance", "sql", {"settings": {}}),
            Resource(
                "kubernetes:core/v1:Service",
                "svc",
                {
                    "metadata": {"labels": {"app.kubernetes.io/name": "weaviate"}},
                    "spec": {"type": "NodePort"},
                },
            ),
            Resource(
                "kubernetes:helm.sh/v3:Release",
                "weaviate",
                {"chart": "weaviate", "values": {"service": {"type": "LoadBalancer"}}},
            ),
        ],
        4,
    ),
    "protected-stateful": (
        True,
        [
            Resource("aws:s3/bucket:Bucket", "b", {}, protect=True),
            Resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", TEMPLATE),
        ],
        [
            Resource("aws:s3/bucket:Bucket", "b", {}),
            Resource("kubernetes:postgresql.cnpg.io/v1:Cluster", "pg", {}),
            Resource("kubernetes:helm.sh/v3:Release", "w", {"chart": "weaviate"}),
        ],
        3,
    ),
    "imdsv2": (
        False,
        [Resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", TEMPLATE)],
        [
            Resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", {}),
            Resource(
                "aws:ec2/instance:Instance", "vm", {"metadataOptions": {"httpTokens": "optional"}}
            ),
        ],
        2,
    ),
    "encryption-at-rest": (
        False,
        [
            Resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", TEMPLATE),
            Resource("aws:rds/instance:Instance", "db", {"storageEncrypted": True}),
            Resource("aws:eks/cluster:Cluster", "eks", {"encryptionConfig": {"resources": ["s"]}}),
            Resource(
                "gcp:container/cluster:Cluster",
                "gke",
                {"databaseEncryption": {"state": "ENCRYPTED"}},
            ),
        ],
        [
            Resource(
                "aws:ec2/launchTemplate:LaunchTemplate",
                "lt",
                {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 8}}]},
            ),
            Resource("aws:rds/instance:Instance", "db", {}),
            Resource("aws:eks/cluster:Cluster", "eks", {}),
            Resource(
                "gcp:container/cluster:Cluster",
                "gke",
                {"databaseEncryption": {"state": "DECRYPTED"}},
            ),
        ],
        4,
    ),
    "no-plain-secrets": (
        False,
        [
            _workload(
                "from-secret",
                containers=[
                    _container(
                        env=[
                            {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "t"}}},
                            {"name": "TOKEN_FILE", "value": "/var/run/token"},
                        ]
                    )
                ],
            ),
            Resource("kubernetes:core/v1:ConfigMap", "cm", {"data": {"secretName": "vectors"}}),
        ],
        [
            _workload("plain", containers=[_container(env=[{"name": "PGPASSWORD", "value": "x"}])]),
            Resource("kubernetes:core/v1:ConfigMap", "cm", {"data": {"api_key": "k"}}),
        ],
        2,
    ),
    "private-api": (
        True,
        [
            Resource(
                "aws:eks/cluster:Cluster",
                "eks",
                {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["10.1.0.0/16"]}},
            )
        ],
        [
            Resource(
                "aws:eks/cluster:Cluster",
                "eks",
                {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}},
            ),
            Resource(
                "gcp:container/cluster:Cluster",
                "gke",
                {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}},
            ),
        ],
        2,
    ),
}


def _urn(stack: str, resource: Resource) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{resource.type}::{resource.name}"


def _options(resource: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=[],
        delete_before_replace=False,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def pack_violations(
    rule_name: str, resources: list[Resource], stack: str
) -> list[tuple[str | None, str]]:
    """(resource key, message) the pack's policy reports, called as the engine calls it: the
    inputs behind pulumi-policy's unknown-checking proxy."""
    (policy,) = [p for p in pack.policies() if p.name == rule_name]
    keys = {_urn(stack, r): r.key for r in resources}
    reported: list[tuple[str | None, str]] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append((keys.get(urn or ""), message))

    props = [unknown_checking_proxy(copy.deepcopy(dict(r.inputs))) for r in resources]
    if isinstance(policy, ResourceValidationPolicy):
        for resource, inputs in zip(resources, props, strict=True):
            args = ResourceValidationArgs(
                resource.type,
                inputs,
                _urn(stack, resource),
                resource.name,
                _options(resource),
                None,
            )
            policy.validate(args, report)
    else:
        args = StackValidationArgs(
            [
                PolicyResource(r.type, p, _urn(stack, r), r.name, _options(r), None, None, [], {})
                for r, p in zip(resources, props, strict=True)
            ]
        )
        policy.validate(args, report)
    return reported


def offline_violations(
    rule_name: str, resources: list[Resource], production: bool
) -> list[tuple[str | None, str]]:
    """(resource key, message) the offline plan's findings report for the rule."""
    registrations = [
        Registration(r.type, r.name, None, None, True, dict(r.inputs), {"protect": r.protect})
        for r in resources
    ]
    context = findings.Context(
        {f"{PROJECT}:{CONFIG_KEY}": {"production": production}}, datetime.date(2026, 12, 1)
    )
    return [
        (f.resource, f.message)
        for f in findings.policy_rules(registrations, context)
        if f.rule == rule_name
    ]


def test_every_rule_has_cases() -> None:
    assert set(CASES) == {rule.name for rule in rules.RULES}


@pytest.mark.parametrize("rule_name", sorted(CASES))
def test_each_rule_passes_and_fails_the_same_way_in_both_runners(rule_name: str) -> None:
    production, passing, failing, count = CASES[rule_name]
    stack = "prod" if production else "dev"
    assert offline_violations(rule_name, passing, production) == []
    assert pack_violations(rule_name, passing, stack) == []
    offline = offline_violations(rule_name, failing, production)
    assert len(offline) == count, offline
    assert sorted(pack_violations(rule_name, failing, stack), key=str) == sorted(offline, key=str)


def test_production_rules_apply_by_the_stacks_name() -> None:
    bucket = [Resource("aws:s3/bucket:Bucket", "b", {})]
    assert pack_violations("protected-stateful", bucket, "dev") == []
    assert len(pack_violations("protected-stateful", bucket, "prod")) == 1
    staging = {"productionStacks": ["staging"]}
    assert pack.stack_of("urn:pulumi:staging::p::t::n", staging).production
    assert not pack.stack_of("urn:pulumi:prod::p::t::n", staging).production


def test_a_value_known_only_at_deploy_is_left_alone_and_only_it() -> None:
    """In a preview an Output is unknown. The pack passes over that value alone: an unknown
    image is not judged, but the same resource's other, known image still is; an unknown
    namespace elsewhere does not switch a rule off; an unknown setting a rule would judge
    (a launch template's metadata options) gives no false alarm."""
    unknown_image = _container(name="a", image=UNKNOWN_STRING_VALUE)
    latest = _container(name="b", image="nginx:latest")
    workload = _workload("w", containers=[unknown_image, latest])
    workload.inputs["metadata"] = {"namespace": UNKNOWN_STRING_VALUE}
    ((key, message),) = pack_violations("pinned-images", [workload], "dev")
    assert key == workload.key and "'nginx:latest' is not pinned" in message
    template = Resource(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "lt",
        {"metadataOptions": {"httpTokens": UNKNOWN_STRING_VALUE}},
    )
    assert pack_violations("imdsv2", [template], "dev") == []
    # A stack rule keeps working around an unknown value: the namespace without a policy is
    # still found while the workload's namespace is unknown.
    resources = [_namespace("batch", "application"), NETPOL, workload]
    assert [k for k, _ in pack_violations("namespace-network-policy", resources, "dev")] == [
        "kubernetes:core/v1:Namespace::batch"
    ]
    # The proxy itself raises on the unknown value, as the engine's would.
    proxied = unknown_checking_proxy({"image": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError):
        proxied["image"]


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-dev"])
def test_the_shipped_stacks_violate_no_mandatory_rule(stack: str) -> None:
    errors = [f for f in planned(stack).findings if f.severity == "error"]
    assert errors == []


@pytest.mark.parametrize(
    "change",
    [
        {"models": {}, "vectorStore": {"engine": "none"}},
        {"vectorStore": {"engine": "pgvector", "mode": "managed", "dimensions": 384}},
    ],
    ids=["no-models-no-store", "managed-store"],
)
def test_namespaces_left_without_workloads_still_deny_ingress(change: dict[str, Any]) -> None:
    """`inference` without models and `data` without an in-cluster store have no workload
    policy of their own: the base's default deny keeps them closed (and the rule satisfied)."""
    config = platform_config("dev")
    config.update(change)
    recording = run_main(config, stack="dev")
    registrations = [r for r in recording.resources if r.custom]
    context = findings.Context({f"{PROJECT}:{CONFIG_KEY}": config}, datetime.date(2026, 12, 1))
    errors = [f for f in findings.policy_rules(registrations, context) if f.severity == "error"]
    assert errors == []
    denied = {
        r.inputs["metadata"]["namespace"]: r.inputs["spec"]
        for r in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["name"] == "default-deny-ingress"
    }
    assert denied == {
        namespace: {"podSelector": {}, "policyTypes": ["Ingress"]}
        for namespace in ("inference", "data")
    }


@pytest.mark.parametrize("stack", ["prod", "gcp-production"])
def test_the_pack_and_the_plan_agree_on_a_whole_stack(stack: str) -> None:
    """Every resource of a real program run through both runners: the same violations. A
    production GKE stack is given two violations to find (an unprotected bucket, a Service
    exposing the vector store)."""
    recording = gcp_production() if stack == "gcp-production" else recorded(stack)
    resources = [
        Resource(r.type, r.name, r.inputs, bool(r.options.get("protect")))
        for r in recording.resources
    ]
    if stack == "gcp-production":
        resources.append(Resource("gcp:storage/bucket:Bucket", "extra", {}))
        resources.append(
            Resource(
                "kubernetes:core/v1:Service",
                "exposed",
                {"metadata": {"labels": {"cnpg.io/cluster": "v"}}, "spec": {"type": "NodePort"}},
            )
        )
    for rule in rules.RULES:
        offline = offline_violations(rule.name, resources, production=True)
        assert sorted(pack_violations(rule.name, resources, "prod"), key=str) == sorted(
            offline, key=str
        ), rule.name
        if stack == "prod":
            assert offline == [], rule.name
    found = {
        (rule.name, key)
        for rule in rules.RULES
        for key, _ in offline_violations(rule.name, resources, production=True)
    }
    if stack == "gcp-production":
        assert found == {
            ("protected-stateful", "gcp:storage/bucket:Bucket::extra"),
            ("private-datastores", "kubernetes:core/v1:Service::exposed"),
        }


def test_the_rules_use_the_platforms_labels() -> None:
    """The pack carries its own copies (it imports nothing from the program)."""
    assert rules.POOL_LABEL == labels.POOL_LABEL
    assert rules.NAMESPACE_ROLE_LABEL == labels.NAMESPACE_ROLE_LABEL
    assert rules.GPU_TAINT[0] == labels.GPU_TAINT_KEY
