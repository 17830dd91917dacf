"""``python -m tools.vllm_lists``: see :func:`tools.vllm_lists.cli.main`."""

from __future__ import annotations

from tools.vllm_lists.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
