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

const qwen7b = {
    source: "Qwen/Qwen2.5-7B-Instruct",
    revision: "a09a35458c702b33eeacc393d103063234e8bc28",
    nodePool: "l4",
    minReplicas: 1,
    maxReplicas: 4,
    maxModelLen: 8192,
    parametersB: 7.6,
};

// Prometheus with the platform's alerts (to Slack), dashboards and GPU cost per pool,
// namespace and model, derived from the pools and models it is given.
const observability = new k8s.core.v1.Namespace("observability", {
    metadata: { name: "observability" },
}, { provider: cluster });

const prometheus = new gpuPlatform.Prometheus("prometheus", {
    cloud: "aws",
    kubernetesVersion: "1.36",
    observability: { retention: "15d", alerts: { slack: { channel: "#gpu-platform" } } },
    pools: { l4: l4 },
    models: { "qwen-7b": qwen7b },
    clusterName: clusterName,
    slackWebhookUrl: config.requireSecret("slackWebhookUrl"),
}, { providers: [cluster], dependsOn: [observability] });

const gpus = new gpuPlatform.GpuOperator("gpu", {
    cloud: "aws",
    kubernetesVersion: "1.36",
    pools: { l4: l4 },
    serviceMonitor: true,
}, { providers: [cluster], dependsOn: [pool, prometheus.ready] });

const keda = new gpuPlatform.Keda("keda", {
    kubernetesVersion: "1.36",
}, { providers: [cluster] });

const namespace = new k8s.core.v1.Namespace("inference", {
    metadata: { name: "inference" },
}, { provider: cluster });

const qwen = new gpuPlatform.VllmService("qwen", {
    modelName: "qwen-7b",
    model: qwen7b,
    pools: { l4: l4 },
    cloud: "aws",
    kubernetesVersion: "1.36",
    kedaRelease: keda.ready,
    monitoring: true,
}, { providers: [cluster], dependsOn: [namespace, gpus, prometheus.ready] });

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
