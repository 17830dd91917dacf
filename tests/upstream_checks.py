"""Checks against upstream facts: Helm chart values and CRDs vendored in `tests/upstream/` (see its
README for provenance), and Kubernetes object schemas of the targeted minor version (from the
`kubernetes-validate` package, which ships strict schemas for 1.25 to 1.37)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

UPSTREAM = Path(__file__).resolve().parent / "upstream"

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

# Custom resources the platform renders, by (apiVersion, kind): the vendored CRD that defines them.
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_scaledobjects.yaml",
    ("monitoring.coreos.com/v1", "PodMonitor"): "monitoring.coreos.com_podmonitors.yaml",
}


def charts_dir() -> Path:
    return UPSTREAM / "charts"


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


def k8s_errors(manifest: dict, kubernetes_version: str) -> list[str]:
    """Problems the strict schema of `kubernetes_version` finds in a built-in object, or, for a
    custom resource, its vendored CRD's schema. Fails when neither knows the kind, so no object
    goes unchecked."""
    key = (manifest.get("apiVersion"), manifest.get("kind"))
    if key in CRDS:
        return crd_errors(manifest, CRDS[key])
    try:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{list(error.absolute_path)}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        raise AssertionError(error.message) from None
    return []


@functools.cache
def crd_schema(file_name: str, version: str) -> dict:
    """The openAPIV3Schema of one version of a vendored CRD."""
    crd = yaml.safe_load((UPSTREAM / "crds" / file_name).read_text())
    (entry,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return entry["schema"]["openAPIV3Schema"]


def crd_errors(manifest: dict, file_name: str) -> list[str]:
    version = manifest["apiVersion"].rsplit("/", 1)[-1]
    validator = jsonschema.Draft7Validator(crd_schema(file_name, version))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


@functools.cache
def vllm_flags() -> tuple[frozenset[str], frozenset[str]]:
    """(flags vLLM accepts, flags it removed) from the vendored list."""
    text = (UPSTREAM / "metrics" / "vllm-cli-flags.txt").read_text()
    accepted, removed = set(), set()
    for line in text.splitlines():
        if line.startswith("#removed"):
            removed.update(t for t in line.split() if t.startswith("--"))
        elif line.startswith("--"):
            accepted.add(line.split()[0])
    return frozenset(accepted), frozenset(removed)


@functools.cache
def vllm_series() -> frozenset[str]:
    """Every series name vLLM exposes (the exposed_series column of the vendored list)."""
    text = (UPSTREAM / "metrics" / "vllm.txt").read_text()
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.update(line.split("\t")[2].split(","))
    return frozenset(names)


def json_copy(value: Any) -> Any:
    """A deep, JSON-shaped copy of a recorded object, safe to mutate in a test."""
    return json.loads(json.dumps(value))
