"""IAM documents for the EKS cluster, its nodes and the pods that call AWS APIs (pure data)."""

from __future__ import annotations

import json

CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
)
# The VPC CNI's permissions (ENIs and addresses for every node). On clusters the platform
# creates, only the CNI's own service account holds them (EKS Pod Identity on the vpc-cni
# add-on); on adopted clusters, whose add-ons the platform does not manage, the node role does.
CNI_POLICY = "AmazonEKS_CNI_Policy"


def node_policies(cni_on_node_role: bool) -> tuple[str, ...]:
    return (*NODE_POLICIES, CNI_POLICY) if cni_on_node_role else NODE_POLICIES


EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def access_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"


def service_trust_policy(service: str) -> str:
    """Trust policy letting an AWS service (eks.amazonaws.com, ec2.amazonaws.com) assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def pod_identity_trust_policy() -> str:
    """Trust policy for EKS Pod Identity: the agent assumes the role for a service account."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "pods.eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
    )


def cluster_autoscaler_policy(cluster_name: str) -> str:
    """What cluster-autoscaler needs: read every ASG, resize only this cluster's node groups."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Describe",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "ResizeOwnNodeGroups",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:SetDesiredCapacity",
                        "autoscaling:TerminateInstanceInAutoScalingGroup",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"
                        }
                    },
                },
            ],
        }
    )


def log_group_arn(partition: str, region: str, account: str, cluster_name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account}:log-group:/aws/eks/{cluster_name}/cluster"


def cluster_key_policy(partition: str, region: str, account: str, cluster_name: str) -> str:
    """The cluster's KMS key policy: the account administers and uses it through IAM (as the
    default policy has it, which EKS's secrets encryption relies on), and CloudWatch Logs may
    use it for this cluster's control-plane log group only."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersAndUsesThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "ControlPlaneLogGroup",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.{suffix}"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": log_group_arn(
                                partition, region, account, cluster_name
                            )
                        }
                    },
                },
            ],
        }
    )
