"""Checks of command-line values that the library would only reject deep inside (or not at all).

Each raises :class:`GennasError`, which the CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

from gennas import seeds
from gennas.errors import GennasError


def check_seed(seed: Optional[int], option: str = "--seed") -> Optional[int]:
    """``seed`` if it is None or an integer in ``0..MAX_SEED``, else a GennasError naming ``option``."""
    return seeds.check_seed(seed, option)


def path_option(value: Optional[str], option: str) -> Optional[Path]:
    """The folder a path option names, None where not given. An empty value is refused: a path
    read as ``Path('')`` is the current folder, and ``gennas design --export ''`` wrote its
    designs there without a word; ``.`` names that folder on purpose. A leading ``~`` is the
    home folder, where the shell did not expand it (quoted, cmd.exe): it made a literal ``./~``."""
    if value is None:
        return None
    if not value.strip():
        raise GennasError(f"{option} is empty: name a folder (. for the current one)")
    return Path(value).expanduser()


def check_writable_dir(folder: Path, what: str, hint: str = "") -> Path:
    """Create ``folder`` if needed and prove a file can be written there, before any long work.

    ``what`` starts the error message (what cannot be done), ``hint`` ends it (what to do).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".gennas-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise GennasError(f"{what}: cannot write to {folder} ({reason})" + (f"; {hint}" if hint else "")) from None
    return folder


def in_memory(storage: str) -> bool:
    """Whether the storage URL ``storage`` names an in-memory SQLite database (gone when the process ends)."""
    url = storage.strip()
    if url in ("sqlite://", "sqlite:///") or url.startswith("sqlite:///:memory:"):
        return True
    return url.startswith("sqlite:///file::memory:") or (url.startswith("sqlite:///file:") and "mode=memory" in url)


def check_storage(storage: str, option: str = "--storage") -> str:
    """``storage`` unless the command line cannot use it: an in-memory database lost every result
    when the command ended, and the follow-up command it printed then failed."""
    if in_memory(storage):
        raise GennasError(f"{option} {storage!r} is an in-memory database: everything stored there is lost when "
                          f"the command ends; name a file, e.g. {option} run.db (the Python API takes "
                          "storage=None for a search kept only in memory)")
    return storage


def parsed_elsewhere(arch: str, space: str) -> str:
    """``"; it parses in space X: add --space X"`` where ``arch``, not of ``space``, parses in another
    bundled space, else ``""``: an mbv3 string given to `gennas show` without ``--space`` got only
    nb201's complaint."""
    from gennas.spaces import list_spaces, load_space

    for name in (n for n in list_spaces() if n != space):
        try:
            load_space(name).from_string(arch)
        except (GennasError, ValueError):
            continue
        return f"; it parses in space {name}: add --space {name}"
    return ""
