"""Where bundled files live, for both a source checkout and an installed wheel.

In a checkout (and an editable install) ``spaces/`` and ``checkpoints/`` sit beside the
``gennas/`` package; a built wheel carries them inside the package as ``gennas/_spaces`` and
``gennas/_checkpoints`` (see ``pyproject.toml``). Bundled tables are always inside the package,
in ``gennas/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _find(folder: str) -> Path:
    installed = PACKAGE_DIR / f"_{folder}"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / folder


def spaces_dir() -> Path:
    """Folder of the search-space specs (``*.yaml``)."""
    return _find("spaces")


def checkpoints_dir() -> Path:
    """Folder of the shipped pretrained weights and their manifests."""
    return _find("checkpoints")


def data_dir() -> Path:
    """Folder of the bundled benchmark tables and images."""
    return PACKAGE_DIR / "data"


def gennas_home() -> Path:
    """The user's folder of checkpoints and devices: ``$GENNAS_HOME`` or ``~/.gennas``."""
    return Path(os.environ.get("GENNAS_HOME") or Path.home() / ".gennas")
