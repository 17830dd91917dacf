"""The per-version pins are complete and consistent, and the support calendar's states."""

from __future__ import annotations

import datetime
import re

import pytest

from gpu_platform import k8s_versions as kv

TABLES = {
    "EKS_SUPPORT": kv.EKS_SUPPORT,
    "GKE_SUPPORT": kv.GKE_SUPPORT,
    "EKS_AMI_RELEASES": kv.EKS_AMI_RELEASES,
    "EKS_ADDON_VERSIONS": kv.EKS_ADDON_VERSIONS,
    "CLUSTER_AUTOSCALER": kv.CLUSTER_AUTOSCALER,
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_supported_version_has_every_pin(table: str) -> None:
    assert set(TABLES[table]) == set(kv.SUPPORTED)


def test_pins_belong_to_their_minor_version() -> None:
    for minor in kv.SUPPORTED:
        assert re.fullmatch(rf"{re.escape(minor)}\.\d+-\d{{8}}", kv.EKS_AMI_RELEASES[minor])
        addons = kv.EKS_ADDON_VERSIONS[minor]
        assert set(addons) == set(kv.EKS_ADDONS)
        proxy = addons["kube-proxy"]
        assert proxy is None or proxy.startswith(f"v{minor}."), "kube-proxy follows the minor"
        tag = kv.CLUSTER_AUTOSCALER[minor].image_tag
        assert tag is None or tag.startswith(f"v{minor}.")


def test_the_default_is_the_newest_and_supported_in_order() -> None:
    assert kv.DEFAULT == kv.SUPPORTED[-1] == "1.36"
    assert [kv.next_version(v) for v in kv.SUPPORTED] == [*kv.SUPPORTED[1:], None]
    assert kv.next_version("1.33") == "1.34"


def test_standard_support_outlasts_today_for_the_default_on_both_clouds() -> None:
    today = datetime.date(2026, 12, 1)
    for cloud in ("aws", "gcp"):
        assert kv.support_status(cloud, kv.DEFAULT, today).state == "standard"


@pytest.mark.parametrize(
    ("offset_days", "state"), [(-61, "standard"), (-60, "ending"), (0, "ending"), (1, "ended")]
)
def test_support_states_around_the_end_of_standard_support(offset_days: int, state: str) -> None:
    end = kv.EKS_SUPPORT["1.35"].standard_end
    status = kv.support_status("aws", "1.35", end + datetime.timedelta(days=offset_days))
    assert status.state == state
    assert (status.standard_end, status.next_version) == (end, "1.36")
    assert status.extended_end == datetime.date(2028, 3, 27)
