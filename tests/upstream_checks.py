"""Checks against upstream facts: Helm chart values and CRDs vendored in `tests/upstream/` (see its
README for provenance), and Kubernetes object schemas of the targeted minor version (from the
`kubernetes-validate` package, which ships strict schemas for 1.25 to 1.37)."""

from __future__ import annotations

import atexit
import functools
import importlib.resources
import json
import os
import re
import shutil
import tempfile
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate import utils
from referencing import Registry, Resource

from tools.mockengine import SECRET

UPSTREAM = Path(__file__).resolve().parent / "upstream"
_K8S_SCHEMAS = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"

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
        # Weaviate's chart writes these to Weaviate's config file and environment as given; its
        # values.yaml lists their keys only as comments.
        "authentication",
        "authorization",
        "envSecrets",
        # OpenCost's chart writes every key of its custom price list into the price list's
        # ConfigMap (templates/configmap-custom-pricing.yaml ranges over it).
        "costModel",
    }
)

# The CRD that defines each custom resource the platform or its charts render: KEDA's from its
# repository, the others from the vendored charts. A kind missing here fails its check.
_KPS_CRDS = "charts/kube-prometheus-stack/charts/crds/crds"
# CloudNativePG's chart keeps every CRD in one template, wrapped in `{{- if .Values.crds.create }}`;
# `file#name` picks one CRD out of such a file.
_CNPG_CRDS = "charts/cloudnative-pg/templates/crds/crds.yaml"
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "crds/keda.sh_scaledobjects.yaml",
    ("monitoring.coreos.com/v1", "PodMonitor"): f"{_KPS_CRDS}/crd-podmonitors.yaml",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): f"{_KPS_CRDS}/crd-servicemonitors.yaml",
    ("monitoring.coreos.com/v1", "PrometheusRule"): f"{_KPS_CRDS}/crd-prometheusrules.yaml",
    ("monitoring.coreos.com/v1", "Prometheus"): f"{_KPS_CRDS}/crd-prometheuses.yaml",
    ("monitoring.coreos.com/v1", "Alertmanager"): f"{_KPS_CRDS}/crd-alertmanagers.yaml",
    ("nvidia.com/v1", "ClusterPolicy"): "charts/gpu-operator/crds/nvidia.com_clusterpolicies.yaml",
    ("postgresql.cnpg.io/v1", "Cluster"): f"{_CNPG_CRDS}#clusters.postgresql.cnpg.io",
    (
        "postgresql.cnpg.io/v1",
        "ScheduledBackup",
    ): f"{_CNPG_CRDS}#scheduledbackups.postgresql.cnpg.io",
    # KEDA's HTTP add-on chart, one CRD per template.
    ("http.keda.sh/v1beta1", "InterceptorRoute"): (
        "charts/keda-add-ons-http/templates/crds/crd-interceptorroutes.yaml"
        "#interceptorroutes.http.keda.sh"
    ),
    ("http.keda.sh/v1alpha1", "HTTPScaledObject"): (
        "charts/keda-add-ons-http/templates/crds/crd-httpscaledobjects.yaml"
        "#httpscaledobjects.http.keda.sh"
    ),
}


def charts_dir() -> Path:
    return UPSTREAM / "charts"


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading; YAML 1.1's `=` (a "value" tag PyYAML cannot construct) stays a string, as
    Kubernetes' own YAML reader has it (CRD enums list the `=` operator)."""


_YamlLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: node.value)


@functools.cache
def load(path: Path) -> Any:
    """A vendored YAML or JSON file, parsed once per session (libyaml's C loader where
    available). Shared: never mutate the result."""
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_YamlLoader)


def chart_values(chart: str) -> dict[str, Any]:
    return load(charts_dir() / chart / "values.yaml")


def chart_version(chart: str) -> str:
    return str(load(charts_dir() / chart / "Chart.yaml")["version"])


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
        return crd_errors(manifest, UPSTREAM / CRDS[key])
    validator = k8s_validator(kubernetes_version, *key)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


def recorded_object_errors(resources: Any, kubernetes_version: str) -> tuple[int, dict[str, list]]:
    """(how many objects were checked, the problems of those that have some) for every
    Kubernetes object among a recording's resources. A patch names only the fields it sets,
    so missing required fields are not its problem; a Secret whose values include a secret
    output is redacted whole, so only its other fields are checked."""
    checked, problems = 0, {}
    for r in resources:
        if not (r.type.startswith("kubernetes:") and "kind" in r.inputs):
            continue
        inputs = r.inputs
        if inputs.get("stringData") == SECRET:
            inputs = {**inputs, "stringData": {}}
        errors = k8s_errors(inputs, kubernetes_version)
        if r.type.endswith("Patch"):
            errors = [e for e in errors if not e.endswith("is a required property")]
        checked += 1
        if errors:
            problems[r.key] = errors
    return checked, problems


