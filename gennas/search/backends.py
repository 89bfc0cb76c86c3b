"""Opening an optuna storage: from what a user names it by, safely for shared, long-running studies.

:func:`open_storage` takes a URL, a ``.db`` path, a storage object or None and says what is wrong
with one it cannot open (:func:`storage_errors` does the same for a database error later).
:func:`rdb_storage` builds the :class:`optuna.storages.RDBStorage` behind a URL with

- a heartbeat (:data:`HEARTBEAT_S`, :data:`GRACE_S`): every claim of an architecture (a RUNNING
  trial, :mod:`gennas.search.claims`) is kept alive by its process, so the claim of a process that
  died is failed by :func:`optuna.storages.fail_stale_trials` and its architecture retried;
- a SQLite busy timeout (:data:`SQLITE_TIMEOUT_S`): several processes write one file, and a write
  that finds it locked waits instead of failing;
- for a database server (PostgreSQL, MySQL), a retry when processes started together race to
  create optuna's tables (the loser's ``CREATE TABLE`` fails on a duplicate; its retry finds them);
- an atomic creation of a new SQLite file (in write-ahead-log mode): the schema is written to a
  temporary file that is then linked into place, so a process killed while creating the database (``kill -9`` at start-up)
  leaves no half-made database that optuna can no longer open.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gennas.errors import GennasError, first_line, hide_passwords
from gennas.search.optuna_module import optuna_module

#: seconds between two heartbeats of a live claim
HEARTBEAT_S = 10
#: seconds without a heartbeat after which a claim is stale (its process is taken for dead)
GRACE_S = 30
#: seconds a SQLite write waits for another process's lock before it fails
SQLITE_TIMEOUT_S = 60.0
#: attempts to open a server database whose schema another process is creating at the same time
CREATE_ATTEMPTS = 5


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for other URLs and in-memory SQLite)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:" or url.startswith("sqlite:///file:"):
        return None  # file: URIs (read-only opens, say) are left to SQLite as they are
    return Path(url[len("sqlite:///"):].split("?")[0])


def read_only_uri(path: Path) -> str | None:
    """The SQLite URI that reads ``path`` without writing anything beside it, where this process
    cannot write the file or its folder (read-only media, another user's folder); None where it can.

    A study's file is in write-ahead-log mode, whose readers create a ``-shm`` side file: on
    read-only media that failed with "unable to open database file". ``immutable=1``
    needs no side file; where a ``-wal`` file holds a live writer's pages, ``mode=ro`` reads them."""
    folder = path.parent
    if os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK):
        return None
    wal = path.with_name(path.name + "-wal")
    live = wal.is_file() and wal.stat().st_size > 0
    return f"{path.resolve().as_uri()}?{'mode=ro' if live else 'immutable=1'}"


def rdb_storage(url: str, heartbeat_s: int = HEARTBEAT_S, grace_s: int = GRACE_S) -> Any:
    """An RDBStorage for ``url`` with heartbeats, a busy timeout for SQLite and, for a SQLite file
    that does not exist yet, an atomic creation. A SQLite file this process cannot write is read
    through :func:`read_only_uri` (the storage's url stays the file's; a write then fails with
    "attempt to write a readonly database"). Errors propagate (the caller names the URL)."""
    import functools
    import sqlite3

    optuna = optuna_module()

    kwargs: dict[str, Any] = {}
    path = sqlite_path(url)
    uri = read_only_uri(path) if path is not None and path.is_file() else None
    if uri is not None:
        # a creator, not a file: URL, keeps the storage's url the file's own (work folders are named by it)
        connect = functools.partial(sqlite3.connect, uri, uri=True, timeout=SQLITE_TIMEOUT_S, check_same_thread=False)
        kwargs.update(engine_kwargs={"creator": connect}, skip_table_creation=True)
    elif path is not None:
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
        if not path.exists() and _create_sqlite(path):
            kwargs["skip_table_creation"] = True  # just made, schema and version: half the start-up time
        else:  # a creator killed after linking its schema left its temporary file beside it (user walk 48)
            sweep_creations(path)
    def open_rdb() -> Any:
        with warnings.catch_warnings():  # heartbeats are "experimental" in optuna; relied on knowingly
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat_s, grace_period=grace_s, **kwargs)

    for attempt in range(CREATE_ATTEMPTS - 1):
        try:
            return open_rdb()
        except Exception as exc:  # sqlalchemy's IntegrityError/ProgrammingError, by message: no import needed
            if not _lost_creation_race(exc):
                raise
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)  # let the winner commit its schema
    return open_rdb()  # the last attempt's error propagates as it is


def _lost_creation_race(exc: Exception) -> bool:
    """Whether ``exc`` is another process's concurrent schema creation (a duplicate type or table)."""
    text = str(exc).lower()
    return "duplicate" in text or "already exists" in text


