"""Reads a `Pulumi.<stack>.yaml` file into the flat config map the Pulumi engine would pass.

Keys without a namespace get the project's (`platform` -> `gpu-platform:platform`), as the CLI
does. `secure:` values cannot be decrypted without the stack's secrets provider; offline they
become stand-in strings marked secret, so programs that read them still run.

Stack files are input from people and pull requests, so reading one is bounded and strict: at
most MAX_BYTES of UTF-8, no duplicate keys, only the YAML types Pulumi config can hold (JSON's:
strings, numbers, booleans, null, lists and maps with string keys), nesting at most MAX_DEPTH
deep, and aliases that expand to at most MAX_NODES values. Anything else is a StackFileError
naming the line, never a traceback or a runaway allocation.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

OFFLINE_SECRET = "offline-plan-stand-in-secret"


def stand_in(ciphertext: Any) -> str:
    """The offline value of a `secure:` setting: marked secret like the real one, and changing
    when its ciphertext changes, so a plan diff sees a rotated secret (as changed, never as a
    value)."""
    digest = hashlib.sha256(str(ciphertext).encode()).hexdigest()[:12]
    return f"{OFFLINE_SECRET}-{digest}"


MAX_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NODES = 100_000
# The top-level keys of a stack file: Pulumi's ProjectStack (sdk/go/common/workspace/project.go).
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")

_JSON_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)
# libyaml's C parser where the wheel has it: the same safe loading, several times faster.
_BASE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StackFileError(Exception):
    """The stack file cannot be read or is not in the Pulumi stack file format."""


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: dict[str, Any]
    secret_keys: tuple[str, ...]

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def with_stand_ins(self, keys: list[str]) -> StackFile:
        """This file with secret stand-ins for `keys` it does not set (offline only)."""
        added = [key for key in keys if key not in self.config]
        return StackFile(
            self.path,
            {**self.config, **dict.fromkeys(added, OFFLINE_SECRET)},
            (*self.secret_keys, *added),
        )


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _check_graph(root: yaml.Node) -> None:
    """Tags, depth, cycles and expanded size of a composed document, without recursion (a deep
    document must not exhaust the interpreter's stack) and in time linear in its nodes."""
    sizes: dict[int, int] = {}
    depth_of: dict[int, int] = {id(root): 1}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_NODES:
                raise StackFileError(
                    f"line {_line(node)}: aliases expand to more than {MAX_NODES} values"
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise StackFileError(f"line {_line(node)}: an alias refers to itself")
        if node.tag not in _JSON_TAGS:
            kind = node.tag.rsplit(":", 1)[-1]
            raise StackFileError(
                f"line {_line(node)}: a YAML {kind} is not a config value (strings, numbers, "
                "booleans, null, lists and maps only); quote it if it is meant as a string"
            )
        if depth_of[key] > MAX_DEPTH:
            raise StackFileError(f"line {_line(node)}: nested more than {MAX_DEPTH} levels deep")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise StackFileError(f"line {_line(child)}: an alias refers to itself")
            depth_of[id(child)] = max(depth_of.get(id(child), 0), depth_of[key] + 1)
            stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _StrictLoader(_BASE_LOADER):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise StackFileError(f"line {_line(key_node)}: map keys must be strings")
            if key in seen:
                raise StackFileError(
                    f"line {_line(key_node)}: {key!r} is given twice (first on line {seen[key]}); "
                    "YAML would keep only the last"
                )
            seen[key] = _line(key_node)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise StackFileError(f"line {_line(node)}: {node.value} is not a finite number")
        return value


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)


def _load(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_graph(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def read(path: Path, project: str) -> StackFile:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise StackFileError(f"cannot read {path}: {error.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise StackFileError(f"{path} is larger than {MAX_BYTES // 1024} KiB; not a stack file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StackFileError(
            f"{path} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    try:
        document = _load(text)
    except StackFileError as error:
        raise StackFileError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path} is not valid YAML: {error}") from None
    except RecursionError:
        raise StackFileError(f"{path}: nested more than {MAX_DEPTH} levels deep") from None
    if document is None:
        document = {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError(f"{path}: expected a top-level `config:` map of keys to values")
    unknown = sorted(set(document) - set(STACK_FILE_KEYS))
    if unknown:
        # Pulumi ignores them; a setting put there by mistake would silently do nothing.
        raise StackFileError(
            f"{path}: {unknown[0]!r} is not a stack file key ({', '.join(STACK_FILE_KEYS)}); "
            "platform settings go under config: gpu-platform:platform"
        )
    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full = key if ":" in str(key) else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = stand_in(value["secure"])
            secret_keys.append(full)
        else:
            config[full] = value
    return StackFile(path, config, tuple(secret_keys))
