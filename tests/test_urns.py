"""Every resource of the shipped stacks keeps its URN: a refactoring that moved or retyped a
component without an alias would make `pulumi up` delete the resource and create another. The
snapshot in tests/urns changes only with a change that means to create or delete resources
(`python -m tools.urns --write tests/urns`)."""

from __future__ import annotations

import json

import pytest
from harness import ROOT, planned

from tools import urns


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-dev"])
def test_the_stacks_keep_their_urns(stack: str) -> None:
    snapshot = (ROOT / "tests/urns" / f"{stack}.txt").read_text().splitlines()
    current = urns.urns(json.loads(json.dumps(planned(stack).as_json())), stack)
    assert sorted(set(snapshot) - set(current)) == [], "resources renamed or gone"
    assert sorted(set(current) - set(snapshot)) == [], "new resources: refresh the snapshot"