#: one creation at a time in this process: its threads share the pid, so the temporary file (searches
#: started at once from threads on a new SQLite file all failed, in 4 runs of 4: user walk 44)
_CREATION = threading.Lock()


def _create_sqlite(path: Path) -> bool:
    """Write optuna's schema to ``<path>.<pid>.tmp`` and link it to ``path`` (unless another
    process or thread made ``path`` first: theirs is kept). A crash leaves only the temporary file.
    Returns whether ``path`` is now a complete database."""
    with _CREATION:
        return path.exists() or _write_schema(path)


def sweep_creations(path: Path) -> None:
    """Remove the ``<path>.<pid>.tmp`` files of creators of ``path`` that died (killed mid-creation)."""
    with contextlib.suppress(OSError):
        for old in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
            pid = old.name[len(path.name) + 1:-len(".tmp")]
            if pid.isascii() and pid.isdigit() and not process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    old.unlink()


def _write_schema(path: Path) -> bool:
    """:func:`_create_sqlite`'s write, under its lock."""
    optuna = optuna_module()

    if not path.parent.is_dir():
        return False  # RDBStorage then fails with the database's own message, named by the caller
    sweep_creations(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        tmp.unlink()
    try:
        made = optuna.storages.RDBStorage(f"sqlite:///{tmp}")
        with made.engine.connect() as conn:
            # write-ahead logging: one fsync per commit instead of three (5 ms instead of 26 ms a
            # trial here), and readers never block the writer; the mode is kept in the file
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        made.engine.dispose()  # closes the file: nothing of it stays open in this process
        try:
            os.link(tmp, path)  # atomic, and never replaces a database another process made
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: a rename is atomic too
            if not path.exists():
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path.exists()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as alive). On
    Windows every process counts as alive: ``os.kill(pid, 0)`` there sends a console Ctrl-C
    (``signal.CTRL_C_EVENT`` is 0) instead of testing it (user walk 46); a claim's heartbeat then
    decides alone."""
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def local_owner(owner: str) -> int | None:
    """The pid of a claim's owner (``host:pid:token``, :mod:`gennas.search.claims`) when it is a
    process of this host, else None (another host's: only its heartbeat tells whether it lives)."""
    parts = str(owner).split(":")
    if len(parts) == 3 and parts[0] == socket.gethostname() and parts[1].isascii() and parts[1].isdigit():
        return int(parts[1])
    return None


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence optuna's INFO lines (one per study and trial) for the duration, then restore."""
    optuna = optuna_module()

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def open_storage(storage: Any, existing: bool = False) -> Any:
    """An optuna storage object from a URL, a ``.db`` path, a storage object or None.

    ``existing``: only read what is there (a SQLite file that does not exist is an error, not an
    empty database left behind). Raises GennasError naming the URL when it cannot be opened (bad
    scheme, missing directory, unreachable server), so a search fails before any architecture is
    verified.
    """
    optuna = optuna_module()

    if storage is None:
        return optuna.storages.InMemoryStorage()
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str) or not storage.strip():
        raise GennasError(f"storage must be an optuna storage URL such as sqlite:///run.db, got {storage!r}")
    url = storage.strip()
    shape = storage_shape_error(storage, url)
    if shape is not None:  # SQLAlchemy said "Could not parse SQLAlchemy URL" or "Can't load plugin"
        raise GennasError(hide_passwords(shape))
    if "://" not in url and url.endswith(".db"):
        url = f"sqlite:///{url}"  # convenience: a bare file name means a SQLite file
    file = url[len("sqlite:///"):].split("?")[0] if url.startswith("sqlite:///") else ""
    options = url.split("?", 1)[1] if file and "?" in url else None
    if options is not None and not all("=" in part for part in options.split("&")):
        # `--storage "we?ird.db"` stored the study in a file named `we`, without a word
        raise GennasError(f"storage {storage!r}: SQLite reads what follows '?' as the URL's options ({options!r} "
                          f"is none), so the study would be written to {file!r}; a file name cannot hold '?': "
                          "rename it")
    if file and re.search(r"%[0-9A-Fa-f]{2}", file):  # decoded by SQLAlchemy: a temporary db was left elsewhere
        raise GennasError(f"storage {storage!r}: SQLAlchemy reads '%' and two hex digits in a URL as one escaped "
                          f"character, so the study would be written to another file than {file!r}: rename the "
                          "folder or file (user walk 46)")
    if file and not file.startswith("file:") and Path(file).is_dir():  # it said "no such file" or "unable to open"
        raise GennasError(f"storage {storage!r}: {file} is a folder, not a .db file; name a file in it, "
                          f"e.g. {Path(file) / 'run.db'}")
    above = next((p for p in Path(file).parents if p.exists()), None) if file and not file.startswith("file:") else None
    if above is not None and above.is_file():  # good.yaml/x.db said "the folder good.yaml does not exist"
        raise GennasError(f"cannot open storage {storage!r}: {above} is a file, not a folder")
    if existing and file and file != ":memory:" and Path(file).is_file() and Path(file).stat().st_size == 0:
        # reading an empty file would write optuna's schema into it (a user's 0-byte file became 114 KB)
        raise GennasError(f"{file} is empty: no study has been stored there")
    if existing and file and file != ":memory:" and not Path(file).is_file():
        raise GennasError(f"storage {storage!r}: no such file {file}")
    folder = Path(file.removeprefix("file:")).parent  # a URI filename (?uri=true) starts with file:
    if file and file != ":memory:" and not folder.is_dir():
        raise GennasError(f"cannot open storage {storage!r}: the folder {folder} does not exist")
    if file and not file.startswith("file:") and Path(file).is_file() and Path(file).stat().st_size > 0:
        # opening a foreign database would add optuna's tables to it (a search did)
        check_optuna_file(Path(file))
    if file and file != ":memory:" and not file.startswith("file:") and not Path(file).exists() \
            and not os.access(folder, os.W_OK | os.X_OK):  # SQLite said only "unable to open database file"
        raise GennasError(f"cannot create storage {storage!r}: the folder {folder} cannot be written (read-only "
                          "media, or another user's); name a .db file in a folder you can write")
    try:
        with quiet_optuna():
            return rdb_storage(url)  # heartbeats for claims, atomic creation of a SQLite file
    except Exception as exc:  # sqlalchemy raises many types; all mean "cannot open"
        reason = first_line(exc)
        raise GennasError(hide_passwords(f"cannot open storage {storage!r}: {reason}")) from None


