"""One model on a cluster this program does not manage, with gpu-platform's public components.

The cluster already runs GPU nodes labelled `gpuplatform.io/pool: l4` (for instance made by
EksGpuNodePool) with the NVIDIA device plugin. This program adds the `inference` namespace,
KEDA, and Qwen2.5-7B served by vLLM on that pool, autoscaled by KEDA on vLLM's own metrics.

    pulumi config set --secret kubeconfig "$(cat ~/.kube/config)"
    pulumi up
"""

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.addons.keda import Keda, KedaArgs
from gpu_platform.serving.vllm_service import NAMESPACE, VllmService, VllmServiceArgs

config = pulumi.Config()
cluster = k8s.Provider("cluster", kubeconfig=config.require_secret("kubeconfig"))
on_cluster = pulumi.ResourceOptions(providers=[cluster])

namespace = k8s.core.v1.Namespace(
    "inference",
    metadata={"name": NAMESPACE},
    opts=pulumi.ResourceOptions(provider=cluster),
)
keda = Keda("keda", KedaArgs(kubernetes_version="1.36"), opts=on_cluster)
qwen = VllmService(
    "qwen",
    VllmServiceArgs(
        model_name="qwen-7b",
        model={
            "source": "Qwen/Qwen2.5-7B-Instruct",
            "revision": "a09a35458c702b33eeacc393d103063234e8bc28",
            "node_pool": "l4",
            "min_replicas": 1,
            "max_replicas": 4,
            "max_model_len": 8192,
            "parameters_b": 7.6,
        },
        pools={"l4": {"gpu": "l4", "gpus_per_node": 1, "capacity": "spot", "max_nodes": 4}},
        cloud="aws",
        kubernetes_version="1.36",
        keda_release=keda.ready,
    ),
    opts=pulumi.ResourceOptions(providers=[cluster], depends_on=[namespace]),
)
pulumi.export("url", qwen.url)
