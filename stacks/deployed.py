"""What this stack's last deployment left: its exported outputs, read through a StackReference
to the stack itself (the state backend answers; before the first deployment there are none).

Production stacks check their vector store against it, so a config change that would replace
the store or strand its data stops `pulumi preview` and `pulumi up` with the way to migrate,
before anything changes.
"""

from __future__ import annotations

from typing import Any

import pulumi

from gpu_platform.data.changes import change_problems
from gpu_platform.data.spec import VectorStoreSpec
from stacks.config import ConfigError

STORE_OUTPUT = "vectorStore"


def last_deployed(output: str) -> pulumi.Output[Any]:
    """The value of `output` as this stack last exported it, or None."""
    stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return pulumi.StackReference(f"{pulumi.get_stack()}-deployed", stack_name=stack).get_output(
        output
    )


def checked_store(store: VectorStoreSpec) -> pulumi.Output[bool]:
    """Resolves to True when `store` keeps what the last deployment made; raises ConfigError
    (failing the preview) when it would not."""

    def check(deployed: Any) -> bool:
        problems = change_problems(deployed if isinstance(deployed, dict) else None, store)
        if problems:
            raise ConfigError(
                [f"vectorStore.{'.'.join(map(str, p.path))}: {p.message}" for p in problems]
            )
        return True

    return last_deployed(STORE_OUTPUT).apply(check)