def check_optuna_file(path: Path) -> None:
    """Raise GennasError when the SQLite file ``path`` holds tables but none of optuna's (another
    program's database: optuna failed on it with a traceback of its internals).
    A file that is no SQLite database at all is left to optuna, whose one-line error is named."""
    import sqlite3

    try:
        # read-only: nothing is written to look (immutable: not even a side file, unless a live
        # writer's -wal may hold the tables)
        wal = path.with_name(path.name + "-wal")
        how = "mode=ro" if wal.is_file() and wal.stat().st_size > 0 else "mode=ro&immutable=1"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{how}", uri=True)
        try:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            columns = [row[1] for row in conn.execute("PRAGMA table_info(studies)")]
        finally:
            conn.close()
    except sqlite3.Error:
        return
    # optuna writes its schema version to version_info when it creates a storage; a foreign
    # 'studies' table (once optuna had added its other tables beside it) lacks study_id
    if "version_info" not in tables or "study_id" not in columns:
        held = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "") if tables else "no tables"
        raise GennasError(f"{path} is a SQLite database but not an optuna storage (it holds {held}); "
                          "name a .db file a gennas search wrote, or a new one")


def storage_shape_error(storage: str, url: str) -> str | None:
    """What is wrong with a storage string no database can be opened from (a path that is not a
    ``.db`` file, a folder, postgres://, sqlite: without slashes); None where it may be opened."""
    if "://" not in url:
        if url.startswith("sqlite:"):  # before a .db path: sqlite:/x.db is no file of that name
            return (f"storage {storage!r}: a SQLite URL is sqlite:/// then the path (four slashes before an "
                    f"absolute one): sqlite:///{url[len('sqlite:'):]}")
        if url.endswith(".db"):
            return None  # a SQLite file (one that is a folder is named by the caller)
        if Path(url).is_dir():
            return (f"storage {storage!r} is a folder: a storage is a .db file (made if missing), e.g. "
                    f"{Path(url) / 'run.db'}, or an optuna URL such as sqlite:///run.db")
        return (f"storage {storage!r} is neither a .db file nor an optuna URL: name a .db file (made if missing), "
                f"or give a URL: sqlite:///{url} for a SQLite file of another name, postgresql://user@host/db")
    scheme = url.split("://", 1)[0]
    if scheme == "postgres" or scheme.startswith("postgres+"):
        return (f"storage {storage!r}: SQLAlchemy names PostgreSQL postgresql://, not postgres://; use "
                f"postgresql{url[len('postgres'):]}")
    return None


def failure_reason(exc: BaseException) -> str:
    """The first line of an exception's message (optuna's wrap the database's in their cause)."""
    cause = exc.__cause__ or exc.__context__
    text = first_line(exc)
    if cause is not None and str(cause) and "exception is raised" in text:
        text = first_line(cause)
    return text


@contextlib.contextmanager
def storage_errors(backend: Any, doing: str) -> Iterator[None]:
    """Database errors become one GennasError naming the storage (a traceback of optuna's internals helps nobody)."""
    try:
        yield
    except GennasError:
        raise
    except Exception as exc:  # sqlalchemy and optuna raise many types; all mean "cannot use the storage"
        url = getattr(backend, "url", type(backend).__name__)
        raise GennasError(hide_passwords(f"cannot {doing} storage {url}: {failure_reason(exc)}")) from None
