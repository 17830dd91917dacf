"""Regenerate the two lists in tests/upstream/metrics that are derived from vLLM's source.

``python -m tools.vllm_lists --git-dir <vllm .git> --commit <rev> --out <dir>`` writes both lists
for one commit of a local clone (``git show`` is the only thing it runs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.vllm_lists.common import FILE_NAMES, UPSTREAM_PATHS
from tools.vllm_lists.flags import extract_flags, render_flags
from tools.vllm_lists.metrics import extract_metrics, render_metrics

# The vendored lists: the default previous files (header notes and #removed are kept from them).
VENDORED = Path(__file__).resolve().parents[2] / "tests" / "upstream" / "metrics"


def read_sources(git_dir: str | Path, commit: str, paths: Sequence[str]) -> dict[str, str]:
    """{path: text} of ``paths`` at ``commit`` in a git directory; missing files are skipped."""
    sources = {}
    for path in paths:
        result = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{commit}:{path}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            sources[path] = result.stdout
        else:
            print(f"warning: {path} not found at {commit}", file=sys.stderr)
    return sources


def main(argv: Sequence[str] | None = None) -> int:
    """Write both lists for one commit of a vLLM git directory into --out."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.vllm_lists", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--git-dir", required=True, help="a vLLM clone (or bare git directory)")
    parser.add_argument("--commit", required=True, help="commit, tag or branch to read")
    parser.add_argument("--out", required=True, type=Path, help="directory to write into")
    parser.add_argument(
        "--previous",
        type=Path,
        default=VENDORED,
        help="directory holding the current lists (header notes and #removed are kept)",
    )
    parser.add_argument("--note", help="text after the hash on the 'Source commit' line")
    args = parser.parse_args(argv)
    sha = subprocess.run(
        ["git", "-C", args.git_dir, "rev-parse", f"{args.commit}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    args.out.mkdir(parents=True, exist_ok=True)
    for kind, extract, render in (
        ("flags", extract_flags, render_flags),
        ("metrics", extract_metrics, render_metrics),
    ):
        old = args.previous / FILE_NAMES[kind]
        items = extract(read_sources(args.git_dir, sha, UPSTREAM_PATHS[kind]))
        text = render(
            items,  # type: ignore[arg-type]
            commit=sha,
            previous=old.read_text() if old.is_file() else None,
            commit_note=args.note,
        )
        (args.out / FILE_NAMES[kind]).write_text(text)
    return 0
