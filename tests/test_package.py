"""The components are one package: `uv build` makes a wheel of src/gpu_platform with every
module and the scripts its Jobs ship (read from the package at run time), and nothing of the
program, its tools or its tests; a fresh virtualenv with only that wheel installed runs the
Python consumer example (examples/python-consumer) under Pulumi's mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from harness import ROOT

PACKAGE = ROOT / "src/gpu_platform"
UV = ROOT / ".tools/bin/uv"
EXAMPLE = ROOT / "examples/python-consumer"
CONSTRAINTS = ROOT / "provider/constraints.txt"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([UV, "build", "--wheel", "--out-dir", out, "--quiet"], cwd=ROOT, check=True)
    (built,) = out.glob("gpu_platform-*-py3-none-any.whl")
    return built


def test_uv_builds_a_wheel_of_the_package_alone(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        f"gpu_platform/{p.relative_to(PACKAGE)}"
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules <= names
    # The scripts the Jobs run are read from the installed package.
    for script in ("serving/weights_mirror.py", "data/weaviate_bootstrap.py"):
        assert f"gpu_platform/{script}" in names
    # Typed: consumers' type checkers read the components' TypedDict args.
    assert "gpu_platform/py.typed" in names
    assert {n.split("/")[0] for n in names} == {
        "gpu_platform",
        wheel.name.split("-py3")[0] + ".dist-info",
    }


def test_a_fresh_virtualenv_with_the_wheel_runs_the_consumer_example(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, venv], env=env, check=True)
    python = venv / "bin/python"
    # At the versions the tests run (the wheel's own ranges would take the newest).
    subprocess.run(
        [UV, "pip", "install", "--quiet", "--python", python, "--constraint", CONSTRAINTS, wheel],
        env=env,
        check=True,
    )
    installed = subprocess.run(
        [UV, "pip", "freeze", "--python", python],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert set(CONSTRAINTS.read_text().split()) <= set(installed.split())
    where = subprocess.run(
        [python, "-c", "import gpu_platform; print(gpu_platform.__file__)"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv)), "the package comes from the wheel, not the repository"
    result = subprocess.run(
        [python, "mocked.py"], cwd=EXAMPLE, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    resources = [json.loads(line) for line in result.stdout.splitlines()]
    by_type = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)
    (server,) = by_type["kubernetes:apps/v1:StatefulSet"]
    pod = server["inputs"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"gpuplatform.io/pool": "l4"}
    assert server["provider"].startswith("urn:pulumi:example::gpu-platform-consumer::")
    assert "pulumi:providers:kubernetes::cluster" in server["provider"]
    assert len(by_type["kubernetes:keda.sh/v1alpha1:ScaledObject"]) == 1
    charts = {r["inputs"]["chart"] for r in by_type["kubernetes:helm.sh/v3:Release"]}
    assert charts == {"keda"}


def test_the_provider_installs_the_locked_versions() -> None:
    """provider/ (what `pulumi package add` installs) constrains the package's dependency
    ranges to uv.lock's versions; `make docs` rewrites the constraints when the lock moves."""
    exported = subprocess.run(
        [
            UV,
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-annotate",
            "--no-header",
            "--format",
            "requirements-txt",
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert CONSTRAINTS.read_text() == exported
    requirements = (ROOT / "provider/requirements.txt").read_text().split("\n")
    assert {"..", "-c constraints.txt"} <= set(requirements)
    pinned = dict(line.split("==") for line in exported.split())
    assert pinned["pulumi"] == (ROOT / ".pulumi.version").read_text().strip()
