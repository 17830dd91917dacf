"""Cloud and cluster specs: where a stack deploys (`cloud`) and the Kubernetes cluster it runs on
(`cluster`). Rules that need both sections live in `gpu_platform/platform/rules.py`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from gpu_platform import k8s_versions
from gpu_platform.spec import Problem, Spec, check, raise_problems

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", re.ASCII)
_K8S_VERSION = re.compile(r"^1\.\d{2}$", re.ASCII)
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$", re.ASCII)
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$", re.ASCII)
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", re.ASCII)
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$", re.ASCII)
_IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$", re.ASCII)
_AWS_PROFILE = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$", re.ASCII)

ReleaseChannel = Literal["RAPID", "REGULAR", "STABLE"]
EndpointAccess = Literal["private", "public"]
ANYWHERE = "0.0.0.0/0"


class AwsCloudSpec(Spec):
    """Deploy to AWS (EKS)."""

    provider: Literal["aws"] = Field(description="Cloud provider: aws or gcp.")
    region: str = Field(description="AWS region, e.g. us-east-1.")
    project: None = Field(
        None,
        description=(
            "Must be absent on aws: the account comes from the AWS credentials pulumi runs with."
        ),
    )
    zones: tuple[str, ...] | None = Field(
        None,
        min_length=1,
        description=(
            "Availability zones for subnets and GPU nodes, e.g. [us-east-1a, us-east-1b]; "
            "required when the stack creates the cluster, at least two when production is true. "
            "GPU types exist only in some zones."
        ),
    )
    profile: str | None = Field(
        None,
        description=(
            "AWS shared-config profile to deploy with. The AWS provider and the cluster's "
            "kubeconfig (AWS_PROFILE for `aws eks get-token`) both use it. Default: the ambient "
            "AWS credentials."
        ),
    )
    assume_role_arn: str | None = Field(
        None,
        description=(
            "IAM role to assume for every AWS call and for cluster access (`aws eks get-token "
            "--role-arn`), so the cloud and Kubernetes providers act as one identity; that role "
            "creates the cluster and is its admin."
        ),
    )

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check(_AWS_PROFILE, value, "not an AWS profile name (letters, digits, _.@+-)")

    @field_validator("assume_role_arn")
    @classmethod
    def _assume_role(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check(_IAM_ROLE_ARN, value, "not an IAM role ARN (arn:aws:iam::<account>:role/...)")

    @field_validator("project", mode="before")
    @classmethod
    def _no_project(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "AWS has no project: remove cloud.project (the account comes from your AWS "
                "credentials)"
            )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check(_AWS_REGION, value, "not an AWS region name such as us-east-1")

    @property
    def partition(self) -> str:
        """The AWS partition of the region, for ARNs."""
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws"


class GcpCloudSpec(Spec):
    """Deploy to Google Cloud (GKE)."""

    provider: Literal["gcp"] = Field(description="Cloud provider: aws or gcp.")
    region: str = Field(description="GCP region, e.g. us-central1.")
    project: str = Field(description="GCP project id (required on gcp), e.g. my-project.")
    zones: tuple[str, ...] | None = Field(
        None,
        min_length=1,
        description=(
            "Zones for GPU nodes (GKE node_locations), e.g. [us-central1-a, us-central1-c]; "
            "required when the stack creates the cluster, at least two when production is true."
        ),
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check(_GCP_REGION, value, "not a GCP region name such as us-central1")

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return check(
            _GCP_PROJECT,
            value,
            "not a GCP project id: 6 to 30 lowercase letters, digits and '-', starting with a "
            "letter",
        )


CloudSpec = Annotated[AwsCloudSpec | GcpCloudSpec, Field(discriminator="provider")]


class SystemNodesSpec(Spec):
    """The small CPU node pool that runs platform pods (CoreDNS, operators, autoscaler)."""

    instance_type: str | None = Field(
        None,
        description=(
            "Instance type (aws) or machine type (gcp). Default: m6i.xlarge on aws, "
            "e2-standard-4 on gcp."
        ),
    )
    min_nodes: int = Field(2, ge=1, le=20, description="Fewest system nodes (at least 1).")
    max_nodes: int = Field(4, ge=1, le=50, description="Most system nodes.")
    disk_gib: int = Field(
        100, alias="diskGiB", ge=50, le=2000, description="Root disk size in GiB."
    )
    ami_release_version: str | None = Field(
        None,
        description=(
            "aws only: the EKS AL2023 AMI release, e.g. 1.36.2-20260714. Default: the release "
            "pinned for the cluster's Kubernetes version."
        ),
    )

    @model_validator(mode="after")
    def _rules(self) -> SystemNodesSpec:
        if self.min_nodes > self.max_nodes:
            raise_problems(
                [
                    Problem(
                        ("minNodes",),
                        f"minNodes ({self.min_nodes}) is greater than maxNodes ({self.max_nodes})",
                    )
                ]
            )
        return self


def _cidr(value: str, *, min_prefix: int, max_prefix: int) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"not an IPv4 CIDR block such as 10.0.0.0/16 ({error})") from None
    if not min_prefix <= network.prefixlen <= max_prefix:
        raise ValueError(f"prefix length must be /{min_prefix} to /{max_prefix}")
    return value


class ClusterSpec(Spec):
    """The Kubernetes cluster the platform runs on."""

    name: str = Field(
        description="Cluster name: a DNS-1123 label (lowercase letters, digits, '-'), at most 40."
    )
    create: bool = Field(
        True, description="true: create the cluster; false: adopt an existing cluster of that name."
    )
    kubernetes_version: str = Field(
        k8s_versions.DEFAULT,
        description=(
            "Kubernetes minor version as a quoted string: one of "
            f"{', '.join(k8s_versions.SUPPORTED)}. Upgrade one minor version at a time (README: "
            "Upgrading Kubernetes)."
        ),
    )
    admin_role_arns: tuple[str, ...] = Field(
        (),
        description=(
            "aws only: IAM role ARNs granted cluster-admin through EKS access entries, in "
            "addition to the identity that creates the cluster."
        ),
    )
    endpoint_access: EndpointAccess | None = Field(
        None,
        description=(
            "private: the Kubernetes API answers only inside the cluster's network (deploy from "
            "a runner there; README: Reaching a private API). public: it also answers the "
            "internet, from publicAccessCidrs. Default: private when production is true, else "
            "public."
        ),
    )
    public_access_cidrs: tuple[str, ...] | None = Field(
        None,
        description=(
            "With endpointAccess public: the public IPv4 CIDR blocks allowed to reach the API "
            "(EKS public access CIDRs, GKE authorized networks); required in production. "
            "Default outside production: 0.0.0.0/0."
        ),
    )
    network_cidr: str = Field(
        "10.0.0.0/16",
        description=(
            "aws: the VPC CIDR (/16 to /20), split into a private and a public subnet per zone. "
            "gcp: the node subnet's primary range (/16 to /24)."
        ),
    )
    pods_cidr: str | None = Field(
        None, description="gcp only: secondary range for pods (default 10.64.0.0/14)."
    )
    services_cidr: str | None = Field(
        None, description="gcp only: secondary range for services (default 10.68.0.0/20)."
    )
    release_channel: ReleaseChannel | None = Field(
        None,
        description="gcp only: GKE release channel RAPID, REGULAR or STABLE (default REGULAR).",
    )
    addon_versions: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "aws only: EKS add-on versions by add-on name (vpc-cni, kube-proxy, "
            "eks-pod-identity-agent, coredns, aws-ebs-csi-driver), overriding the version "
            "pinned for the cluster's Kubernetes version or, where none is pinned, the EKS "
            "default looked up at deploy time."
        ),
    )
    system_nodes: SystemNodesSpec = Field(
        default_factory=SystemNodesSpec, description="CPU node pool for platform pods."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check(
            _DNS_LABEL,
            value,
            "not a DNS-1123 label of at most 40 characters: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit",
        )

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(
                f'write the version as a quoted string such as "{k8s_versions.DEFAULT}": YAML '
                "reads an unquoted 1.30 as the number 1.3"
            )
        check(
            _K8S_VERSION, value, f'not a Kubernetes minor version such as "{k8s_versions.DEFAULT}"'
        )
        if value not in k8s_versions.SUPPORTED:
            raise ValueError(
                f"Kubernetes {value} is not supported; supported: "
                f"{', '.join(k8s_versions.SUPPORTED)}. Clusters upgrade one minor version at a "
                "time: move to the next one, run pulumi up, repeat (README: Upgrading Kubernetes)"
            )
        return value

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            check(
                _IAM_ROLE_ARN,
                arn,
                f"{arn} is not an IAM role ARN (arn:aws:iam::<account>:role/...)",
            )
        if len(set(value)) != len(value):
            # Each role gets one access entry; EKS refuses a second for the same principal.
            raise ValueError("lists a role twice; list each role once")
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addons(cls, value: dict[str, str]) -> dict[str, str]:
        problems = [
            Problem((name,), f"unknown EKS add-on; one of: {', '.join(k8s_versions.EKS_ADDONS)}")
            for name in value
            if name not in k8s_versions.EKS_ADDONS
        ]
        problems += [
            Problem((name,), f"{version} is not an add-on version such as v1.22.4-eksbuild.3")
            for name, version in value.items()
            if not _ADDON_VERSION.fullmatch(version)
        ]
        raise_problems(problems)
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError(
                "an empty list lets no one reach the public endpoint; list CIDR blocks, or set "
                "endpointAccess: private"
            )
        for cidr in value:
            _cidr(cidr, min_prefix=0, max_prefix=32)
            network = ipaddress.IPv4Network(cidr)
            if network.prefixlen > 0 and not network.is_global:
                raise ValueError(
                    f"{cidr} is not a public range: the public endpoint only ever sees public "
                    "addresses (private callers reach the cluster through its private endpoint)"
                )
        if len(set(value)) != len(value):
            raise ValueError("lists a range twice; list each range once")
        return value

    @field_validator("network_cidr")
    @classmethod
    def _network(cls, value: str) -> str:
        return _cidr(value, min_prefix=16, max_prefix=24)

    @field_validator("pods_cidr", "services_cidr")
    @classmethod
    def _secondary(cls, value: str | None) -> str | None:
        return None if value is None else _cidr(value, min_prefix=8, max_prefix=24)

    def eks_addon_versions(self) -> dict[str, str | None]:
        """EKS add-on versions for this cluster's Kubernetes version, with the stack's overrides;
        None: resolved at deploy time."""
        return {**k8s_versions.EKS_ADDON_VERSIONS[self.kubernetes_version], **self.addon_versions}

    @property
    def effective_pods_cidr(self) -> str:
        return self.pods_cidr or "10.64.0.0/14"

    @property
    def effective_services_cidr(self) -> str:
        return self.services_cidr or "10.68.0.0/20"

    @property
    def effective_release_channel(self) -> ReleaseChannel:
        return self.release_channel or "REGULAR"

    def endpoint(self, production: bool) -> Endpoint:
        """Whether the API is public, and to whom, with the environment's defaults applied.
        (gpu_platform/platform/rules.py rejects the combinations this does not cover.)"""
        access = self.endpoint_access or ("private" if production else "public")
        if access == "private":
            return Endpoint(public=False, cidrs=())
        return Endpoint(public=True, cidrs=self.public_access_cidrs or (ANYWHERE,))


@dataclass(frozen=True)
class Endpoint:
    """Who reaches a cluster's Kubernetes API from outside its network."""

    public: bool
    cidrs: tuple[str, ...]

    @property
    def from_anywhere(self) -> bool:
        return self.public and ANYWHERE in self.cidrs