@functools.cache
def k8s_validator(kubernetes_version: str, api_version: str, kind: str) -> jsonschema.Validator:
    """The validator `kubernetes_validate.validate(..., strict=True)` uses for a kind, built once:
    validate() itself re-reads and re-parses the multi-megabyte definitions file on every call.
    Same schema files, same selection of the version directory, same validator class."""
    version = [
        v
        for v in utils.all_versions()
        if utils.major_minor(v) <= utils.major_minor(kubernetes_version)
    ][-1]
    directory = _K8S_SCHEMAS / f"v{version}-local-strict"
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = directory / f"{kind.lower()}-{api}.json"
    if not path.is_file():
        raise AssertionError(
            f"Couldn't find schema for kind {kind} with api version {api_version} for kubernetes "
            f"version {kubernetes_version}"
        )
    schema = json.loads(path.read_text())
    registry = _definitions(directory) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _definitions(directory: Traversable) -> Resource:
    """A version's shared definitions (several megabytes), parsed once for all its kinds."""
    return Resource.from_contents(json.loads((directory / "_definitions.json").read_text()))


@functools.cache
def _crd(path: Path) -> dict:
    """A vendored CRD: a file holding one, or `file#name` for one of a chart template's many
    (the template's own `{{ ... }}` lines are only its on/off switch)."""
    file, _, name = str(path).partition("#")
    if not name:
        return load(path)
    text = re.sub(r"^\{\{.*\}\}\s*$", "", Path(file).read_text(), flags=re.MULTILINE)
    found = [d for d in yaml.load_all(text, Loader=_YamlLoader) if d]
    (crd,) = [d for d in found if d["metadata"]["name"] == name]
    return crd


@functools.cache
def crd_schema(path: Path, version: str) -> dict:
    """The openAPIV3Schema of one version of a vendored CRD."""
    crd = _crd(path)
    assert crd["kind"] == "CustomResourceDefinition", path
    (entry,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return entry["schema"]["openAPIV3Schema"]


def crd_errors(manifest: dict, crd: str | Path) -> list[str]:
    """Problems the CRD's schema finds; `crd` is a vendored CRD file (a path, or a file name in
    tests/upstream/crds)."""
    path = crd if isinstance(crd, Path) else UPSTREAM / "crds" / crd
    assert _crd(path)["spec"]["names"]["kind"] == manifest["kind"], (path, manifest["kind"])
    version = manifest["apiVersion"].rsplit("/", 1)[-1]
    validator = jsonschema.Draft7Validator(crd_schema(path, version))
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


def prometheus_tool(name: str) -> str:
    """The path of promtool or amtool, which `make test` installs from Debian's packages; a
    test without it fails under CI and is skipped elsewhere."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is missing: `make test` installs it (make prometheus-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def promql_series(node: Any) -> list[str]:
    """The series names a parsed PromQL expression (promql-parser's tree) selects."""
    if type(node).__name__ == "VectorSelector":
        return [node.name]
    found = []
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None:
            found += promql_series(child)
    for arg in getattr(node, "args", None) or []:
        found += promql_series(arg)
    return found


@functools.cache
def vllm_series() -> frozenset[str]:
    """Every series name vLLM exposes (the exposed_series column of the vendored list)."""
    text = (UPSTREAM / "metrics" / "vllm.txt").read_text()
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.update(line.split("\t")[2].split(","))
    return frozenset(names)


# Charts whose repository keeps placeholder versions (`v1.0.0-devel`, appVersion `main-latest`)
# that the maintainers' release job stamps: NVIDIA's .github/workflows/release-rc-assets.yaml
# runs `helm package --version <tag> --app-version <tag>`. Rendered as published, so the images
# that default to the appVersion get the release's tag, as they do in a cluster.
STAMPED_AT_RELEASE = ("gpu-operator",)


@functools.cache
def packaged(chart: str) -> Path:
    """The vendored chart as its release publishes it (a stamped copy, once per session)."""
    source = charts_dir() / chart
    if chart not in STAMPED_AT_RELEASE:
        return source
    tag = load(UPSTREAM / "sources.yaml")["sources"][chart]["tag"]
    work = Path(tempfile.mkdtemp(prefix=f"{chart}-packaged-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    copy = work / chart
    shutil.copytree(source, copy)
    text = (copy / "Chart.yaml").read_text()
    text = re.sub(r"(?m)^version: .*$", f"version: {tag}", text, count=1)
    text = re.sub(r"(?m)^appVersion: .*$", f'appVersion: "{tag}"', text, count=1)
    (copy / "Chart.yaml").write_text(text)
    return copy


def render_chart(chart: str, values: dict, name: str, namespace: str) -> list[dict]:
    """The objects a vendored chart renders with these values, by Helm's own template engine
    (helm-python-sdk embeds Helm's Go library; Capabilities.KubeVersion is 1.36). Test hooks
    and NOTES.txt are left out, as `helm template` leaves out the notes."""
    import helm_python

    # A fresh load per render: rendering removes disabled subcharts from the loaded chart.
    with helm_python.Chart.load(str(packaged(chart))) as loaded:
        rendered = loaded.render(values=values, name=name, namespace=namespace)
    documents = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        documents += [d for d in yaml.load_all(rendered[path], Loader=_YamlLoader) if d]
    return documents
