"""EKS managed add-ons: one `aws.eks.Addon` at its pinned version (or EKS's default for the
cluster's minor, looked up at deploy), with its configuration and, for add-ons whose pods call
AWS, the Pod Identity association of their role."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from gpu_platform.aws.addons import render_addon_configuration


def create_addon(
    name: str,
    cluster: aws.eks.Cluster,
    addon: str,
    version: str | None,
    kubernetes_version: str,
    opts: pulumi.ResourceOptions,
    pod_identity: list[aws.eks.AddonPodIdentityAssociationArgs] | None = None,
) -> aws.eks.Addon:
    """The add-on `addon`, named `<name>-<addon>`; `opts` carry its parent, provider and what it
    waits for."""
    if version is None:
        # No published pin for this minor: EKS's default version of the add-on for it, looked up
        # on every deploy and exported (addonVersions), so a change shows in the diff.
        version = aws.eks.get_addon_version_output(
            addon_name=addon,
            kubernetes_version=kubernetes_version,
            most_recent=False,
            opts=pulumi.InvokeOutputOptions(provider=opts.provider, parent=opts.parent),
        ).version
    return aws.eks.Addon(
        f"{name}-{addon}",
        cluster_name=cluster.name,
        addon_name=addon,
        addon_version=version,
        configuration_values=render_addon_configuration(addon),
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="PRESERVE",
        pod_identity_associations=pod_identity,
        opts=opts,
    )
