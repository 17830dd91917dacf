"""The components are one package: `uv build` makes a wheel of src/gpu_platform with every
module and the scripts its Jobs ship (read from the package at run time), and nothing of the
program, its tools or its tests."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from harness import ROOT

PACKAGE = ROOT / "src/gpu_platform"


def test_uv_builds_a_wheel_of_the_package_alone(tmp_path: Path) -> None:
    subprocess.run(
        [ROOT / ".tools/bin/uv", "build", "--wheel", "--out-dir", tmp_path, "--quiet"],
        cwd=ROOT,
        check=True,
    )
    (wheel,) = tmp_path.glob("gpu_platform-*-py3-none-any.whl")
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
    assert {n.split("/")[0] for n in names} == {
        "gpu_platform",
        wheel.name.split("-py3")[0] + ".dist-info",
    }
