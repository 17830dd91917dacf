"""Kubernetes minor versions the platform supports, what it pins for each, and the clouds' support
calendars (pure data and lookups).

A version is supported when every pin below exists for it; the newest is the default. Moving a
stack to the next minor is a reviewed change that the offline plan shows (README: "Upgrading
Kubernetes"). Where no published source gives an EKS add-on version, the pin is None and the
program asks EKS for the default version of that add-on at deploy time
(`aws.eks.get_addon_version`); the stack exports the value it got, so a change is visible.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

SUPPORTED = ("1.34", "1.35", "1.36")
DEFAULT = SUPPORTED[-1]


@dataclass(frozen=True)
class SupportWindow:
    """When a minor version leaves a cloud's standard support (and, on EKS, extended support)."""

    standard_end: datetime.date
    extended_end: datetime.date | None = None


# AWS, "Amazon EKS Kubernetes release calendar":
# https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html
# (1.34: awsdocs/amazon-eks-user-guide latest/ug/versioning/kubernetes-versions.adoc @ 01385604;
# 1.35 and 1.36: the same table as recorded by endoflife-date/release-data
# releases/amazon-eks.json @ ae4ee054, 2026-08-18).
EKS_SUPPORT: dict[str, SupportWindow] = {
    "1.34": SupportWindow(datetime.date(2026, 12, 2), datetime.date(2027, 12, 2)),
    "1.35": SupportWindow(datetime.date(2027, 3, 27), datetime.date(2028, 3, 27)),
    "1.36": SupportWindow(datetime.date(2027, 8, 2), datetime.date(2028, 8, 2)),
}

# Google, "GKE release schedule" (end of standard support; Google calls the dates best-effort):
# https://cloud.google.com/kubernetes-engine/docs/release-schedule, as recorded by
# endoflife-date/endoflife.date products/google-kubernetes-engine.md @ a70eca33.
# For 1.34 the schedule gave only "2026-Q4"; the first day of the quarter is used so that the
# warning is never late.
GKE_SUPPORT: dict[str, SupportWindow] = {
    "1.34": SupportWindow(datetime.date(2026, 10, 1)),
    "1.35": SupportWindow(datetime.date(2027, 4, 11)),
    "1.36": SupportWindow(datetime.date(2027, 8, 9)),
}

# EKS AL2023 AMI release per minor, shared by the STANDARD (system nodes) and NVIDIA (GPU nodes)
# AMIs of one build: awslabs/amazon-eks-ami CHANGELOG.md, "AMI Release v20260714"
# (commit 158225113dac62583729bca127cce67b4211737a). `aws ssm get-parameter --name` the newest
# one's parameter, /aws/service/eks/optimized-ami/<minor>/amazon-linux-2023/x86_64/nvidia/
# recommended/release_version, before moving a pin.
EKS_AMI_RELEASES: dict[str, str] = {
    "1.34": "1.34.9-20260714",
    "1.35": "1.35.6-20260714",
    "1.36": "1.36.2-20260714",
}

# EKS managed add-ons and their versions per minor. Sources, the EKS user guide's tables of the
# latest add-on version per cluster version:
# kube-proxy: "Manage kube-proxy" (as published in the ja_jp edition)
#   https://docs.aws.amazon.com/ja_jp/eks/latest/userguide/managing-kube-proxy.html
# coredns: "Manage CoreDNS" (as published in the en_us edition of the China regions' guide)
#   https://docs.amazonaws.cn/en_us/eks/latest/userguide/managing-coredns.html
# None: no published per-version table; EKS's default version for the minor, resolved at deploy.
EKS_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver")
EKS_ADDON_VERSIONS: dict[str, dict[str, str | None]] = {
    "1.34": {
        "vpc-cni": None,
        "kube-proxy": "v1.34.6-eksbuild.13",
        "eks-pod-identity-agent": None,
        "coredns": "v1.13.2-eksbuild.7",
        "aws-ebs-csi-driver": None,
    },
    "1.35": {
        "vpc-cni": None,
        "kube-proxy": "v1.35.3-eksbuild.13",
        "eks-pod-identity-agent": None,
        "coredns": "v1.14.2-eksbuild.4",
        "aws-ebs-csi-driver": None,
    },
    "1.36": {
        "vpc-cni": None,
        "kube-proxy": "v1.36.0-eksbuild.14",
        "eks-pod-identity-agent": None,
        "coredns": None,
        "aws-ebs-csi-driver": None,
    },
}


@dataclass(frozen=True)
class AutoscalerRelease:
    """A cluster-autoscaler chart release and, where the chart's own default image is an older
    minor, the image tag of the cluster's minor."""

    chart: str
    image_tag: str | None = None


# kubernetes/autoscaler, tags cluster-autoscaler-chart-<chart>; the autoscaler's minor must
# match the cluster's. 9.53.0 @ a2db9eb7: app 1.34.2. 9.59.0 @ 5a0b98e4: app 1.35.0. No chart
# defaults to 1.36 yet: 9.59.0 with image v1.36.1 (tag cluster-autoscaler-1.36.1, 2026-07-22) is
# what upstream's chart 9.60.0 proposal (kubernetes/autoscaler#10169) changes and nothing else.
CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
CLUSTER_AUTOSCALER: dict[str, AutoscalerRelease] = {
    "1.34": AutoscalerRelease("9.53.0"),
    "1.35": AutoscalerRelease("9.59.0"),
    "1.36": AutoscalerRelease("9.59.0", image_tag="v1.36.1"),
}

SUPPORT_CALENDARS: dict[str, dict[str, SupportWindow]] = {"aws": EKS_SUPPORT, "gcp": GKE_SUPPORT}
WARN_BEFORE = datetime.timedelta(days=60)


@dataclass(frozen=True)
class SupportStatus:
    """Where a minor version stands in a cloud's calendar on one day."""

    state: Literal["standard", "ending", "ended"]
    standard_end: datetime.date
    extended_end: datetime.date | None
    next_version: str | None


def next_version(version: str) -> str | None:
    """The supported minor after `version`, the one an upgrade moves to."""
    later = [v for v in SUPPORTED if _minor(v) > _minor(version)]
    return min(later, key=_minor) if later else None


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def support_status(cloud: str, version: str, today: datetime.date) -> SupportStatus:
    """`ended` after the last day of standard support, `ending` within WARN_BEFORE of it."""
    window = SUPPORT_CALENDARS[cloud][version]
    if today > window.standard_end:
        state = "ended"
    elif today >= window.standard_end - WARN_BEFORE:
        state = "ending"
    else:
        state = "standard"
    return SupportStatus(state, window.standard_end, window.extended_end, next_version(version))
