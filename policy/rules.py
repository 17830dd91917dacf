"""The platform's policy rules: plain functions over registered resources, run by the offline plan
(tools/findings.py) and by the CrossGuard pack (policy/pack.py) alike. The checks live in
policy/workloads.py (Kubernetes workloads) and policy/infrastructure.py (cloud resources and
data); this module lists them with their enforcement.

Mandatory rules block a deployment (and fail `make plan --strict`); advisory ones are reported.
"""

from __future__ import annotations

from policy.infrastructure import (
    encryption_at_rest,
    imdsv2,
    private_api,
    private_datastores,
    protected_stateful,
)
from policy.model import Rule
from policy.workloads import (
    GPU_TAINT,
    NAMESPACE_ROLE_LABEL,
    POOL_LABEL,
    gpu_placement,
    memory_limits,
    namespace_network_policy,
    no_plain_secrets,
    pinned_images,
)

__all__ = ["GPU_TAINT", "NAMESPACE_ROLE_LABEL", "POOL_LABEL", "RULES", "pinned_images"]

RULES: tuple[Rule, ...] = (
    Rule(
        "pinned-images",
        "Container images name a release tag or a digest, never `latest`; vLLM's by digest.",
        "mandatory",
        check_resource=pinned_images,
    ),
    Rule(
        "gpu-placement",
        "Workloads that request GPUs select a GPU pool and tolerate its taints.",
        "mandatory",
        check_stack=gpu_placement,
    ),
    Rule(
        "memory-limits",
        "Every container has a memory limit.",
        "mandatory",
        check_resource=memory_limits,
    ),
    Rule(
        "namespace-network-policy",
        "Every application namespace has a NetworkPolicy.",
        "mandatory",
        check_stack=namespace_network_policy,
    ),
    Rule(
        "private-datastores",
        "No database or vector store is reachable from outside the cluster.",
        "mandatory",
        check_resource=private_datastores,
    ),
    Rule(
        "protected-stateful",
        "Production clusters, databases, buckets and vector stores are protected.",
        "mandatory",
        check_resource=protected_stateful,
    ),
    Rule(
        "imdsv2",
        "Launch templates and instances require IMDSv2.",
        "mandatory",
        check_resource=imdsv2,
    ),
    Rule(
        "encryption-at-rest",
        "Volumes, databases and Kubernetes Secrets are encrypted at rest.",
        "mandatory",
        check_resource=encryption_at_rest,
    ),
    Rule(
        "no-plain-secrets",
        "No secret is passed as a plain input (container env values, ConfigMaps).",
        "mandatory",
        check_resource=no_plain_secrets,
    ),
    # Advisory: a production stack may name 0.0.0.0/0 in cluster.publicAccessCidrs on purpose
    # (the config requires the ranges to be named).
    Rule(
        "private-api",
        "A production cluster's Kubernetes API is not open to the whole internet.",
        "advisory",
        check_resource=private_api,
    ),
)
