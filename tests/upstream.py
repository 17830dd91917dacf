"""Checks against upstream data in ../shared/reference: Helm chart values and Kubernetes schemas."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from conftest import shared_dir

# Values whose contents are Kubernetes objects or free-form maps the chart passes through.
FREE_FORM = frozenset(
    {
        "labels",
        "annotations",
        "additionalLabels",
        "nodeSelector",
        "tolerations",
        "affinity",
        "resources",
        "env",
        "extraEnv",
        "extraArgs",
        "securityContext",
        "podSecurityContext",
        "data",
        "podAnnotations",
        "podLabels",
    }
)


def charts_dir() -> Path:
    return shared_dir() / "reference" / "charts"


@functools.cache
def chart_values(chart: str) -> dict[str, Any]:
    return yaml.safe_load((charts_dir() / chart / "values.yaml").read_text())


@functools.cache
def chart_version(chart: str) -> str:
    return str(yaml.safe_load((charts_dir() / chart / "Chart.yaml").read_text())["version"])


def unknown_keys(values: Any, upstream: Any, path: str = "") -> list[str]:
    """Key paths in `values` that the upstream values.yaml does not have."""
    if not isinstance(values, dict):
        return []
    missing = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if not isinstance(upstream, dict) or key not in upstream:
            missing.append(where)
        elif key not in FREE_FORM and upstream[key] != {}:
            # An empty map upstream is an object the chart passes through as given.
            missing += unknown_keys(value, upstream[key], where)
    return missing


def merge(base: Any, override: Any) -> Any:
    """Helm's values merge: maps merge key by key, everything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {
            k: merge(base.get(k), override[k]) if k in base else override[k] for k in override
        } | {k: v for k, v in base.items() if k not in override}
    return override


@functools.cache
def k8s_schema(api_version: str, kind: str) -> dict | None:
    """The standalone-strict schema for a kind, or None when the reference has none."""
    group, _, version = api_version.rpartition("/")
    name = "-".join(filter(None, (kind.lower(), group.split(".")[0], version)))
    path = (
        shared_dir() / "reference" / "k8s-schemas" / "v1.33" / "standalone-strict" / f"{name}.json"
    )
    return json.loads(path.read_text()) if path.is_file() else None


def k8s_errors(manifest: dict) -> list[str]:
    schema = k8s_schema(manifest["apiVersion"], manifest["kind"])
    assert schema is not None, f"no schema for {manifest['apiVersion']} {manifest['kind']}"
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


@functools.cache
def crd_schema(file_name: str, version: str) -> dict:
    """The openAPIV3Schema of one version of a CRD in ../shared/reference/crds."""
    crd = yaml.safe_load((shared_dir() / "reference" / "crds" / file_name).read_text())
    (entry,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return entry["schema"]["openAPIV3Schema"]


def crd_errors(manifest: dict, file_name: str) -> list[str]:
    version = manifest["apiVersion"].rsplit("/", 1)[-1]
    validator = jsonschema.Draft7Validator(crd_schema(file_name, version))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


@functools.cache
def vllm_flags() -> tuple[frozenset[str], frozenset[str]]:
    """(flags vLLM accepts, flags it removed) from the reference list."""
    text = (shared_dir() / "reference" / "metrics" / "vllm-cli-flags.txt").read_text()
    accepted, removed = set(), set()
    for line in text.splitlines():
        if line.startswith("#removed"):
            removed.update(t for t in line.split() if t.startswith("--"))
        elif line.startswith("--"):
            accepted.add(line.split()[0])
    return frozenset(accepted), frozenset(removed)


@functools.cache
def vllm_series() -> frozenset[str]:
    """Every series name vLLM exposes (the exposed_series column of the reference list)."""
    text = (shared_dir() / "reference" / "metrics" / "vllm.txt").read_text()
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.update(line.split("\t")[2].split(","))
    return frozenset(names)
