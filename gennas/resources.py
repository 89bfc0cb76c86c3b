"""Where bundled files live, for both a source checkout and an installed wheel.

In a checkout (and an editable install) ``spaces/`` and ``checkpoints/`` sit beside the
``gennas/`` package; a built wheel carries them inside the package as ``gennas/_spaces`` and
``gennas/_checkpoints`` (see ``pyproject.toml``). Bundled tables are always inside the package,
in ``gennas/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

from gennas.errors import GennasError

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


class NoHome(GennasError):
    """Neither ``$GENNAS_HOME`` nor a home folder is known (``HOME`` unset and the user id without a
    passwd entry: a container run as a random user, ``env -i``)."""


def gennas_home() -> Path:
    """The user's folder of checkpoints and devices: ``$GENNAS_HOME`` or ``~/.gennas``.

    Raises:
        NoHome where neither is known: there, a search in a bundled space ended in a 67-line
        traceback from ``Path.home()`` though it writes nothing; readers use :func:`home_folder`.
    """
    named = os.environ.get("GENNAS_HOME")
    if named:  # "~/x" quoted, or set where no shell expands it (cmd.exe): a literal ./~ folder before (user walk 46)
        return Path(named).expanduser()
    try:
        return Path.home() / ".gennas"
    except (RuntimeError, KeyError):
        raise NoHome(f"gennas has no home folder to write to: GENNAS_HOME and HOME are unset, and user id "
                     f"{getattr(os, 'getuid', lambda: '?')()} has no passwd entry (a container run as a random user?); set GENNAS_HOME to a "
                     "writable folder") from None


def home_folder(*parts: str) -> Path | None:
    """``gennas_home() / parts``, or None where there is no home (:class:`NoHome`): for reading,
    where no home means nothing saved there to read."""
    try:
        return gennas_home().joinpath(*parts)
    except NoHome:
        return None
