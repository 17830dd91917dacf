"""What a production stack may change about the vector store its last deployment made (pure):
nothing that would replace the store or strand its data, unless `acceptChanges` lets it through
once the data is moved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.spec import Problem

# What a store is made as: changing any of these on a store that holds data is a migration.
IDENTITY = ("engine", "mode", "dimensions", "distance")


def change_problems(deployed: Mapping[str, Any] | None, store: VectorStoreSpec) -> list[Problem]:
    """What a production stack may not change about the store it deployed (`deployed`: the
    `vectorStore` output of its last deployment, None before the first): each change would
    replace the store or leave its data unusable, so each is refused with the way to migrate."""
    if not deployed or not deployed.get("engine"):
        return []
    # Numbers come back from the state as floats.
    was = {
        key: int(value) if isinstance(value, float) and value.is_integer() else value
        for key in IDENTITY
        for value in [deployed.get(key)]
    }
    described = (
        f"{was['engine']} ({was['mode']}, {was['dimensions']} dimensions, {was['distance']})"
    )
    guide = (
        "see the README's 'Changing a production vector store'; once the data is moved, "
        "vectorStore.acceptChanges lets the change through"
    )
    if not store.enabled:
        if "engine" in store.accept_changes:
            return []
        return [
            Problem(
                ("engine",),
                f"this production stack holds a {described} store; removing it would delete "
                f"its data. Export or migrate the data first, then unprotect it ({guide})",
            )
        ]
    problems = [
        Problem(
            ("acceptChanges",),
            f"{key} is what the deployed store has; remove it from acceptChanges",
        )
        for key in store.accept_changes
        if was[key] == getattr(store, key, None)
    ]
    for key in ("engine", "mode"):
        if key in store.accept_changes:
            continue
        if was[key] != getattr(store, key):
            problems.append(
                Problem(
                    (key,),
                    f"the deployed store is {described}; a {key} of {getattr(store, key)} is a "
                    f"new store, and replacing this one would lose its data. Create the new one "
                    f"in a stack of its own and move the data ({guide})",
                )
            )
    if was["dimensions"] != store.dimensions and "dimensions" not in store.accept_changes:
        problems.append(
            Problem(
                ("dimensions",),
                f"the deployed store holds {was['dimensions']}-dimensional embeddings; "
                f"{store.dimensions} means embedding every document again into a new table "
                f"beside the old one. Keep {was['dimensions']} until that is done ({guide})",
            )
        )
    if was["distance"] != store.distance and "distance" not in store.accept_changes:
        problems.append(
            Problem(
                ("distance",),
                f"the deployed store's index serves {was['distance']}; build an index for "
                f"{store.distance} beside it and switch the clients first. Keep "
                f"{was['distance']} until then ({guide})",
            )
        )
    return problems
