"""The vendored upstream data is intact and refreshable, the repository refers to nothing outside
itself, and Kubernetes objects are checked against the schemas of the version a stack targets."""

from __future__ import annotations

import copy as copylib
import http.server
import io
import os
import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from harness import ROOT, recorded
from upstream_checks import UPSTREAM, k8s_errors

from gpu_platform import k8s_versions
from tools import upstream


def test_vendored_files_match_their_checksums_sources_and_table() -> None:
    assert upstream.check() == []


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of tests/upstream made of hard links (fast; tools.upstream replaces files rather
    than writing into them, and the tests edit files through _rewrite, so the originals stay)."""
    target = tmp_path / "upstream"
    shutil.copytree(UPSTREAM, target, copy_function=os.link)
    return target


def _rewrite(path: Path, text: str) -> None:
    path.unlink()
    path.write_text(text)


def test_check_finds_an_edited_an_unlisted_and_a_missing_file(copy: Path) -> None:
    values = copy / "charts/keda/values.yaml"
    _rewrite(values, values.read_text() + "\nextra: true\n")
    (copy / "crds/extra.yaml").write_text("not from upstream\n")
    assert upstream.check(copy) == [
        "crds/extra.yaml: not listed in sources.yaml",
        "SHA256SUMS does not match the files (edited by hand, or not regenerated)",
    ]
    (copy / "crds/extra.yaml").unlink()
    (copy / "charts/keda/templates/extra.yaml").write_text("kind: Secret\n")
    assert upstream.check(copy) == [
        "SHA256SUMS does not match the files (edited by hand, or not regenerated)"
    ], "a file added to a vendored chart changes its checksums"
    (copy / "metrics/vllm.txt").unlink()
    assert upstream.check(copy) == ["metrics/vllm.txt: listed in sources.yaml but missing"]


class _FakeGitHub(http.server.BaseHTTPRequestHandler):
    """GitHub's raw host and commits API for one repository, from a dict of paths."""

    routes: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def github() -> Iterator[tuple[upstream.GitHub, dict[str, bytes]]]:
    routes: ClassVar[dict[str, bytes]] = {}
    handler = type("Handler", (_FakeGitHub,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval: shutdown() waits up to one interval for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield upstream.GitHub(raw_base=f"{base}/raw", api_base=f"{base}/api"), routes
    finally:
        server.shutdown()
        server.server_close()


def _tarball(top: str, files: dict[str, bytes]) -> bytes:
    """A repository tarball as GitHub serves it: every path under one top-level folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_refresh_moves_one_source_to_a_new_tag(
    copy: Path, github: tuple[upstream.GitHub, dict[str, bytes]]
) -> None:
    client, routes = github
    commit = "c" * 40
    routes["/api/repos/kedacore/charts/commits/v2.21.0"] = commit.encode()
    routes[f"/api/repos/kedacore/charts/tarball/{commit}"] = _tarball(
        f"kedacore-charts-{commit[:7]}",
        {
            "keda/Chart.yaml": b"version: 2.21.0\n",
            "keda/values.yaml": b"image: {}\n",
            "keda/templates/deployment.yaml": b"kind: Deployment\n",
            "other/Chart.yaml": b"not vendored\n",
        },
    )
    untouched = (copy / "charts/kube-prometheus-stack/values.yaml").read_bytes()

    (refreshed,) = upstream.refresh(client, {"keda-chart": "v2.21.0"}, copy)

    assert (refreshed.tag, refreshed.commit) == ("v2.21.0", commit)
    assert (copy / "charts/keda/values.yaml").read_text() == "image: {}\n"
    files = {str(p.relative_to(copy / "charts/keda")) for p in (copy / "charts/keda").rglob("*")}
    assert {f for f in files if (copy / "charts/keda" / f).is_file()} == {
        "Chart.yaml",
        "values.yaml",
        "templates/deployment.yaml",
    }, "the chart is replaced whole: files upstream dropped go"
    assert (copy / "charts/kube-prometheus-stack/values.yaml").read_bytes() == untouched
    sources = yaml.safe_load((copy / "sources.yaml").read_text())["sources"]
    assert sources["keda-chart"]["commit"] == commit
    assert sources["keda"]["tag"] == "v2.20.2", "other sources keep their tag"
    assert f"| `v2.21.0` | `{commit}` |" in (copy / "README.md").read_text()
    assert upstream.check(copy) == []


def test_refresh_writes_nothing_when_a_download_fails(
    copy: Path, github: tuple[upstream.GitHub, dict[str, bytes]]
) -> None:
    client, routes = github
    routes["/api/repos/kedacore/charts/commits/v9.9.9"] = b"d" * 40  # the tarball: 404
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    with pytest.raises(OSError, match="404"):
        upstream.refresh(client, {"keda-chart": "v9.9.9"}, copy)
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before


def test_refresh_rejects_an_answer_that_is_not_a_commit(
    copy: Path, github: tuple[upstream.GitHub, dict[str, bytes]]
) -> None:
    client, routes = github
    routes["/api/repos/kedacore/charts/commits/v2.21.0"] = b'{"message": "Not Found"}'
    with pytest.raises(ValueError, match="not a commit id"):
        upstream.refresh(client, {"keda-chart": "v2.21.0"}, copy)


def test_the_repository_refers_to_nothing_outside_itself() -> None:
    """A public clone has nothing beside it and none of its authors' absolute paths."""
    outside = ("../" + "shared", "/work" + "/", "GPU_PLATFORM" + "_SHARED")
    skip = {".git", ".venv", "venv", ".tools", ".pytest_cache", ".ruff_cache", ".hypothesis"}
    skip |= {"__pycache__"}  # (policy/venv: the policy pack's virtualenv, never committed)
    offenders = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in skip]
        for name in files:
            path = Path(directory, name)
            if path.suffix in {".pyc", ".lock"}:
                continue
            text = path.read_text(errors="replace")
            offenders += [
                f"{path.relative_to(ROOT)}: {needle}" for needle in outside if needle in text
            ]
    assert offenders == []


def _statefulset() -> dict:
    server = recorded("dev").of_type("kubernetes:apps/v1:StatefulSet")[0].inputs
    return copylib.deepcopy(server)


@pytest.mark.parametrize(
    ("field", "older", "newer"),
    [("hostnameOverride", "1.33", "1.34"), ("schedulingGroup", "1.35", "1.36")],
)
def test_a_field_of_a_newer_version_is_rejected_for_an_older_target(
    field: str, older: str, newer: str
) -> None:
    server = _statefulset()
    assert k8s_errors(server, older) == [] and k8s_errors(server, newer) == []
    value = "vllm-0" if field == "hostnameOverride" else {"podGroupName": "vllm"}
    server["spec"]["template"]["spec"][field] = value
    assert k8s_errors(server, newer) == []
    (error,) = k8s_errors(server, older)
    assert field in error


def test_schema_check_catches_a_bad_object_and_an_unknown_kind() -> None:
    bad = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "x"},
        "spec": {"hardd": {}},
    }
    assert k8s_errors(bad, "1.35")
    with pytest.raises(AssertionError, match="Couldn't find schema"):
        k8s_errors({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}}, "1.35")


