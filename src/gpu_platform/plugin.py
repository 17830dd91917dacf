"""The components other Pulumi programs, in any language, use through Pulumi's component
provider host: each takes typed args (a TypedDict the analyzer reads, documented per field)
and its providers through resource options.

Public: the GPU node pools of both clouds, the GPU Operator (or GKE's DCGM exporter), KEDA,
the vLLM model service, the vector stores, the observability stack (Prometheus) and the whole
Platform, whose args are a stack config's settings.
"""

from __future__ import annotations

import pulumi

from gpu_platform.addons.gpu_operator import GpuOperator
from gpu_platform.addons.keda import Keda
from gpu_platform.aws.node_pool import EksGpuNodePool
from gpu_platform.data.managed_pgvector import ManagedPgVector
from gpu_platform.data.pgvector import PgVector
from gpu_platform.data.weaviate import Weaviate
from gpu_platform.gcp.node_pool import GkeGpuNodePool
from gpu_platform.observability.prometheus import Prometheus
from gpu_platform.platform.component import Platform
from gpu_platform.serving.vllm_service import VllmService

NAME = "gpu-platform"
# No namespace: the SDKs `pulumi package add` generates are then @pulumi/gpu-platform (npm),
# gpu_platform (Python) and so on, under sdks/gpu-platform.
NAMESPACE: str | None = None
COMPONENTS: list[type[pulumi.ComponentResource]] = [
    EksGpuNodePool,
    GkeGpuNodePool,
    GpuOperator,
    Keda,
    ManagedPgVector,
    PgVector,
    Platform,
    Prometheus,
    VllmService,
    Weaviate,
]


def main() -> None:
    """Serve the components to the Pulumi engine (PulumiPlugin.yaml's entry point)."""
    from importlib.metadata import version  # noqa: PLC0415

    from pulumi.provider.experimental import component_provider_host  # noqa: PLC0415

    component_provider_host(COMPONENTS, NAME, NAMESPACE, version("gpu-platform"))
