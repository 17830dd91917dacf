"""What EKS clusters run besides the control plane: managed add-ons, the default StorageClass and
the service accounts that get AWS identities (pure data)."""

from __future__ import annotations

import json

from gpu_platform.aws import iam

# Nodes cannot become Ready without the CNI and kube-proxy; pods on them need the identity agent,
# and so does the CNI itself, whose AWS permissions come through EKS Pod Identity: the agent is
# installed first.
PRE_NODE_ADDONS = ("eks-pod-identity-agent", "kube-proxy", "vpc-cni")
CNI_SERVICE_ACCOUNT = "aws-node"
# These run as Deployments and need nodes to schedule on.
POST_NODE_ADDONS = ("coredns", "aws-ebs-csi-driver")
AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
# Add-ons whose pods call AWS: the purpose their IAM role is named for, the service account EKS
# Pod Identity gives it to, and its managed policy. Each waits for its role's policy, and, if it
# runs before any node, for the identity agent before it.
ADDON_IDENTITIES: dict[str, tuple[str, str, str]] = {
    "vpc-cni": ("vpc-cni", CNI_SERVICE_ACCOUNT, iam.CNI_POLICY),
    "aws-ebs-csi-driver": ("ebs-csi", EBS_CSI_SERVICE_ACCOUNT, iam.EBS_CSI_POLICY),
}


def render_cni_restart() -> dict:
    """A pod-template annotation on the CNI's DaemonSet. Pod Identity credentials reach only
    pods created after the association exists, so on a cluster whose node role held the CNI's
    permissions, setting it once rolls the CNI's pods onto their own credentials before the
    node role's policy goes (Pulumi deletes last). Constant afterwards: no further restarts."""
    return {
        "metadata": {
            "name": "aws-node",
            "namespace": "kube-system",
            # The add-on's manager owns the rest of the object; this one key is ours.
            "annotations": {"pulumi.com/patchForce": "true"},
        },
        "spec": {
            "template": {
                "metadata": {"annotations": {"gpuplatform.io/cni-credentials": "pod-identity"}}
            }
        },
    }


def render_addon_configuration(addon: str) -> str | None:
    """Add-on settings: the VPC CNI enforces NetworkPolicy (model servers rely on it)."""
    if addon == "vpc-cni":
        return json.dumps({"enableNetworkPolicy": "true"})
    return None


def render_storage_class() -> dict:
    """The default StorageClass: encrypted gp3, bound where the pod lands, expandable."""
    return {
        "metadata": {
            "name": "gp3",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
        "volume_binding_mode": "WaitForFirstConsumer",
        "allow_volume_expansion": True,
        "reclaim_policy": "Delete",
    }
