"""``torch.load`` of plain weights only, refusing an archive that inflates past its stored size.

torch writes its zip archives uncompressed, but reads deflated entries too: a 5 kB file made by
hand (re-zipped with compression) held 4 MB of zeros, and a 40 MB one could hold 40 GB, all
allocated while loading, before anything in it could be checked.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

#: how much larger than the file its entries may be: torch's own archives are stored (ratio 1)
INFLATION_ALLOWED = 2
#: slack for small files, whose zip headers are a fair share of their size (bytes)
INFLATION_SLACK = 1 << 20


def inflation_refusal(path: str | Path) -> str | None:
    """Why ``path``'s zip entries are refused (they inflate to over :data:`INFLATION_ALLOWED` times
    the file), or None: they do not, or it is no zip (torch's legacy format, or damage torch names)."""
    size = Path(path).stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if inflated <= INFLATION_ALLOWED * size + INFLATION_SLACK:
        return None
    return (f"its compressed entries inflate to {inflated / 1e6:,.0f} MB from a {size / 1e6:,.1f} MB file, which "
            "torch.save never writes (it stores weights uncompressed)")


def load_plain(path: str | Path, map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` after :func:`inflation_refusal` (raises ValueError
    with its reason); torch's own errors pass through."""
    import torch

    refused = inflation_refusal(path)
    if refused is not None:
        raise ValueError(refused)
    return torch.load(path, map_location=map_location, weights_only=True)