def test_refresh_regenerates_the_derived_vllm_lists(
    copy: Path, github: tuple[upstream.GitHub, dict[str, bytes]]
) -> None:
    from vllm_sources import flag_sources, metric_sources

    client, routes = github
    commit = "e" * 40
    routes[f"/api/repos/vllm-project/vllm/commits/{commit}"] = commit.encode()
    routes["/api/repos/vllm-project/vllm/commits/v0.99.0"] = commit.encode()
    for path, text in {**flag_sources(), **metric_sources()}.items():
        routes[f"/raw/vllm-project/vllm/{commit}/{path}"] = text.encode()

    (refreshed,) = upstream.refresh(client, {"vllm": "v0.99.0"}, copy)

    assert (refreshed.tag, refreshed.commit) == ("v0.99.0", commit)
    metrics = (copy / "metrics/vllm.txt").read_text()
    assert f"# Source commit: {commit}" in metrics
    rows = {line.split("\t")[0]: line for line in metrics.splitlines() if line.startswith("vllm:")}
    assert rows["vllm:prompt_tokens"].split("\t")[2] == "vllm:prompt_tokens_total"
    # What the new source no longer declares moves to #removed, naming the last commit with it.
    assert (
        "#removed\tvllm:num_requests_waiting\tgauge\tlast_seen=9aaf83ef502f\tnot declared at "
        "eeeeeeeeeeee" in metrics
    )
    assert "vllm:num_requests_waiting" not in rows
    assert upstream.check(copy) == []


def test_the_cached_schema_check_agrees_with_kubernetes_validate() -> None:
    """upstream_checks compiles kubernetes-validate's schemas once; its verdicts are the
    package's own, on a good object and on a bad one, for every supported version."""
    import kubernetes_validate

    good = _statefulset()
    bad = _statefulset()
    bad["spec"]["replica"] = 2
    for version in k8s_versions.SUPPORTED:
        assert kubernetes_validate.validate(good, version, strict=True)
        assert k8s_errors(good, version) == []
        with pytest.raises(kubernetes_validate.ValidationError) as caught:
            kubernetes_validate.validate(bad, version, strict=True)
        assert [f"{list(caught.value.absolute_path)}: {caught.value.message}"] == k8s_errors(
            bad, version
        )


def test_refreshing_a_chart_keeps_the_subcharts_other_sources_vendor(
    copy: Path, github: tuple[upstream.GitHub, dict[str, bytes]]
) -> None:
    client, routes = github
    commit = "f" * 40
    routes["/api/repos/prometheus-community/helm-charts/commits/kps-1"] = commit.encode()
    routes[f"/api/repos/prometheus-community/helm-charts/tarball/{commit}"] = _tarball(
        "helm-charts", {"charts/kube-prometheus-stack/Chart.yaml": b"version: 1\n"}
    )
    subchart = copy / "charts/kube-prometheus-stack/charts/kube-state-metrics/Chart.yaml"
    kept = subchart.read_bytes()
    upstream.refresh(client, {"kube-prometheus-stack": "kps-1"}, copy)
    assert subchart.read_bytes() == kept
    assert not (copy / "charts/kube-prometheus-stack/values.yaml").exists()
    assert upstream.check(copy) == []
