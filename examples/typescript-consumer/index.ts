// gpu-platform's components from TypeScript: `pulumi package add ../../provider` generates the
// `@pulumi/gpu-platform` SDK (sdks/gpu-platform) from the schema the Python package serves.
// The cluster exists already; its name, node role and private subnets come from config.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as gpuPlatform from "@pulumi/gpu-platform";

const config = new pulumi.Config();
const clusterName = config.require("clusterName");
const account = new aws.Provider("account", { region: config.require("region") });
const cluster = new k8s.Provider("cluster", { kubeconfig: config.requireSecret("kubeconfig") });

const l4 = { gpu: "l4", gpusPerNode: 1, capacity: "spot", maxNodes: 4 };

const pool = new gpuPlatform.EksGpuNodePool("l4", {
    poolName: "l4",
    pool: l4,
    clusterName: clusterName,
    kubernetesVersion: "1.36",
    nodeRoleArn: config.require("nodeRoleArn"),
    subnetIds: config.requireObject<string[]>("privateSubnetIds"),
}, { providers: [account] });

const gpus = new gpuPlatform.GpuOperator("gpu", {
    cloud: "aws",
    kubernetesVersion: "1.36",
    pools: { l4: l4 },
}, { providers: [cluster], dependsOn: [pool] });

const keda = new gpuPlatform.Keda("keda", {
    kubernetesVersion: "1.36",
}, { providers: [cluster] });

const namespace = new k8s.core.v1.Namespace("inference", {
    metadata: { name: "inference" },
}, { provider: cluster });

const qwen = new gpuPlatform.VllmService("qwen", {
    modelName: "qwen-7b",
    model: {
        source: "Qwen/Qwen2.5-7B-Instruct",
        revision: "a09a35458c702b33eeacc393d103063234e8bc28",
        nodePool: "l4",
        minReplicas: 1,
        maxReplicas: 4,
        maxModelLen: 8192,
        parametersB: 7.6,
    },
    pools: { l4: l4 },
    cloud: "aws",
    kubernetesVersion: "1.36",
    kedaRelease: keda.ready,
}, { providers: [cluster], dependsOn: [namespace, gpus] });

// Retrieval-augmented apps in `inference` find the store through the `vector-store` ConfigMap
// and Secret it publishes there; backups go to a bucket in the account.
const data = new k8s.core.v1.Namespace("data", {
    metadata: { name: "data" },
}, { provider: cluster });

const vectors = new gpuPlatform.PgVector("vectors", {
    store: { replicas: 2, storageGib: 50, dimensions: 1024, backups: { enabled: true } },
    cluster: { cloud: "aws", region: config.require("region"), clusterName: clusterName },
    kubernetesVersion: "1.36",
}, { providers: [cluster, account], dependsOn: [data, namespace] });

export const url = qwen.url;
export const vectorStore = vectors.connection;
export const nodeGroup = pool.nodeGroupName;
