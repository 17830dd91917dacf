"""pytest settings for the whole suite: the garbage collector, hypothesis profiles and how
xdist splits the tests. The harness the tests use is in harness.py; this file stays light
because xdist's controller process imports it too, before any worker starts."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = {
    "dev": ROOT / "Pulumi.dev.yaml",
    "prod": ROOT / "Pulumi.prod.yaml",
    "gcp-dev": ROOT / "examples" / "gcp-dev.yaml",
}


@pytest.fixture(params=sorted(STACK_FILES))
def any_stack(request: pytest.FixtureRequest) -> str:
    """Each stack file the repository ships, by name."""
    return request.param


# The program runs create hundreds of thousands of long-lived objects; the collector would scan
# them again and again (a third of the suite's time) to free little. The suite's peak memory
# without it is about half a gigabyte. Everything is frozen at the end, so the final
# collections (the interpreter's, pytest's hunt for unraisable exceptions) skip it.
gc.disable()

# `pytest --hypothesis-profile=fuzz tests/test_bad_input.py` runs the generated bad-input tests
# with thousands of cases instead of the suite's 150.
settings.register_profile("fuzz", max_examples=3000)


def pytest_sessionfinish() -> None:
    gc.freeze()


# Under xdist every worker imports what its tests touch and builds the fixtures they use. Tests
# are handed out a module at a time, so a module's fixtures are built once; and tests that name
# GCP in their id (the gcp-dev stack, GKE, GCS) go to one worker as a single unit, so the other
# worker never pays the GCP SDK's import (about two seconds). Only the split between workers
# depends on this: a test that touches GCP without naming it still passes wherever it runs.
GCP_TESTS = re.compile(r"gcp|gke|gcs", re.IGNORECASE)


# Modules that start a server: handed out first, so no worker is left running one alone at
# the end.
STARTS_FIRST = ("tests/test_pgvector.py",)


@pytest.hookimpl(optionalhook=True)  # only with xdist; `pytest -p no:xdist` runs without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class GcpTogetherScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "gcp" if GCP_TESTS.search(nodeid) else nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node: Any) -> None:
            for scope in reversed(STARTS_FIRST):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return GcpTogetherScheduling(config, log)
