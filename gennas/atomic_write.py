"""Files replaced whole: a reader sees the old content or the new, never a part, and two writers of
the same file never share a temporary file."""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from gennas.errors import CannotWrite, first_line


@contextmanager
def replaced_on_exit(path: str | Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path`` to write into; moved onto ``path`` when the block
    ends, removed if it raises.

    The name is unique per call (process, thread and a random part): two searches saving the same
    predictor in one ``$GENNAS_HOME`` shared ``name.tmp``, and one's rename found the file gone, a
    traceback after its results were verified. Created by ``open`` (not ``mkstemp``),
    so the file gets the umask's permissions as a plain write would."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def torch_save(obj: object, path: str | Path, target: str | Path | None = None) -> None:
    """``torch.save(obj, path)``, a failed write raised as :class:`~gennas.errors.CannotWrite`
    naming ``target`` (the file a temporary ``path`` replaces; default ``path``): torch's zip writer reports a full disk as a RuntimeError ("unexpected pos
    63296 vs 63184"), which ended a search meant to go on without saving its predictor, and
    ``gennas train``, with a traceback."""
    import torch

    try:
        torch.save(obj, path)
    except RuntimeError as exc:
        raise CannotWrite(errno.ENOSPC, f"{first_line(exc)} (is the disk full?)", str(target or path)) from None


def write_whole(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`replaced_on_exit`: a failed write (a full disk, a
    kill) leaves the file as it was. Written in place, a registered device's timings were
    truncated to 512 bytes by a write that failed, and the earlier registration was lost."""
    with replaced_on_exit(path) as tmp:
        tmp.write_text(text)


def writers_lock(path: str | Path, timeout: float) -> FileLock:
    """The lock the writers of ``path`` hold, ``<path>.lock`` (left in place: removing a lock file
    another process waits on would let a third take it too), waited on for ``timeout`` seconds
    (then ``filelock.Timeout``). Also between threads: each ``FileLock`` holds its own descriptor."""
    return FileLock(f"{path}.lock", timeout=timeout)
