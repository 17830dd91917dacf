"""Regenerate the two lists in tests/upstream/metrics that are derived from vLLM's source.

* ``vllm-cli-flags.txt``: every flag ``vllm serve`` accepts, by section, plus short aliases,
  ``--no-<flag>`` forms and a ``#removed`` section of flags older vLLM accepted (:mod:`.flags`).
* ``vllm.txt``: every Prometheus metric vLLM declares with a ``"vllm:"`` name, with its type,
  the series prometheus_client exposes for it, its labels and when it is enabled (:mod:`.metrics`).

Both are read statically (Python ``ast``, nothing is imported or run) from the upstream files in
:data:`FLAGS_PATHS` and :data:`METRICS_PATHS`::

    sources = {path: <text of path at a commit> for path in METRICS_PATHS}
    text = render_metrics(extract_metrics(sources), commit=sha, previous=old_text)
    text = render("metrics", sources, sha, old_text)  # the same

What one commit cannot tell is carried over from the previous file (``previous``): the header's
hand-written notes, the ``#removed`` section, and per metric the ``enabled_when`` column and any
label set the extractor cannot resolve. Whatever the previous file listed and the new source no
longer has is added to ``#removed`` with ``last_seen=<previous commit>`` (:mod:`.common`).

``python -m tools.vllm_lists --git-dir <vllm .git> --commit <rev> --out <dir>`` does all of this
for a local clone (``git show`` is the only thing it runs; :mod:`.cli`).
"""

from __future__ import annotations

from collections.abc import Mapping

from tools.vllm_lists.cli import main, read_sources
from tools.vllm_lists.common import (
    FILE_NAMES,
    FLAGS_PATHS,
    LAST_SEEN_NOTE,
    METRICS_PATHS,
    UPSTREAM_PATHS,
)
from tools.vllm_lists.flags import Flag, extract_flags, render_flags
from tools.vllm_lists.metrics import Metric, extract_metrics, render_metrics

__all__ = [
    "FILE_NAMES",
    "FLAGS_PATHS",
    "LAST_SEEN_NOTE",
    "METRICS_PATHS",
    "UPSTREAM_PATHS",
    "Flag",
    "Metric",
    "extract_flags",
    "extract_metrics",
    "main",
    "read_sources",
    "render",
    "render_flags",
    "render_metrics",
]


def render(kind: str, sources: Mapping[str, str], commit: str, previous: str) -> str:
    """The new text of the ``kind`` list ("flags" or "metrics") at ``commit``.

    ``sources`` maps repo paths to file texts (the files of ``UPSTREAM_PATHS[kind]``);
    ``previous`` is the current list, whose header notes and ``#removed`` section are kept.
    """
    if kind == "flags":
        return render_flags(extract_flags(sources), commit=commit, previous=previous)
    if kind == "metrics":
        return render_metrics(extract_metrics(sources), commit=commit, previous=previous)
    raise ValueError(f"unknown list {kind!r}; known: {sorted(UPSTREAM_PATHS)}")
