"""The versions of gennas and torch that produced a result, recorded with it (a study's attributes,
an export's ``build.json``, ``gennas search --json``): nothing had said which version made a
result a pipeline kept."""

from __future__ import annotations


def versions() -> dict[str, str]:
    """``{"gennas_version": ..., "torch_version": ...}`` of this process."""
    import torch

    from gennas import __version__

    return {"gennas_version": __version__, "torch_version": str(torch.__version__)}
