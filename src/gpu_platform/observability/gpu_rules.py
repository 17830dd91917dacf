"""Alerts on GPU health and waste (pure data): Prometheus rule groups over the DCGM exporter's
counters (gpu_platform/observability/dcgm_counters.py collects every series used here). GPUs are
named by `node`, which the platform's relabelling gives every DCGM series: the exporter's own
host label changed its name between releases (`Hostname`, then `hostname`).

Each alert carries a severity (`critical` pages, `warning` goes to a channel, `info` to a
report), a one-line summary, a runbook-style description (what it means, what to check, what
to do) and a `for:` long enough that a single scrape does not page anyone.
"""

from __future__ import annotations

from typing import Any

# XID codes by what they mean for the node, from NVIDIA's XID catalogue: hardware faults that
# need the GPU drained and reset or replaced, and faults of the application on it.
HARDWARE_XIDS = ("48", "63", "64", "74", "79", "92", "94", "95", "119", "120")
APPLICATION_XIDS = ("13", "31", "43", "45")
DCGM_JOB = "(nvidia-)?dcgm-exporter"  # the GPU Operator's and the standalone chart's service
HOT_GPU_CELSIUS = 85


def alert(
    name: str, expr: str, duration: str, severity: str, summary: str, description: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description},
    }


def health_group() -> dict[str, Any]:
    hardware = "|".join(HARDWARE_XIDS)
    application = "|".join(APPLICATION_XIDS)
    on_gpu = "GPU {{ $labels.gpu }} on {{ $labels.node }}"
    return {
        "name": "gpu-platform.gpu-health",
        "rules": [
            alert(
                "GPUHardwareXid",
                f'max_over_time(DCGM_EXP_XID_ERRORS_COUNT{{xid=~"{hardware}"}}[10m]) > 0',
                "0m",
                "critical",
                f"{on_gpu} reported hardware XID {{{{ $labels.xid }}}}",
                "The driver reported a hardware fault (XID {{ $labels.xid }}: memory errors, row "
                "remapping, NVLink, or the GPU fell off the bus). Check `nvidia-smi -q` and the "
                "kernel log on the node. Cordon and drain the node, then reset the GPU or replace "
                "the node; replicas reschedule elsewhere.",
            ),
            alert(
                "GPUApplicationXid",
                f'max_over_time(DCGM_EXP_XID_ERRORS_COUNT{{xid=~"{application}"}}[10m]) > 0',
                "5m",
                "warning",
                f"{on_gpu} reported application XID {{{{ $labels.xid }}}}",
                "A program on the GPU faulted (XID {{ $labels.xid }}: engine exception, memory "
                "fault, channel reset). Check the logs of the pods on the node for CUDA errors. "
                "Restart the affected pod; if the XID repeats with other workloads, treat the "
                "GPU as faulty.",
            ),
            alert(
                "GPUDoubleBitECCErrors",
                "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0",
                "0m",
                "critical",
                f"{on_gpu} has uncorrectable (double-bit) ECC errors",
                "Memory on the GPU returned data it could not correct; results computed on it "
                "may be wrong. Check `nvidia-smi -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER`. Drain "
                "the node and reset the GPU; replace the node if the errors come back.",
            ),
            alert(
                "GPURowRemapFailed",
                "DCGM_FI_DEV_ROW_REMAP_FAILURE > 0",
                "0m",
                "critical",
                f"{on_gpu} could not remap a failing memory row",
                "The GPU ran out of spare memory rows to replace failing ones: its memory can no "
                "longer be trusted. Check `nvidia-smi -q -d ROW_REMAPPER` on the node to confirm. "
                "Drain the node and have the instance replaced (terminate it so the node group "
                "launches another).",
            ),
            alert(
                "GPUPagesPendingRetirement",
                "DCGM_FI_DEV_RETIRED_PENDING > 0",
                "15m",
                "warning",
                f"{on_gpu} has memory pages waiting to be retired",
                "Pages with errors are retired only when the GPU is reset; until then they count "
                "against its memory. Check `nvidia-smi -q -d PAGE_RETIREMENT` on the node. Drain "
                "the node and reset the GPU (or reboot the node) at the next quiet moment.",
            ),
            alert(
                "GPUThermalThrottling",
                "rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m]) / 1e9 > 0.2",
                "15m",
                "warning",
                f"{on_gpu} is held back by heat",
                "The GPU spent more than a fifth of the last 15 minutes throttled for "
                "temperature, so it serves slower than its peers. Check its temperature and the "
                "instance's health; replace the node if it persists.",
            ),
            alert(
                "GPUPowerThrottling",
                "rate(DCGM_FI_DEV_POWER_VIOLATION[5m]) / 1e9 > 0.5",
                "30m",
                "warning",
                f"{on_gpu} is held back by its power limit",
                "The GPU spent more than half of the last 30 minutes at its power cap. Under "
                "steady full load this is expected; otherwise check the power limit "
                "(`nvidia-smi -q -d POWER`) and the instance type.",
            ),
            alert(
                "GPUTemperatureHigh",
                f"DCGM_FI_DEV_GPU_TEMP > {HOT_GPU_CELSIUS}",
                "10m",
                "warning",
                f"{on_gpu} runs at {{{{ $value }}}} C",
                f"The GPU has stayed above {HOT_GPU_CELSIUS} C; it will throttle and may fault. "
                "Check the instance's health in the cloud console; replace the node if it does "
                "not cool down.",
            ),
            alert(
                "GPUMissing",
                "count by (node) (DCGM_FI_DEV_GPU_TEMP offset 1h)"
                " > count by (node) (DCGM_FI_DEV_GPU_TEMP)",
                "10m",
                "critical",
                "{{ $labels.node }} reports fewer GPUs than an hour ago",
                "A GPU disappeared from the node (often XID 79, fallen off the bus); pods that "
                "asked for it cannot run. Check `nvidia-smi` on the node. Drain it and have the "
                "instance replaced.",
            ),
            alert(
                "DCGMExporterDown",
                f'up{{job=~"{DCGM_JOB}"}} == 0',
                "10m",
                "warning",
                "The DCGM exporter on {{ $labels.instance }} is not answering",
                "GPU metrics of that node are missing, so GPU alerts and autoscaling decisions "
                "are blind there. Check the exporter pod's logs in its namespace; it restarts "
                "when the node's driver is upgraded or failing.",
            ),
        ],
    }


def waste_group(idle_minutes: int) -> dict[str, Any]:
    return {
        "name": "gpu-platform.gpu-waste",
        "rules": [
            alert(
                "GPUNodeIdle",
                "max by (node) (DCGM_FI_DEV_GPU_UTIL) == 0",
                f"{idle_minutes}m",
                "info",
                "{{ $labels.node }} has had nothing running on its GPUs for "
                f"{idle_minutes} minutes",
                "A GPU node that bills by the hour is idle. Check what keeps it: a pool "
                "minNodes above 0, a model's minReplicas, or a pod that holds a GPU without "
                "using it. Lower them, or let the autoscaler remove the node.",
            ),
        ],
    }
