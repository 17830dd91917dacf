"""The gpu-platform policy pack, as the Pulumi engine runs it:

    pulumi preview --policy-pack policy

Constructing the PolicyPack starts the analyzer server the engine talks to, so this file only
does that; the policies themselves are built (and tested) in policy/pack.py.
"""

import sys
from pathlib import Path

# The engine runs this file from policy/; the rules import as `policy.*` from the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
