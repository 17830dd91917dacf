"""tools.vllm_lists: the extractors on small synthetic vLLM-shaped sources, and the renderers'
carry-over of what one commit cannot tell (header notes, enabled_when, the #removed section)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from vllm_sources import flag_sources, metric_sources

from tools import vllm_lists
from tools.vllm_lists import (
    FLAGS_PATHS,
    METRICS_PATHS,
    Flag,
    Metric,
    extract_flags,
    extract_metrics,
    render_flags,
    render_metrics,
)

VENDORED = Path(__file__).resolve().parent / "upstream" / "metrics"
OLD = "a" * 40
NEW = "b" * 40


def by_name(items: list[Flag] | list[Metric]) -> dict[str, Flag | Metric]:
    return {item.name: item for item in items}


def section(text: str, title_start: str) -> list[str]:
    """The lines of one `# === ` section of a rendered flags file."""
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith(f"# === {title_start}"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return lines[start + 1 : end]


def rows(text: str) -> dict[str, list[str]]:
    return {
        x.split("\t")[0]: x.split("\t") for x in text.splitlines() if x and not x.startswith("#")
    }


# ------------------------------------------------------------------------------------ metrics


def test_counter_is_exposed_with_total_suffix_once() -> None:
    metrics = by_name(extract_metrics(metric_sources()))
    assert metrics["vllm:prompt_tokens"].type == "counter"
    assert metrics["vllm:prompt_tokens"].exposed_series == ("vllm:prompt_tokens_total",)
    # prometheus_client strips a declared "_total" and adds it back: no "_total_total".
    assert metrics["vllm:flops_total"].exposed_series == ("vllm:flops_total",)
    assert metrics["vllm:websocket_connections_total"].exposed_series == (
        "vllm:websocket_connections_total",
    )


def test_histogram_is_exposed_as_bucket_sum_count() -> None:
    metric = by_name(extract_metrics(metric_sources()))["vllm:e2e_request_latency_seconds"]
    assert metric.type == "histogram"
    assert metric.exposed_series == (
        "vllm:e2e_request_latency_seconds_bucket",
        "vllm:e2e_request_latency_seconds_sum",
        "vllm:e2e_request_latency_seconds_count",
    )
    row = rows(render_metrics([metric], commit=NEW))[metric.name]
    assert row[2] == ",".join(metric.exposed_series)


def test_gauge_keeps_its_name_and_non_metrics_are_ignored() -> None:
    metrics = by_name(extract_metrics(metric_sources()))
    assert metrics["vllm:num_requests_running"].exposed_series == ("vllm:num_requests_running",)
    assert "vllm:not_a_metric is a log message" not in metrics  # logger.info(...)
    assert all(name.startswith("vllm:") for name in metrics)


def test_metric_labels_are_resolved() -> None:
    metrics = by_name(extract_metrics(metric_sources()))
    assert metrics["vllm:num_requests_running"].labels == ("model_name", "engine")
    assert metrics["vllm:e2e_request_latency_seconds"].labels == ("model_name", "engine", "reason")
    # self.<attr> = "..." in the class, next to a literal
    assert metrics["vllm:lora_requests_info"].labels == ("max_lora", "running_lora_adapters")
    # a `labelnames` parameter resolves to the list bound to that name in another file
    assert metrics["vllm:spec_decode_num_accepted_tokens_per_pos"].labels == (
        "model_name",
        "engine",
        "position",
    )
    assert metrics["vllm:websocket_connections_total"].labels == ()
    unresolved = metrics["vllm:cache_config_info"]  # name= is a variable assigned in an `if`
    assert unresolved.labels == ("<metrics_info.keys()>",)
    assert not unresolved.labels_resolved


def test_conditional_metrics_follow_unconditional_ones() -> None:
    metrics = extract_metrics(metric_sources())
    assert [m.name for m in metrics] == [
        "vllm:num_requests_running",
        "vllm:prompt_tokens",
        "vllm:flops_total",
        "vllm:e2e_request_latency_seconds",
        "vllm:cache_config_info",
        "vllm:lora_requests_info",
        "vllm:spec_decode_num_accepted_tokens_per_pos",
        "vllm:websocket_connections_total",
    ]
    found = by_name(metrics)
    assert found["vllm:prompt_tokens"].enabled_when == "always"
    assert found["vllm:cache_config_info"].enabled_when == "always"
    assert found["vllm:lora_requests_info"].enabled_when == "if vllm_config.lora_config is not None"
    # an early `return` guard makes the rest of the function conditional
    spec = found["vllm:spec_decode_num_accepted_tokens_per_pos"]
    assert spec.enabled_when == "if speculative_config is not None"


def test_render_metrics_row_columns() -> None:
    text = render_metrics(extract_metrics(metric_sources()), commit=NEW)
    assert f"# Source commit: {NEW}" in text
    assert rows(text)["vllm:websocket_connections_total"] == [
        "vllm:websocket_connections_total",
        "counter",
        "vllm:websocket_connections_total",
        "-",
        "always",
        METRICS_PATHS[-1],
    ]


def test_metrics_carry_over_and_vanished_metric_moves_to_removed() -> None:
    metrics = extract_metrics(metric_sources())
    first = render_metrics(metrics, commit=OLD)
    # What a person adds by hand: a header note, a better enabled_when, the real label set.
    previous = (
        first.replace(f"# Source commit: {OLD}", f"# Source commit: {OLD}\n#   = main, May")
        .replace("# columns", "# Hand-written note.\n# columns")
        .replace("if vllm_config.lora_config is not None", "LoRA enabled (--enable-lora)")
        .replace("<metrics_info.keys()>", "<CacheConfig.metrics_info() keys>,engine")
        + "\n# REMOVED: gone at aaaaaaaaaaaa\n"
        + "#removed\tvllm:old_gauge\tgauge\tlast_seen=2025-01-01\tV0 only\n"
    )
    assert render_metrics(metrics, commit=OLD, previous=previous) == previous

    previous += "#removed\tvllm:prompt_tokens\tcounter\tlast_seen=2024-07-01\tback again\n"
    text = render_metrics(
        [m for m in metrics if m.name != "vllm:flops_total"], commit=NEW, previous=previous
    )
    assert f"# Source commit: {NEW}\n# Extracted" in text  # the old commit's note is dropped
    assert "# Hand-written note." in text
    assert "# REMOVED: gone at bbbbbbbbbbbb" in text
    assert "vllm:flops_total" not in rows(text)
    assert rows(text)["vllm:lora_requests_info"][4] == "LoRA enabled (--enable-lora)"
    assert rows(text)["vllm:cache_config_info"][3] == "<CacheConfig.metrics_info() keys>,engine"
    removed = [x for x in text.splitlines() if x.startswith("#removed")]
    assert removed == [
        "#removed\tvllm:old_gauge\tgauge\tlast_seen=2025-01-01\tV0 only",
        f"#removed\tvllm:flops_total\tcounter\tlast_seen={OLD[:12]}\tnot declared at {NEW[:12]}",
    ]
    assert vllm_lists.LAST_SEEN_NOTE in text
    again = render_metrics(metrics[:2], commit="c" * 40, previous=text)
    assert len([x for x in again.splitlines() if x.startswith("#removed")]) == 2 + 5
    assert again.count(vllm_lists.LAST_SEEN_NOTE) == 1


# -------------------------------------------------------------------------------------- flags


def test_flag_sections_and_order() -> None:
    text = render_flags(extract_flags(flag_sources()), commit=NEW)
    assert section(text, "serve") == ["--headless", "--api-server-count"]
    assert section(text, "engine") == [
        "--enforce-eager",
        "--enable-prefix-caching",
        "--tensor-parallel-size",
        "--optional-value",
        "--legacy-switch",
        "--optimization-level",
        "--enable-mamba-cache-stochastic-rounding",
        "--disable-log-stats",
        "--enable-lora",
        "--model",  # nested in an `if`: after the unconditional calls
    ]
    assert section(text, "async engine") == ["--enable-log-requests"]
    assert "# === engine (EngineArgs.add_cli_args) (10)" in text


def test_dataclass_field_becomes_dashed_flag() -> None:
    flags = extract_flags(flag_sources())
    frontend = [f.name for f in flags if f.section == "frontend"]
    assert frontend == [
        "--chat-template",
        "--enable-auto-tool-choice",
        "--host",
        "--allowed-origins",
        "--disable-fastapi-docs",
    ]  # base class fields first, ClassVar skipped
    assert by_name(flags)["--disable-fastapi-docs"].source == FLAGS_PATHS[0]


def test_boolean_optional_action_flags_get_a_no_form() -> None:
    flags = by_name(extract_flags(flag_sources()))
    boolean = {name for name, flag in flags.items() if flag.boolean}
    assert boolean == {
        "--enable-auto-tool-choice",  # dataclass field typed bool
        "--disable-fastapi-docs",
        "--enforce-eager",  # **kwargs of an EngineArgs field typed bool
        "--enable-prefix-caching",  # bool | None, through {**kwargs[...], ...}
        "--legacy-switch",  # no such EngineArgs field: the kwargs key's annotation decides
        # the dest's EngineArgs field decides, whatever the kwargs key is called
        "--enable-mamba-cache-stochastic-rounding",
        "--enable-lora",  # explicit action=argparse.BooleanOptionalAction
        "--enable-log-requests",
    }  # not: store_true, type=int, bool | str | None (nargs="?")
    text = render_flags(list(flags.values()), commit=NEW)
    negated = section(text, "negated")
    assert negated == sorted(f"--no-{name[2:]}" for name in boolean)
    assert "--no-disable-log-stats" not in text
    assert "--no-optional-value" not in text


def test_short_aliases_and_parser_rewrites() -> None:
    flags = by_name(extract_flags(flag_sources()))
    assert flags["--tensor-parallel-size"].aliases == ("-tp",)
    assert flags["--optimization-level"].rewrites == ("-O",)
    text = render_flags(list(flags.values()), commit=NEW)
    assert section(text, "short aliases") == [
        "-asc\t--api-server-count",
        "-tp\t--tensor-parallel-size",
        "-O\t--optimization-level",
    ]


def test_vanished_flag_moves_to_removed() -> None:
    flags = extract_flags(flag_sources())
    previous = render_flags(flags, commit=OLD, commit_note="(main, May)")
    previous += "#removed\t--swap-space\tlast_seen=2026-01-01\n"
    assert f"# Source commit: {OLD} (main, May)\n" in previous
    assert render_flags(flags, commit=OLD, previous=previous) == previous

    previous += "#removed\t--headless\tlast_seen=2025-01-01\n"  # live again: dropped

    kept = [f for f in flags if f.name not in {"--enforce-eager", "--tensor-parallel-size"}]
    text = render_flags(kept, commit=NEW, previous=previous)
    assert f"# Source commit: {NEW}\n" in text
    assert "--enforce-eager\n" not in text.split("# === REMOVED")[0]
    removed = [x for x in text.splitlines() if x.startswith("#removed")]
    assert removed == [
        f"#removed\t--enforce-eager\tlast_seen={OLD[:12]}",
        f"#removed\t--no-enforce-eager\tlast_seen={OLD[:12]}",
        "#removed\t--swap-space\tlast_seen=2026-01-01",
        f"#removed\t--tensor-parallel-size\tlast_seen={OLD[:12]}",
        f"#removed\t-tp\tlast_seen={OLD[:12]}",
    ]
    assert vllm_lists.LAST_SEEN_NOTE in text
    assert render_flags(kept, commit=NEW, previous=text) == text


# ------------------------------------------------------------------- render (tools.upstream)


@pytest.mark.parametrize(
    ("kind", "sources", "extract", "render_kind"),
    [
        ("flags", flag_sources, extract_flags, render_flags),
        ("metrics", metric_sources, extract_metrics, render_metrics),
    ],
)
def test_render_extracts_and_carries_the_previous_file_over(
    kind: str, sources: Callable[[], dict[str, str]], extract: Callable, render_kind: Callable
) -> None:
    previous = render_kind(extract(sources()), commit=OLD, commit_note="(main, May)")
    previous = previous.replace("# Source commit", "# Hand-written note.\n# Source commit")
    text = vllm_lists.render(kind, sources(), NEW, previous)
    assert text == render_kind(extract(sources()), commit=NEW, previous=previous)
    assert "# Hand-written note.\n" in text
    assert f"# Source commit: {NEW}\n" in text


def test_render_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown list 'charts'"):
        vllm_lists.render("charts", {}, NEW, "")


# ------------------------------------------------------------------------- vendored lists


@pytest.mark.parametrize(("kind", "paths"), vllm_lists.UPSTREAM_PATHS.items())
def test_vendored_header_names_every_path(kind: str, paths: tuple[str, ...]) -> None:
    text = (VENDORED / vllm_lists.FILE_NAMES[kind]).read_text()
    header = text.split("\n\n", 1)[0]
    named = set(re.findall(r"vllm/[\w/.]+\.py", header))
    for prefix, group in re.findall(r"(vllm/[\w/.]+/)\{([^}]+)\}", header):
        named |= {prefix + part for part in group.split(",")}
    assert set(paths) <= named, "a path the list is read from is not named in its header"


def test_vendored_metrics_follow_the_exposure_rule() -> None:
    text = (VENDORED / "vllm.txt").read_text()
    for name, type_, exposed, labels, *_ in rows(text).values():
        metric = Metric(name, type_, tuple(labels.split(",")), "")
        assert exposed == ",".join(metric.exposed_series), name
