"""Plan diffs as text (a terminal, a job log) or as one markdown pull-request comment (pure).

The markdown opens with one summary line per stack and keeps it whole; everything else sits
in collapsible sections, and when the comment would pass GitHub's size limit the details are
cut down step by step (property values, then rows), with a note saying so. Stateful resources
replaced or deleted come first, in bold, outside any collapsed section.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from tools.diffplan import ABSENT, SECRET, PropertyChange, ResourceChange, StackDiff

# GitHub refuses an issue or pull-request comment longer than 65,536 characters.
GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- gpu-platform plan diff -->"
SYMBOLS = {"create": "+", "update": "~", "replace": "±", "delete": "-"}
VALUE_CHARS = 60
NAMED = 3  # replacements named in a summary line


def _value(value: Any) -> str:
    if value is ABSENT:
        return "(none)"
    if value == SECRET:
        return "(secret)"
    if isinstance(value, str) and "\n" in value:
        return f"({value.count(chr(10)) + 1} lines of text)"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= VALUE_CHARS else f"{text[: VALUE_CHARS - 1]}…"


def describe(change: PropertyChange) -> str:
    """`path: before -> after`, a secret without either value."""
    suffix = " (replaces)" if change.replaces else ""
    if change.secret:
        return f"{change.path}: secret changed, value hidden{suffix}"
    if change.before is ABSENT:
        return f"{change.path}: added {_value(change.after)}{suffix}"
    if change.after is ABSENT:
        return f"{change.path}: removed {_value(change.before)}{suffix}"
    return f"{change.path}: {_value(change.before)} -> {_value(change.after)}{suffix}"


def _money(amount: float, currency: str) -> str:
    return f"{amount:+,.2f} {currency}/month"


def _label(change: ResourceChange) -> str:
    return f"{change.stateful or change.type.rsplit(':', 1)[-1]} {change.name}"


def summary(diff: StackDiff) -> str:
    """`prod: +3 ~5 -1, 1 replacement (node pool h100-spot), +4,210.00 USD/month baseline`."""
    if diff.unchanged:
        return f"{diff.stack}: no changes"
    counts = (
        f"+{diff.count('create')} ~{diff.count('update') + diff.count('replace')} "
        f"-{diff.count('delete')}"
    )
    parts = [counts]
    replaced = sorted(
        (c for c in diff.changes if c.action == "replace"), key=lambda c: c.stateful is None
    )
    if replaced:
        names = ", ".join(_label(c) for c in replaced[:NAMED])
        more = f" and {len(replaced) - NAMED} more" if len(replaced) > NAMED else ""
        plural = "s" if len(replaced) > 1 else ""
        parts.append(f"{len(replaced)} replacement{plural} ({names}{more})")
    deleted = [c for c in diff.changes if c.action == "delete" and c.stateful]
    if deleted:
        parts.append(f"{len(deleted)} stateful deletion{'s' if len(deleted) > 1 else ''}")
    total = diff.total
    parts.append(f"{_money(total.delta_min, diff.currency)} baseline")
    if total.delta_max != total.delta_min:
        parts.append(f"{_money(total.delta_max, diff.currency)} at max")
    findings = len(diff.new_findings)
    if findings:
        parts.append(f"{findings} new finding{'s' if findings > 1 else ''}")
    return f"{diff.stack}: " + ", ".join(parts)


# --- text -----------------------------------------------------------------------------------


def render_text(diffs: Sequence[StackDiff]) -> str:
    lines = [summary(d) for d in diffs]
    for d in diffs:
        if d.unchanged:
            continue
        lines += ["", f"== {d.stack} =="]
        destructive = [c for c in d.changes if c.destructive]
        for change in destructive:
            lines.append(
                f"!! {change.action.upper()} {change.stateful} {change.key}{_guard(change)}"
            )
            lines += [f"     {describe(p)}" for p in change.properties]
        for change in d.changes:
            if change.destructive:
                continue
            lines.append(
                f"{SYMBOLS[change.action]} {change.action:<7} {change.key}{_guard(change)}"
            )
            lines += [f"     {describe(p)}" for p in change.properties]
        moved = [c for c in d.cost if c.delta_min or c.delta_max]
        if moved:
            lines.append(f"cost ({d.currency}/month, baseline and max):")
            for c in [*moved, d.total]:
                lines.append(
                    f"  {c.name:<24} {c.before_min:>12,.2f} -> {c.after_min:>12,.2f} "
                    f"({c.delta_min:+,.2f})   {c.before_max:>12,.2f} -> {c.after_max:>12,.2f} "
                    f"({c.delta_max:+,.2f})"
                )
        for f in d.new_findings:
            lines.append(f"new finding {f['severity']} {f['rule']}: {f['message']}")
        for f in d.resolved_findings:
            lines.append(f"resolved finding {f['severity']} {f['rule']}: {f['message']}")
    return "\n".join(lines) + "\n"


# --- markdown -------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    quoted = text.replace("`", "'")
    return f"`{quoted}`"


def _details(summary_text: str, body: Iterable[str]) -> list[str]:
    return ["<details>", f"<summary>{summary_text}</summary>", "", *body, "", "</details>", ""]


def _destructive(d: StackDiff, values: bool) -> list[str]:
    """Always shown, never collapsed: stateful resources replaced or deleted, and (with
    values) the changes that replace them."""
    destructive = [c for c in d.changes if c.destructive]
    if not destructive:
        return []
    lines = [f"**Stateful resources replaced or deleted ({len(destructive)}):**", ""]
    for c in destructive:
        lines.append(f"- **{c.action} {c.stateful} {_code(c.key)}**{_guard(c)}")
        reasons = [p for p in c.properties if p.replaces] if values else []
        lines += [f"  - {_code(describe(p))}" for p in reasons]
    return [*lines, ""]


def _guard(change: ResourceChange) -> str:
    """What stops or softens a replacement or deletion."""
    if change.action not in ("replace", "delete"):
        return ""
    if change.protected:
        return " (protected: `pulumi up` refuses until protection is lifted on purpose)"
    if change.action == "delete" and change.retained:
        return " (retained on delete: Pulumi forgets it, the cloud keeps it)"
    return ""


def _resources(d: StackDiff, values: bool, rows: int | None) -> list[str]:
    others = [c for c in d.changes if not c.destructive]
    if not others:
        return []
    shown = others if rows is None else others[:rows]
    table = ["| | resource | changes |", "|---|---|---|"]
    for c in shown:
        if values:
            detail = "<br>".join(_code(describe(p)) for p in c.properties)
        else:
            n = len(c.properties)
            detail = f"{n} propert{'ies' if n != 1 else 'y'}" if n else ""
        label = f"{_code(c.key)}{_guard(c)}"
        table.append(f"| {SYMBOLS[c.action]} {c.action} | {label} | {_cell(detail)} |")
    if len(shown) < len(others):
        table += ["", f"…and {len(others) - len(shown)} more (trimmed; see the job's log)."]
    return _details(f"{len(others)} resource change{'s' if len(others) != 1 else ''}", table)


def _cost(d: StackDiff) -> list[str]:
    moved = [c for c in d.cost if c.delta_min or c.delta_max]
    if not moved:
        return []
    table = [
        f"| item ({d.currency}/month) | baseline | change | at max | change |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in [*moved, d.total]:
        name = f"**{c.name}**" if c is d.total else c.name
        table.append(
            f"| {name} | {c.before_min:,.2f} → {c.after_min:,.2f} | {c.delta_min:+,.2f} | "
            f"{c.before_max:,.2f} → {c.after_max:,.2f} | {c.delta_max:+,.2f} |"
        )
    head = (
        f"Cost: {_money(d.total.delta_min, d.currency)} baseline, "
        f"{_money(d.total.delta_max, d.currency)} at max"
    )
    return _details(head, table)


def _findings(d: StackDiff) -> list[str]:
    if not (d.new_findings or d.resolved_findings):
        return []
    lines = [
        f"- new **{f['severity']}** {_code(f['rule'])}: {_cell(f['message'])}"
        for f in d.new_findings
    ]
    lines += [
        f"- resolved {f['severity']} {_code(f['rule'])}: {_cell(f['message'])}"
        for f in d.resolved_findings
    ]
    head = f"Findings: {len(d.new_findings)} new, {len(d.resolved_findings)} resolved"
    return _details(head, lines)


def _markdown(diffs: Sequence[StackDiff], values: bool, rows: int | None, note: str) -> str:
    lines = [MARKER, "### Plan diff", "", *(f"- **{summary(d)}**" for d in diffs), ""]
    if note:
        lines += [f"> {note}", ""]
    for d in diffs:
        if d.unchanged:
            continue
        lines += [f"#### {d.stack}", ""]
        lines += _destructive(d, values)
        lines += _resources(d, values, rows)
        lines += _cost(d)
        lines += _findings(d)
    return "\n".join(lines).rstrip() + "\n"


TRIMMED = (
    "Details trimmed to stay under GitHub's comment size limit; the job's log has the full diff."
)
# From the fullest comment to the smallest: (property values shown, rows per stack).
LEVELS: tuple[tuple[bool, int | None], ...] = (
    (True, None),
    (False, None),
    (False, 200),
    (False, 50),
    (False, 10),
    (False, 0),
)


def render_markdown(diffs: Sequence[StackDiff], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The pull-request comment: the fullest rendering that fits in `limit` characters."""
    for index, (values, rows) in enumerate(LEVELS):
        text = _markdown(diffs, values, rows, TRIMMED if index else "")
        if len(text) <= limit:
            return text
    # Even the summary lines alone are too long: keep them, cut the rest.
    head = "\n".join([MARKER, "### Plan diff", "", *(f"- **{summary(d)}**" for d in diffs)])
    return f"{head}\n\n> {TRIMMED}\n"
