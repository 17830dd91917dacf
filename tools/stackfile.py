"""Reads a `Pulumi.<stack>.yaml` file into the flat config map the Pulumi engine would pass.

Keys without a namespace get the project's (`platform` -> `gpu-platform:platform`), as the CLI
does. `secure:` values cannot be decrypted without the stack's secrets provider; offline they
become stand-in strings marked secret, so programs that read them still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

OFFLINE_SECRET = "offline-plan-stand-in-secret"


class StackFileError(Exception):
    """The stack file cannot be read or is not in the Pulumi stack file format."""


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: dict[str, Any]
    secret_keys: tuple[str, ...]

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)


def read(path: Path, project: str) -> StackFile:
    try:
        # libyaml's C loader where the wheel has it: the same safe loading, several times faster.
        document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as error:
        raise StackFileError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path} is not valid YAML: {error}") from None
    if document is None:
        document = {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError(f"{path}: expected a top-level `config:` map of keys to values")
    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full = key if ":" in str(key) else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = OFFLINE_SECRET
            secret_keys.append(full)
        else:
            config[full] = value
    return StackFile(path, config, tuple(secret_keys))
