"""Small synthetic vLLM-shaped sources for tests/test_vllm_lists.py: just enough of the upstream
files in tools.vllm_lists.FLAGS_PATHS and METRICS_PATHS to exercise every extraction rule.

Each call of :func:`flag_sources` / :func:`metric_sources` returns a new dict of immutable
strings, so no test can see another's changes.
"""

from __future__ import annotations

from tools.vllm_lists import FLAGS_PATHS, METRICS_PATHS

ARG_UTILS = """
import argparse
from dataclasses import dataclass


@dataclass
class EngineArgs:
    model: str = "m"
    enforce_eager: bool = False
    enable_prefix_caching: bool | None = None
    tensor_parallel_size: int = 1
    optional_value: bool | str | None = None
    optimization_level: int = 2
    enable_mamba_cache_stochastic_rounding: bool = False

    @staticmethod
    def add_cli_args(parser):
        if not ("serve" in sys.argv[1:] and "--help" in sys.argv[1:]):
            group.add_argument("--model", **model_kwargs["model"])
        group.add_argument("--enforce-eager", **model_kwargs["enforce_eager"])
        group.add_argument(
            "--enable-prefix-caching",
            **{**cache_kwargs["enable_prefix_caching"], "default": None},
        )
        group.add_argument("--tensor-parallel-size", "-tp", **kw["tensor_parallel_size"])
        group.add_argument("--optional-value", **model_kwargs["optional_value"])
        group.add_argument("--legacy-switch", **model_kwargs["enforce_eager"])
        group.add_argument("--optimization-level", **vllm_kwargs["optimization_level"])
        group.add_argument(
            "--enable-mamba-cache-stochastic-rounding",
            **mamba_kwargs["enable_stochastic_rounding"],
        )
        parser.add_argument("--disable-log-stats", action="store_true")
        group.add_argument("--enable-lora", action=argparse.BooleanOptionalAction)
        return parser


class AsyncEngineArgs(EngineArgs):
    enable_log_requests: bool = False

    @staticmethod
    def add_cli_args(parser, async_args_only=False):
        parser.add_argument("--enable-log-requests", action=argparse.BooleanOptionalAction)
        return parser
"""

CLI_ARGS = """
from dataclasses import field
from typing import ClassVar


@config
class BaseFrontendArgs:
    chat_template: str | None = None
    enable_auto_tool_choice: bool = False
    registry: ClassVar[dict] = {}


@config
class FrontendArgs(BaseFrontendArgs):
    host: str | None = None
    allowed_origins: list[str] = field(default_factory=lambda: ["*"])
    disable_fastapi_docs: bool = False


def make_arg_parser(parser):
    parser.add_argument("model_tag", type=str, nargs="?")
    parser.add_argument("--headless", action="store_true")
    parser.add_argument("--api-server-count", "-asc", type=int)
    parser = FrontendArgs.add_cli_args(parser)
    parser = AsyncEngineArgs.add_cli_args(parser)
    return parser
"""

ARGPARSE_UTILS = """
class FlexibleArgumentParser:
    def parse_args(self, args):
        for i, arg in enumerate(args):
            if arg.startswith("--"):
                processed.append(arg)
            elif arg == "-O" and i + 1 < len(args):
                processed.append("--optimization-level")
"""

LOGGERS = """
from prometheus_client import Counter, Gauge, Histogram


class PrometheusStatLogger:
    _gauge_cls = Gauge
    _counter_cls = Counter
    _histogram_cls = Histogram

    def __init__(self, vllm_config):
        labelnames = ["model_name", "engine"]
        if vllm_config.lora_config is not None:
            self.labelname_max_lora = "max_lora"
            self.lora = self._gauge_cls(
                name="vllm:lora_requests_info",
                documentation="",
                labelnames=[self.labelname_max_lora, "running_lora_adapters"],
            )
        self.running = self._gauge_cls(
            name="vllm:num_requests_running", documentation="", labelnames=labelnames
        )
        self.prompt = self._counter_cls(
            name="vllm:prompt_tokens", documentation="", labelnames=labelnames
        )
        self.flops = self._counter_cls(
            name="vllm:flops_total", documentation="", labelnames=labelnames
        )
        self.e2e = self._histogram_cls(
            name="vllm:e2e_request_latency_seconds",
            documentation="",
            labelnames=labelnames + ["reason"],
        )
        logger.info("vllm:not_a_metric is a log message")
        self.other = Gauge(name="process_unrelated", documentation="")

    def log_metrics_info(self, type, config_obj):
        metrics_info = config_obj.metrics_info()
        name, documentation = None, None
        if type == "cache_config":
            name = "vllm:cache_config_info"
        self._gauge_cls(name=name, documentation="", labelnames=metrics_info.keys())
"""

SPEC_DECODE = """
import prometheus_client


class SpecDecodingProm:
    def __init__(self, speculative_config, labelnames, per_engine_labelvalues):
        if speculative_config is None:
            return
        pos_labelnames = labelnames + ["position"]
        self.per_pos = prometheus_client.Counter(
            name="vllm:spec_decode_num_accepted_tokens_per_pos",
            documentation="",
            labelnames=pos_labelnames,
        )
"""

REALTIME = """
from prometheus_client import Counter

_total_sessions = Counter(name="vllm:websocket_connections_total", documentation="")
"""


def flag_sources() -> dict[str, str]:
    """{path: text} for FLAGS_PATHS: cli_args, arg_utils, argparse_utils."""
    return dict(zip(FLAGS_PATHS, (CLI_ARGS, ARG_UTILS, ARGPARSE_UTILS), strict=True))


def metric_sources() -> dict[str, str]:
    """{path: text} for three of METRICS_PATHS (loggers, spec decode, realtime), in order."""
    return {METRICS_PATHS[0]: LOGGERS, METRICS_PATHS[2]: SPEC_DECODE, METRICS_PATHS[-1]: REALTIME}
