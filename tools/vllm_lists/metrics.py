"""vllm.txt: every Prometheus metric vLLM declares with a ``"vllm:"`` name, with its type, the
series prometheus_client exposes for it, its labels and when it is enabled.

:func:`extract_metrics` reads them from the upstream files in
:data:`~tools.vllm_lists.common.METRICS_PATHS`; :func:`render_metrics` writes the list, carrying
the header, the ``#removed`` section and the hand-refined columns over from the previous one.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tools.vllm_lists.common import (
    METRICS_PATHS,
    REMOVED,
    replace_commit,
    rewrite_header,
    source_commit,
    tab_field,
    with_last_seen_note,
)
from tools.vllm_lists.metrics_ast import (
    argument,
    condition_map,
    enclosing,
    metric_type,
    resolve_labels,
    resolve_strings,
    shared_lists,
)

__all__ = ["METRIC_COLUMNS", "Metric", "extract_metrics", "render_metrics"]


@dataclass(frozen=True)
class Metric:
    """One metric constructor call with a ``"vllm:"`` name.

    ``labels`` holds the label names; one the extractor could not resolve statically is kept as
    ``"<source expression>"``. ``condition`` is the ``if`` tests (and early-return guards) of the
    enclosing function the call sits under, joined with " and "; "" when unconditional.
    """

    name: str
    type: str
    labels: tuple[str, ...]
    source: str
    condition: str = ""

    @property
    def exposed_series(self) -> tuple[str, ...]:
        """The series names prometheus_client exposes for this metric."""
        if self.type == "counter":
            return (self.name.removesuffix("_total") + "_total",)
        if self.type == "histogram":
            return tuple(f"{self.name}_{s}" for s in ("bucket", "sum", "count"))
        if self.type == "summary":
            return (f"{self.name}_sum", f"{self.name}_count")
        if self.type == "info":
            return (self.name.removesuffix("_info") + "_info",)
        return (self.name,)

    @property
    def labels_resolved(self) -> bool:
        return not any(label.startswith("<") for label in self.labels)

    @property
    def enabled_when(self) -> str:
        """The derived default for the enabled_when column (a human refines it once)."""
        return f"if {self.condition}" if self.condition else "always"


def extract_metrics(sources: Mapping[str, str]) -> list[Metric]:
    """Every metric constructor in ``sources`` whose name resolves to a ``"vllm:"`` string.

    A constructor is a call of ``Counter``/``Gauge``/``Histogram``/``Summary``/``Info`` (any
    dotted prefix) or of an attribute such as ``self._counter_cls``. Its ``name=`` (or first
    argument) is a string, or a local variable: every string assigned to it in the enclosing
    function counts. ``labelnames=`` is resolved through list literals, ``+``, local variables,
    ``self.<attr> = "..."`` assignments in the class, and, for a name the function does not bind
    (a ``labelnames`` parameter), the one list literal bound to that name anywhere in ``sources``.

    Files are taken in ``sources`` order; within a file, calls in ``ast.walk`` (breadth-first)
    order, so constructors nested in an ``if`` follow the unconditional ones. A name declared
    twice is listed once, as first found.
    """
    modules = {path: ast.parse(text, path) for path, text in sources.items()}
    shared = shared_lists(modules.values())
    metrics: list[Metric] = []
    for path, tree in modules.items():
        parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        conditions = condition_map(tree)
        for node in ast.walk(tree):
            kind = metric_type(node)
            if kind is None:
                continue
            assert isinstance(node, ast.Call)
            scope = enclosing(node, parents, (ast.FunctionDef, ast.AsyncFunctionDef)) or tree
            cls = enclosing(node, parents, (ast.ClassDef,))
            name_expr = argument(node, "name", 0)
            labels_expr = argument(node, "labelnames", 2)
            labels: tuple[str, ...] = ()
            if labels_expr is not None:
                labels = resolve_labels(labels_expr, node, scope, cls, shared)
            condition = " and ".join(conditions.get(id(node), ()))
            for name in resolve_strings(name_expr, scope):
                if name.startswith("vllm:") and all(m.name != name for m in metrics):
                    metrics.append(Metric(name, kind, labels, path, condition))
    return metrics


METRIC_COLUMNS = (
    "declared_name",
    "type",
    "exposed_series",
    "labels",
    "enabled_when",
    "source_file",
)


def render_metrics(
    metrics: Sequence[Metric],
    *,
    commit: str,
    previous: str | None = None,
    commit_note: str | None = None,
) -> str:
    """The text of vllm.txt for ``metrics`` extracted at ``commit``.

    From ``previous`` (the current file) come the header (``Source commit`` block rewritten, see
    :func:`~tools.vllm_lists.common.rewrite_header`), everything after the last row (the REMOVED
    section), and for a metric it listed (same declared name or same exposed series) the
    ``enabled_when`` column and, when the extractor could not resolve them, the labels. A new
    metric gets ``Metric.enabled_when``. A row of ``previous`` no metric matches becomes
    ``#removed<TAB>name<TAB>type<TAB>last_seen=<previous commit><TAB>note`` (appended); a
    ``#removed`` metric that is back is dropped.
    """
    prev = previous or _default_metrics_text(commit)
    lines = prev.splitlines()
    row_at = [i for i, x in enumerate(lines) if x and not x.startswith("#")]
    first, last = (row_at[0], row_at[-1] + 1) if row_at else (len(lines), len(lines))
    old_commit = source_commit(lines)
    header = rewrite_header(lines[:first], commit, commit_note)
    old_rows = [dict(zip(METRIC_COLUMNS, lines[i].split("\t"), strict=False)) for i in row_at]
    by_key = {row.get("exposed_series", ""): row for row in old_rows} | {
        row["declared_name"]: row for row in old_rows
    }

    rows = []
    for m in metrics:
        exposed = ",".join(m.exposed_series)
        old = by_key.get(m.name) or by_key.get(exposed)
        labels = ",".join(m.labels) or "-"
        if old and not m.labels_resolved and "labels" in old:
            labels = old["labels"]
        enabled = old.get("enabled_when", m.enabled_when) if old else m.enabled_when
        rows.append("\t".join((m.name, m.type, exposed, labels, enabled, m.source)))

    live = {m.name for m in metrics} | {s for m in metrics for s in m.exposed_series}
    live_exposed = {",".join(m.exposed_series) for m in metrics}
    trailer = lines[last:]
    trailer = [x for x in trailer if not (x.startswith(REMOVED) and tab_field(x, 1) in live)]
    gone = [
        row
        for row in old_rows
        if row["declared_name"] not in live and row.get("exposed_series") not in live_exposed
    ]
    if gone:
        if not any(x.startswith(REMOVED) for x in trailer):
            trailer.append("")
        trailer = with_last_seen_note(trailer)
        trailer += [
            f"{REMOVED}\t{row['declared_name']}\t{row.get('type', '?')}\t"
            f"last_seen={old_commit[:12]}\tnot declared at {commit[:12]}"
            for row in gone
        ]
    comments = [x for x in trailer if not x.startswith(REMOVED)]
    comments = replace_commit(comments, old_commit, commit)
    replaced = iter(comments)
    trailer = [x if x.startswith(REMOVED) else next(replaced) for x in trailer]
    return "\n".join([*header, *rows, *trailer]) + "\n"


def _default_metrics_text(commit: str) -> str:
    """A header for a first list (no previous file)."""
    return "\n".join(
        [
            "# vLLM Prometheus metrics (the /metrics endpoint of the OpenAI-compatible server)",
            "# Upstream: https://github.com/vllm-project/vllm  (Apache-2.0)",
            f"# Source commit: {commit}",
            "# Extracted statically (Python AST) by tools/vllm_lists from every metric "
            'constructor whose name starts with "vllm:" in:',
            *(f"#   {path}" for path in METRICS_PATHS),
            "#",
            "# columns (TAB-separated): " + "  ".join(METRIC_COLUMNS),
            "",
        ]
    )
