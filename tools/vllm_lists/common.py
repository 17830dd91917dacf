"""What both lists share: the upstream paths they are read from, their file names, and the text
handling that carries over what one commit cannot tell.

A list's header keeps its hand-written notes and has its ``# Source commit:`` block rewritten
(:func:`rewrite_header`); the old hash elsewhere in the text follows the new one
(:func:`replace_commit`); the ``#removed`` lines record what an earlier list had and the new
source no longer has, explained once by :data:`LAST_SEEN_NOTE` (:func:`with_last_seen_note`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Upstream paths each list is read from (the files its header names).
FLAGS_PATHS: tuple[str, ...] = (
    "vllm/entrypoints/openai/cli_args.py",  # make_arg_parser, BaseFrontendArgs/FrontendArgs
    "vllm/engine/arg_utils.py",  # EngineArgs/AsyncEngineArgs (.add_cli_args and annotations)
    "vllm/utils/argparse_utils.py",  # FlexibleArgumentParser's own rewrites ("-O")
)
METRICS_PATHS: tuple[str, ...] = (  # in the order rows are listed
    "vllm/v1/metrics/loggers.py",
    "vllm/v1/metrics/perf.py",
    "vllm/v1/spec_decode/metrics.py",
    "vllm/distributed/kv_transfer/kv_connector/v1/hf3fs/hf3fs_connector.py",
    "vllm/distributed/kv_transfer/kv_connector/v1/offloading/metrics.py",
    "vllm/distributed/kv_transfer/kv_connector/v1/nixl/stats.py",
    "vllm/entrypoints/speech_to_text/realtime/metrics.py",
)
# Keyed like `derived.vllm.files` in tests/upstream/sources.yaml.
UPSTREAM_PATHS: dict[str, tuple[str, ...]] = {"flags": FLAGS_PATHS, "metrics": METRICS_PATHS}
FILE_NAMES: dict[str, str] = {"flags": "vllm-cli-flags.txt", "metrics": "vllm.txt"}

REMOVED = "#removed"
LAST_SEEN_NOTE = (
    "#   last_seen=<12 hex digits>: the commit of the newest generated list that still had it "
    "(tools/vllm_lists)."
)


def tab_field(line: str, index: int) -> str:
    parts = line.split("\t")
    return parts[index] if len(parts) > index else ""


def source_commit(lines: Sequence[str]) -> str:
    for line in lines:
        match = re.match(r"# Source commit: ([0-9a-f]{7,40})", line)
        if match:
            return match.group(1)
    return "unknown"


def rewrite_header(lines: Sequence[str], commit: str, note: str | None) -> list[str]:
    """``lines`` with the ``# Source commit:`` block set to ``commit``.

    The block is that line plus the ``#   `` continuation lines after it. At the same commit and
    without ``note`` it is kept verbatim; otherwise it is rebuilt: the note's first line follows
    the hash on the same line, its other lines become ``#   <line>`` continuations. Elsewhere in
    the header the old hash (full or 12-digit) is replaced with the new one.
    """
    lines = list(lines)
    start = next((i for i, x in enumerate(lines) if x.startswith("# Source commit:")), None)
    if start is None:
        return lines
    end = start + 1
    while end < len(lines) and lines[end].startswith("#   "):
        end += 1
    old_commit = source_commit(lines)
    block = lines[start:end]
    if note is not None or commit != old_commit:
        first, *rest = (note or "").split("\n")
        block = [f"# Source commit: {commit}" + (f" {first}" if first else "")]
        block += [f"#   {x}".rstrip() for x in rest]
    before = replace_commit(lines[:start], old_commit, commit)
    after = replace_commit(lines[end:], old_commit, commit)
    return [*before, *block, *after]


def replace_commit(lines: Sequence[str], old: str, new: str) -> list[str]:
    if old in {new, "unknown"}:
        return list(lines)
    return [x.replace(old, new).replace(old[:12], new[:12]) for x in lines]


def with_last_seen_note(lines: list[str]) -> list[str]:
    """Explain the ``last_seen=<commit>`` form once, at the end of the REMOVED preamble."""
    if LAST_SEEN_NOTE in lines:
        return lines
    at = next((i for i, x in enumerate(lines) if x.startswith(REMOVED)), len(lines))
    while at > 0 and not lines[at - 1].strip():
        at -= 1
    return [*lines[:at], LAST_SEEN_NOTE, *lines[at:]]
