"""Bad input never crashes the plan nor slips through: every bad stack file exits 2 naming a key
path or a line, with no traceback. A corpus of real files for each class of problem, and
properties over every string of the shipped stacks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import STACK_FILES, platform_config, run_mocked
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gpu_platform.aws import pod_identity
from gpu_platform.errors import format_path
from gpu_platform.gcp import workload_identity
from gpu_platform.serving import weights_access
from stacks.config import MAX_PROBLEM, ConfigError, parse
from tools import plan, stackfile

runner = CliRunner()
HEADER = 'config:\n  pulumi:disable-default-providers: ["*"]\n'


def _dev_yaml(**platform_changes: Any) -> str:
    platform = platform_config("dev")
    for dotted, value in platform_changes.items():
        *parents, last = dotted.split("__")
        target = platform
        for part in parents:
            target = target[part]
        target[last] = value
    return yaml.safe_dump(
        {"config": {"pulumi:disable-default-providers": ["*"], "gpu-platform:platform": platform}}
    )


# (case, stack file text, what the message must contain)
FILE_CORPUS: list[tuple[str, bytes | str, str]] = [
    ("latin-1", HEADER.encode() + "  x: café\n".encode("latin-1"), "is not UTF-8 text"),
    ("utf-16", HEADER.encode("utf-16"), "is not UTF-8 text"),
    ("binary", b"\x00\x01\x02\xff" * 64, "is not UTF-8 text"),
    ("too-large", HEADER + "  x: '" + "a" * (1 << 20) + "'\n", "is larger than 1024 KiB"),
    ("timestamp", HEADER + "  x: 2024-01-01\n", "line 3: a YAML timestamp is not a config value"),
    ("binary-tag", HEADER + "  x: !!binary aGk=\n", "line 3: a YAML binary"),
    ("set-tag", HEADER + "  x: !!set {a, b}\n", "line 3: a YAML set"),
    ("python-tag", HEADER + "  x: !!python/name:os.system\n", "not a config value"),
    ("recursive-alias", HEADER + "  x: &r [*r]\n", "an alias refers to itself"),
    ("deep", HEADER + "  x: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels"),
    (
        "billion-laughs",
        HEADER
        + "  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"  {n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "aliases expand to more than 100000 values",
    ),
    ("duplicate-key", HEADER + "  x: 1\n  x: 2\n", "line 4: 'x' is given twice (first on line 3)"),
    ("infinity", HEADER + "  x: .inf\n", "line 3: .inf is not a finite number"),
    ("int-key", HEADER + "  1: x\n", "line 3: map keys must be strings"),
    (
        "setting-outside-config",
        HEADER + "minNodes: 2\n",
        "'minNodes' is not a stack file key (config, encryptedkey, encryptionsalt, environment, "
        "secretsprovider)",
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "message"), FILE_CORPUS, ids=[c[0] for c in FILE_CORPUS]
)
def test_bad_stack_files_exit_2_naming_the_line(
    tmp_path: Path, case: str, content: bytes | str, message: str
) -> None:
    path = tmp_path / f"Pulumi.{case}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = runner.invoke(plan.app, ["--stack-file", str(path), "--quiet"])
    assert result.exit_code == plan.EXIT_INVALID_CONFIG, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), "a handled error, not a crash"
    assert len(result.stderr) < 2000, "messages are bounded"


def _duplicate_pool() -> str:
    text = Path("Pulumi.dev.yaml").read_text()
    pool = text[text.index("      l4-spot:") : text.index("      l4-batch-spot:")]
    return text.replace("      l4-batch-spot:", pool + "      l4-batch-spot:", 1)


# (case, platform config changes or a whole file, the key path the message starts with)
CONFIG_CORPUS: list[tuple[str, Any, str]] = [
    ("environment-newline", {"environment": "dev\n"}, "environment:"),
    ("cluster-name-newline", {"cluster__name": "gp-dev\n"}, "cluster.name:"),
    ("zone-arabic-digit", {"cloud__zones": ["us-east-1a", "us-east-\u0661b"]}, "cloud.zones[1]:"),
    (
        "retention-arabic-digits",
        {"observability": {"retention": "\u0661\u0665d"}},
        "observability.retention:",
    ),
    (
        "image-latest-newline",
        {"models__qwen-7b__image": "vllm/vllm-openai:latest\n"},
        "models.qwen-7b.image:",
    ),
    (
        "revision-newline",
        {"models__qwen-7b__revision": "a" * 40 + "\n"},
        "models.qwen-7b.revision:",
    ),
    ("source-huge", {"models__qwen-7b__source": "Qwen/" + "x" * 100_000}, "models.qwen-7b.source:"),
    (
        "pool-named-system",
        {"nodePools__system": {"gpu": "l4", "gpusPerNode": 1, "capacity": "spot", "maxNodes": 1}},
        "nodePools.system:",
    ),
    # YAML's .inf is refused when the file is read, by its line.
    ("price-infinite", {"pricing": {"hourlyUsd": {"g6.xlarge": float("inf")}}}, "not a finite"),
    ("price-huge", {"pricing": {"hourlyUsd": {"g6.xlarge": 1e308}}}, 'hourlyUsd["g6.xlarge"]'),
    ("duplicate-pool", _duplicate_pool, "line "),
]


@pytest.mark.parametrize(
    ("case", "change", "where"), CONFIG_CORPUS, ids=[c[0] for c in CONFIG_CORPUS]
)
def test_invalid_configs_exit_2_naming_the_key(
    tmp_path: Path, case: str, change: Any, where: str
) -> None:
    text = change() if callable(change) else _dev_yaml(**change)
    path = tmp_path / f"Pulumi.{case}.yaml"
    path.write_text(text)
    result = runner.invoke(plan.app, ["--stack-file", str(path), "--quiet"])
    assert result.exit_code == plan.EXIT_INVALID_CONFIG, result.output
    problems = [line.strip()[2:] for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert any(p.startswith(where) for p in problems) or where in result.stderr, result.stderr
    assert all(len(p) <= MAX_PROBLEM for p in problems)


def test_a_plaintext_token_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.token.yaml"
    path.write_text(Path("Pulumi.dev.yaml").read_text() + "  gpu-platform:hfToken: hf_plain\n")
    result = runner.invoke(plan.app, ["--stack-file", str(path), "--quiet"])
    assert result.exit_code == plan.EXIT_INVALID_CONFIG
    assert "gpu-platform:hfToken: stored in plain text" in result.stderr


def test_error_findings_exit_3_with_strict_after_writing_the_report(tmp_path: Path) -> None:
    text = STACK_FILES["dev"].read_text().replace('  pulumi:disable-default-providers: ["*"]\n', "")
    path = tmp_path / "Pulumi.implicit.yaml"
    path.write_text(text)
    out = tmp_path / "plan.json"
    args = ["--stack-file", str(path), "--quiet", "--json", str(out)]
    result = runner.invoke(plan.app, args)
    assert result.exit_code == 0, "without --strict the plan reports and succeeds"
    assert "1 finding(s) of severity error" in result.stderr
    out.unlink()
    result = runner.invoke(plan.app, [*args, "--strict"])
    assert result.exit_code == plan.EXIT_ERROR_FINDINGS
    assert "default-providers-disabled" in out.read_text()


def _string_leaves(value: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _string_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _string_leaves(v, (*path, i))]
    return [(path, value)] if isinstance(value, str) else []


def _set(config: dict, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        config = config[part]
    config[path[-1]] = value


LEAVES = [
    (stack, path)
    for stack in ("dev", "prod", "gcp-dev")
    for path, _ in _string_leaves(platform_config(stack))
]
# 150 generated cases per run; `pytest --hypothesis-profile=fuzz` runs thousands.
EXAMPLES = max(150, settings.default.max_examples)
# Arabic-Indic digits: what `\d` without re.ASCII accepts.
ASCII_LOOKALIKES = str.maketrans("0123456789", "".join(chr(0x660 + i) for i in range(10)))


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    leaf=st.sampled_from(LEAVES),
    mutation=st.sampled_from(["newline", "digits", "huge"]),
)
def test_every_string_of_the_shipped_stacks_rejects_mutations(leaf: tuple, mutation: str) -> None:
    """A trailing newline, non-ASCII digits or a 100,000-character value in any string of any
    shipped stack is refused by its key path (or, for digits, where the value has none, leaves
    it valid)."""
    stack, path = leaf
    config = platform_config(stack)
    original = dict(_string_leaves(config))[path]
    mutated = {
        "newline": original + "\n",
        "digits": original.translate(ASCII_LOOKALIKES),
        "huge": original + "x" * 100_000,
    }[mutation]
    if mutated == original:
        return
    _set(config, path, mutated)
    with pytest.raises(ConfigError) as caught:
        parse(config)
    key = format_path(path)
    assert any(p.startswith(key) for p in caught.value.problems), (key, caught.value.problems)


CROSS_FIELD = [
    (
        "admin-role-twice",
        {"cluster__adminRoleArns": ["arn:aws:iam::123456789012:role/a"] * 2},
        "cluster.adminRoleArns:",
    ),
    (
        "pool-zone-twice",
        {"nodePools__l4-spot__zones": ["us-east-1a", "us-east-1a"]},
        "nodePools.l4-spot.zones:",
    ),
    (
        "storage-class-removed",
        {"models__qwen-7b__cacheStorageClass": "efs-sc"},
        "models.qwen-7b.cacheStorageClass: no longer supported",
    ),
    (
        "private-public-cidr",
        {"cluster__publicAccessCidrs": ["10.0.0.0/8"]},
        "cluster.publicAccessCidrs:",
    ),
]


@pytest.mark.parametrize(("case", "change", "where"), CROSS_FIELD, ids=[c[0] for c in CROSS_FIELD])
def test_cross_field_collisions_the_cloud_would_refuse(case: str, change: dict, where: str) -> None:
    config = yaml.safe_load(_dev_yaml(**change))["config"]["gpu-platform:platform"]
    with pytest.raises(ConfigError) as caught:
        parse(config)
    assert any(p.startswith(where) for p in caught.value.problems), caught.value.problems


def test_object_store_grants_end_at_a_prefix_boundary() -> None:
    policy = json.loads(weights_access.render_s3_read_policy("aws", "s3://b/models/llama-8b"))
    read, listing = policy["Statement"][1], policy["Statement"][0]
    assert read["Resource"] == "arn:aws:s3:::b/models/llama-8b/*"
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["models/llama-8b/*"]
    whole = json.loads(weights_access.render_s3_read_policy("aws", "s3://b"))
    assert whole["Statement"][1]["Resource"] == "arn:aws:s3:::b/*"


def test_long_model_names_get_distinct_google_accounts() -> None:
    first = workload_identity.gcp_account_id("vllm-" + "a" * 30 + "-one")
    second = workload_identity.gcp_account_id("vllm-" + "a" * 30 + "-two")
    assert first != second
    for account in (first, second, workload_identity.gcp_account_id("vllm-m")):
        assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account), account


def test_the_plan_refuses_two_resources_with_one_urn() -> None:
    import pulumi

    def program() -> None:
        pulumi.CustomResource("test:index:Thing", "same", {})
        pulumi.CustomResource("test:index:Thing", "same", {})

    with pytest.raises(Exception, match="duplicate resource URN"):
        run_mocked(program)


@pytest.mark.parametrize(
    ("image", "valid"),
    [
        ("vllm/vllm-openai:v0.21.0", True),
        ("vllm/vllm-openai@sha256:" + "a" * 64, True),
        ("vllm/vllm-openai:v0.21.0@sha256:" + "a" * 64, True),
        ("vllm/vllm-openai", False),
        ("vllm/vllm-openai:latest", False),
        ("vllm/vllm-openai:latest@sha256:" + "a" * 64, False),
        ("vllm/vllm-openai:v0.21.0@sha256:" + "a" * 63, False),
    ],
)
def test_model_images_are_pinned_by_tag_or_digest(image: str, valid: bool) -> None:
    config = platform_config("dev")
    config["models"]["qwen-7b"]["image"] = image
    if valid:
        assert parse(config).models["qwen-7b"].image == image
    else:
        with pytest.raises(ConfigError, match=r"models\.qwen-7b\.image: pin the image"):
            parse(config)


def test_iam_role_names_fit_whatever_the_model_and_environment_names() -> None:
    longest = "e" * 20 + "-" + "m" * 41 + "-weights"
    prefix = pod_identity.role_name_prefix(longest)
    assert len(prefix) + 26 <= 64 and prefix.endswith("-") and "--" not in prefix[-2:]
    assert pod_identity.role_name_prefix("dev-qwen-7b-weights") == "dev-qwen-7b-weights-"


SNIPPETS = (
    "!!binary aGk=",
    "2024-01-01",
    "&a [*a]",
    "{",
    "]",
    "\t",
    ": :",
    "!!set {a: null}",
    "'",
    '"',
    "~",
    ".nan",
    "1e999",
    "<<: {}",
    "\x00",
    "\u0661",
    "x: &b {y: *b}",
    "? [a]\n  : b",
)
DEV_LINES = Path("Pulumi.dev.yaml").read_text().splitlines()


@st.composite
def mutated_stack_files(draw: st.DrawFn) -> str:
    lines = list(DEV_LINES)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["insert", "append", "delete", "duplicate", "replace"]))
        indent = " " * (len(lines[at]) - len(lines[at].lstrip()))
        if operation == "insert":
            key = draw(st.sampled_from(["x", "cloud", "zones", "minNodes", "models"]))
            lines.insert(at, f"{indent}{key}: {draw(st.sampled_from(SNIPPETS))}")
        elif operation == "append":
            lines[at] += " " + draw(st.sampled_from(SNIPPETS))
        elif operation == "delete":
            del lines[at]
        elif operation == "duplicate":
            lines.insert(at, lines[at])
        else:
            line = lines[at]
            if line:
                position = draw(st.integers(0, len(line) - 1))
                character = draw(st.characters(codec="utf-8", exclude_categories=["Cs"]))
                lines[at] = line[:position] + character + line[position + 1 :]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fuzz_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file that each generated stack file overwrites."""
    return tmp_path_factory.mktemp("fuzz") / "Pulumi.fuzz.yaml"


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=mutated_stack_files())
def test_mutated_stack_files_are_refused_cleanly_or_valid(fuzz_path: Path, text: str) -> None:
    """Whatever a mutation does to a stack file, reading and validating it ends in a valid
    config or in a StackFileError / ConfigError (exit 2): never in another exception (exit 1)."""
    path = fuzz_path
    path.write_text(text)
    try:
        parsed = stackfile.read(path, "gpu-platform")
        raw = parsed.get("gpu-platform:platform")
        if raw is not None:
            parse(raw)
    except (stackfile.StackFileError, ConfigError):
        pass
