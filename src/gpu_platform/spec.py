"""Base class for every config spec, and the exception cross-field rules use to report problems.

Specs are frozen pydantic models: YAML keys are camelCase, Python attributes snake_case, unknown
keys are rejected, and input values are kept out of error messages (they may hold secrets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

MAX_STRING = 1024


class Spec(BaseModel):
    """Base of every config model: frozen, strict about unknown keys, camelCase in YAML."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        use_attribute_docstrings=False,
        # Every string in a stack config (values, map keys, list items) is bounded, so nothing
        # downstream (resource names, tags, messages that quote a value) gets unbounded input.
        str_max_length=MAX_STRING,
    )


def check(pattern: re.Pattern[str], value: str, rule: str) -> str:
    """Return `value` if all of it matches (a `$` alone would let a trailing newline through),
    else raise ValueError(rule) for pydantic to report."""
    if not pattern.fullmatch(value):
        raise ValueError(rule)
    return value


KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One config problem: where it is (relative key path) and what to do about it."""

    path: KeyPath
    message: str


class Problems(ValueError):
    """Raised by cross-field validators to report several problems, each at its own key path.

    Pydantic wraps a ValueError raised in a validator as one `value_error` at the validator's
    location; `gpu_platform.errors.format_errors` unpacks this exception so each problem is
    reported at `<validator location>.<problem path>`.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in self))

    def __iter__(self):
        return iter(self.problems)


def raise_problems(problems: Iterable[Problem]) -> None:
    """Raise `Problems` if there are any."""
    found = tuple(problems)
    if found:
        raise Problems(found)
