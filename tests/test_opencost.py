"""OpenCost: CPU, memory and storage prices from the catalog the cost estimate uses, GPUs left
to the platform's own rules (OpenCost's GPU pricing is unreliable on GPU nodes), reading the
stack's Prometheus and scraped by it; dev runs none."""

from __future__ import annotations

import pytest
from harness import recorded

from gpu_platform import catalog, labels, versions
from gpu_platform.observability import opencost

RELEASE = "kubernetes:helm.sh/v3:Release"


def test_the_price_list_splits_the_system_nodes_price_and_leaves_gpus_out() -> None:
    prices = opencost.price_list("aws", "m6i.xlarge", 0.192, spot_discount=0.6)
    # m6i.xlarge: 4 vCPUs and 16 GiB; about two thirds of its hour is the vCPUs'.
    assert prices["CPU"] == pytest.approx(0.192 * 0.65 / 4, abs=1e-6)
    assert prices["RAM"] == pytest.approx(0.192 * 0.35 / 16, abs=1e-6)
    assert prices["spotCPU"] == pytest.approx(prices["CPU"] * 0.4, abs=1e-6)
    assert prices["GPU"] == 0
    # gp3 per GiB-hour: OpenCost's storage price is hourly, as its own default list is.
    assert prices["storage"] == pytest.approx(0.08 / catalog.PRICES.hours_per_month, abs=1e-8)
    assert (4 * prices["CPU"] + 16 * prices["RAM"]) == pytest.approx(0.192, abs=1e-5)


def test_prod_runs_opencost_on_its_prometheus_and_dev_runs_none() -> None:
    (release,) = [r for r in recorded("prod").of_type(RELEASE) if r.inputs["chart"] == "opencost"]
    assert release.inputs["version"] == versions.OPENCOST_CHART[1]
    values = release.inputs["values"]["opencost"]
    assert values["prometheus"]["internal"] == {
        "enabled": True,
        "serviceName": "prometheus-operated",
        "namespaceName": "observability",
        "port": 9090,
    }
    assert values["exporter"]["defaultClusterId"] == "gp-prod"
    assert values["customPricing"]["costModel"]["GPU"] == 0
    # OpenCost uses the price list only when told to, and spot prices only on labelled nodes.
    assert {"name": "USE_CUSTOM_PROVIDER", "value": "true"} in values["exporter"]["env"]
    cost_model = values["customPricing"]["costModel"]
    assert (cost_model["spotLabel"], cost_model["spotLabelValue"]) == (
        "eks.amazonaws.com/capacityType",
        "SPOT",
    )
    assert values["metrics"]["serviceMonitor"] == {
        "enabled": True,
        "additionalLabels": labels.PROMETHEUS_SELECTOR,
    }
    assert values["ui"] == {"enabled": False}
    assert values["nodeSelector"] == {"gpuplatform.io/pool": "system"}
    assert "kubernetes:helm.sh/v3:Release::prod-prometheus-release" in release.options["dependsOn"]
    assert not [r for r in recorded("dev").of_type(RELEASE) if r.inputs["chart"] == "opencost"]
