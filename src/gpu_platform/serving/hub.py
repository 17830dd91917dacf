"""Model families the Hugging Face hub serves only to accounts that accepted their licence (pure
data). Without a token such a model can never download its weights: the first `pulumi up` would
wait for replicas that cannot start, so a stack that serves one without a token is rejected.

Gating is a per-repository setting on the hub, so this list can only name families known to be
gated; a model not listed here and served without a token gets the offline plan's `hf-token`
warning instead.
"""

from __future__ import annotations

# (hub id prefix, whose terms gate it). Sources: the model cards' access prompts ("You need to
# agree to share your contact information to access this model"; Gemma: "To access Gemma on
# Hugging Face, you're required to review and agree to Google's usage license"), and
# https://huggingface.co/meta-llama ("In order to access models here, please visit a repo ...
# and accept the license terms").
GATED_FAMILIES: tuple[tuple[str, str], ...] = (
    ("meta-llama/", "Meta's Llama licence"),
    ("google/gemma", "Google's Gemma terms of use"),
    ("google/codegemma", "Google's Gemma terms of use"),
    ("google/paligemma", "Google's Gemma terms of use"),
    ("google/datagemma", "Google's Gemma terms of use"),
    ("google/embeddinggemma", "Google's Gemma terms of use"),
    ("mistralai/", "Mistral AI's terms (its hub repositories are gated)"),
)


# Families whose hub repositories are not gated (the hub's default): served without a token and
# without the plan's warning. Qwen: e.g. huggingface.co/Qwen/Qwen2.5-7B-Instruct asks for no
# agreement; gating is opt-in per repository (https://huggingface.co/docs/hub/models-gated).
# BAAI: the bge embedding models are MIT-licensed and ask for no agreement (e.g.
# huggingface.co/BAAI/bge-m3).
OPEN_FAMILIES: tuple[str, ...] = ("qwen/", "baai/")


def known_open(source: str) -> bool:
    """Whether a hub model id belongs to a family known not to be gated."""
    return source.casefold().startswith(OPEN_FAMILIES)


def gated_by(source: str) -> str | None:
    """Whose terms gate a hub model id, or None when it is not a known gated family. Hub
    organisation and repository names match case-insensitively."""
    folded = source.casefold()
    for prefix, terms in GATED_FAMILIES:
        if folded.startswith(prefix):
            return terms
    return None
