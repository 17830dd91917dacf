"""gpu-platform: one Pulumi program, one stack per environment.

Reads the validated stack config, builds the platform and exports a few facts about it. All
resource logic lives in the `gpu_platform` package (`src/gpu_platform/`); `stacks/` reads the
config and its secrets.
"""

import pulumi

from stacks import config as stack_config
from stacks import deployed
from stacks.platform import build

config = stack_config.load()
platform = build(config)

pulumi.export("environment", config.environment)
pulumi.export("cloud", {"provider": config.cloud.provider, "region": config.cloud.region})
pulumi.export("clusterName", platform.cluster.cluster_name)
pulumi.export("clusterEndpoint", platform.cluster.endpoint)
pulumi.export("kubeconfig", platform.cluster.kubeconfig)
pulumi.export("kubernetesVersion", config.cluster.kubernetes_version)
if config.cloud.provider == "aws":
    pulumi.export("oidcIssuer", platform.cluster.oidc_issuer)
    # Pinned or, where no published pin exists, EKS's default for the version at deploy time:
    # exported so that a change of a resolved version shows in `pulumi up`'s output diff.
    pulumi.export("eksAddonVersions", platform.cluster.addon_versions)
else:
    pulumi.export("workloadPool", platform.cluster.workload_pool)
# How applications reach the vector store (the password is in the Secret it names). In
# production it also carries the check against the last deployment's store, so a refused
# change fails the program.
store = platform.vector_store.connection if platform.vector_store else None
if platform.secrets.store_checked is not None:
    store = pulumi.Output.all(platform.secrets.store_checked, store).apply(lambda found: found[1])
pulumi.export(deployed.STORE_OUTPUT, store)
pulumi.export("models", {name: service.url for name, service in platform.models.items()})
pulumi.export(
    "nodePools",
    {
        name: {
            "gpu": pool.gpu,
            "gpusPerNode": pool.gpus_per_node,
            "capacity": pool.capacity,
            "minNodes": pool.min_nodes,
            "maxNodes": pool.max_nodes,
        }
        for name, pool in config.node_pools.items()
    },
)
