"""vllm-cli-flags.txt: every flag ``vllm serve`` accepts, by section, plus short aliases,
``--no-<flag>`` forms and a ``#removed`` section of flags older vLLM accepted.

:func:`extract_flags` reads them from the upstream files in
:data:`~tools.vllm_lists.common.FLAGS_PATHS`; :func:`render_flags` writes the list, carrying the
header and the ``#removed`` section over from the previous one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from tools.vllm_lists.common import (
    FLAGS_PATHS,
    REMOVED,
    replace_commit,
    rewrite_header,
    source_commit,
    tab_field,
    with_last_seen_note,
)
from tools.vllm_lists.flags_ast import (
    dataclass_fields,
    find_class,
    find_function,
    find_method,
    is_bool_annotation,
    parser_rewrites,
)

__all__ = ["Flag", "extract_flags", "render_flags"]

# Flag sections, in file order: key -> section title.
SECTIONS: dict[str, str] = {
    "serve": "serve entrypoint (make_arg_parser)",
    "frontend": "frontend / HTTP server (FrontendArgs)",
    "engine": "engine (EngineArgs.add_cli_args)",
    "async": "async engine (AsyncEngineArgs.add_cli_args)",
}
ALIASES_TITLE = "short aliases ({n}) -- alias<TAB>long flag"
NEGATED_TITLE = "negated boolean forms accepted via BooleanOptionalAction ({n})"


@dataclass(frozen=True)
class Flag:
    """One long option of ``vllm serve``.

    ``aliases`` are the short option strings given to the same ``add_argument`` call; ``rewrites``
    are short forms FlexibleArgumentParser itself rewrites into this flag (``-O``). ``boolean``
    means argparse.BooleanOptionalAction, i.e. ``--no-<flag>`` is accepted too.
    """

    name: str
    section: str
    source: str
    aliases: tuple[str, ...] = ()
    rewrites: tuple[str, ...] = ()
    boolean: bool = False

    @property
    def negated(self) -> str | None:
        return f"--no-{self.name[2:]}" if self.boolean else None


def extract_flags(sources: Mapping[str, str]) -> list[Flag]:
    """The flags defined in ``sources`` ({repo-relative path: text}), in file order.

    * serve: ``add_argument`` calls in ``make_arg_parser`` (positionals skipped);
    * frontend: fields of each dataclass whose ``.add_cli_args`` make_arg_parser calls (other than
      the engine args), bases first, as ``--field-name``; a field typed bool is boolean;
    * engine / async: ``add_argument`` calls in ``EngineArgs.add_cli_args`` /
      ``AsyncEngineArgs.add_cli_args``. Without an explicit ``action=``, a call that splats
      ``get_kwargs(...)`` output is boolean when the EngineArgs field of the same dest (else of
      the kwargs key) is annotated with bool (arg_utils' ``_compute_kwargs`` rule).

    Calls are listed in ``ast.walk`` (breadth-first) order: a call nested in an ``if`` comes after
    the unconditional ones of the same function.
    """
    modules = {path: ast.parse(text, path) for path, text in sources.items()}
    flags: list[Flag] = []

    def add(flag: Flag) -> None:
        if all(f.name != flag.name for f in flags):
            flags.append(flag)

    annotations: dict[str, ast.expr] = {}
    for class_name in ("EngineArgs", "AsyncEngineArgs"):
        found = find_class(modules, class_name)
        if found:
            annotations |= dict(dataclass_fields(modules, *found))

    serve = find_function(modules, "make_arg_parser")
    frontend_classes: list[str] = []
    if serve:
        path, fn = serve
        for flag in _add_argument_flags(fn, "serve", path, annotations):
            add(flag)
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_cli_args"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id not in {"EngineArgs", "AsyncEngineArgs"}
            ):
                frontend_classes.append(node.func.value.id)
    for class_name in frontend_classes:
        found = find_class(modules, class_name)
        if found:
            for name, ann in dataclass_fields(modules, *found):
                dashed = "--" + name.replace("_", "-")
                add(Flag(dashed, "frontend", found[0], boolean=is_bool_annotation(ann)))
    for section, class_name in (("engine", "EngineArgs"), ("async", "AsyncEngineArgs")):
        found = find_class(modules, class_name)
        method = found and find_method(found[1], "add_cli_args")
        if found and method:
            for flag in _add_argument_flags(method, section, found[0], annotations):
                add(flag)

    rewrites = parser_rewrites(modules)
    return [
        Flag(f.name, f.section, f.source, f.aliases, tuple(rewrites.get(f.name, ())), f.boolean)
        for f in flags
    ]


def _add_argument_flags(
    fn: ast.FunctionDef, section: str, path: str, annotations: Mapping[str, ast.expr]
) -> Iterator[Flag]:
    for node in ast.walk(fn):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            continue
        options = [
            a.value
            for a in node.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value[:1] == "-"
        ]
        longs = [o for o in options if o.startswith("--")]
        if not longs:
            continue  # a positional argument
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        splats = [k.value for k in node.keywords if k.arg is None]
        for splat in splats:  # **{**kwargs["x"], "action": ...}
            if isinstance(splat, ast.Dict):
                for key, value in zip(splat.keys, splat.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        keywords.setdefault(key.value, value)
        if "action" in keywords:
            boolean = ast.unparse(keywords["action"]).endswith("BooleanOptionalAction")
        elif splats:
            dest_node = keywords.get("dest")
            dest = (
                dest_node.value
                if isinstance(dest_node, ast.Constant)
                else longs[0][2:].replace("-", "_")
            )
            ann = annotations.get(dest)
            if ann is None:
                keys = [_subscript_key(s) for s in splats]
                ann = next((annotations[k] for k in keys if k in annotations), None)
            boolean = is_bool_annotation(ann)
        else:
            boolean = False
        aliases = tuple(o for o in options if not o.startswith("--"))
        yield Flag(longs[0], section, path, aliases=aliases, boolean=boolean)


def _subscript_key(node: ast.expr) -> str | None:
    """``"x"`` for ``kwargs["x"]`` or ``{**kwargs["x"], ...}``."""
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                return _subscript_key(value)
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def render_flags(
    flags: Sequence[Flag],
    *,
    commit: str,
    previous: str | None = None,
    commit_note: str | None = None,
) -> str:
    """The text of vllm-cli-flags.txt for ``flags`` extracted at ``commit``.

    ``previous`` is the current file: its header (with the ``Source commit`` block rewritten, see
    :func:`~tools.vllm_lists.common.rewrite_header`) and its REMOVED section are kept. Every flag,
    alias or ``--no-`` form it listed that ``flags`` lacks becomes
    ``#removed<TAB>flag<TAB>last_seen=<previous commit>``, and a ``#removed`` flag that is back is
    dropped; the ``#removed`` lines are kept sorted.
    """
    sections: list[list[str]] = []
    for key, title in SECTIONS.items():
        names = [f.name for f in flags if f.section == key]
        sections.append([f"# === {title} ({len(names)})", *names])
    aliases = sorted((a, f.name) for f in flags for a in f.aliases)
    aliases += [(r, f.name) for f in flags for r in f.rewrites]
    sections.append(
        [f"# === {ALIASES_TITLE.format(n=len(aliases))}", *(f"{a}\t{n}" for a, n in aliases)]
    )
    negated = sorted(f.negated for f in flags if f.negated)
    sections.append([f"# === {NEGATED_TITLE.format(n=len(negated))}", *negated])
    live = {line.split("\t")[0] for section in sections for line in section[1:]}

    prev = previous or _default_flags_text(commit)
    lines = prev.splitlines()
    first_section = next((i for i, x in enumerate(lines) if x.startswith("# === ")), len(lines))
    removed_at = next((i for i, x in enumerate(lines) if x.startswith("# === REMOVED")), len(lines))
    old_commit = source_commit(lines)
    header = rewrite_header(lines[:first_section], commit, commit_note)
    trailer = lines[removed_at:]
    preamble = [x for x in trailer if not x.startswith(REMOVED)]
    old_removed = [x for x in trailer if x.startswith(REMOVED)]

    before = {x.split("\t")[0] for x in lines[first_section:removed_at] if x.startswith("-")}
    kept = [x for x in old_removed if tab_field(x, 1) not in live]
    gone = sorted(before - live)
    if gone:
        kept += [f"{REMOVED}\t{flag}\tlast_seen={old_commit[:12]}" for flag in gone]
        preamble = with_last_seen_note(preamble)
    kept.sort(key=lambda x: tab_field(x, 1))
    trailer = replace_commit(preamble, old_commit, commit) + kept

    body = [line for section in sections for line in [*section, ""]]
    return "\n".join([*header, *body, *trailer]) + "\n"


def _default_flags_text(commit: str) -> str:
    """A header and an empty REMOVED section for a first list (no previous file)."""
    return "\n".join(
        [
            "# vLLM OpenAI-compatible server (`vllm serve`) CLI flags -- names only",
            "# Upstream: https://github.com/vllm-project/vllm  (Apache-2.0)",
            f"# Source commit: {commit}",
            "# Extracted statically (Python AST) by tools/vllm_lists from:",
            *(f"#   {path}" for path in FLAGS_PATHS),
            "# Format: one flag per line; lines starting with '#' are comments; "
            "section headers start with '# ==='.",
            "",
            "# === REMOVED flags: listed by an earlier generated list, rejected at this commit.",
        ]
    )
