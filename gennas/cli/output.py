"""What the CLI prints: one-line errors (exit 2), rich tables, JSON, architecture records."""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gennas.design.task_names import TaskNameSlip
from gennas.display import is_terminal, number
from gennas.errors import (ON_COMMAND_LINE, GennasError, GennasWarning, Terminated, first_line, hide_passwords,
                           raise_terminated)

if TYPE_CHECKING:
    from gennas.design.budget import LatencyBudget
    from gennas.graph import ArchGraph

#: off a terminal, the width rich lays tables out in: wide enough that no row is folded (a darts
#: architecture of 418 characters was split over three lines of a log, and could not be copied out)
PLAIN_WIDTH = 10_000
# Off a terminal (pipes, CI logs) rich would wrap at 80 columns and fold the long arch strings.
console = Console(width=None if is_terminal(sys.stdout) else PLAIN_WIDTH)


def printable(text: Any) -> str:
    """``text`` with control characters written as escapes (newlines and tabs kept): a task name
    read from a colleague's study held ESC sequences that retitled and cleared the terminal; and
    without the password of any URL in it (:func:`~gennas.errors.hide_passwords`); a character the
    output cannot encode is escaped too (a study named 'étude' ended a search's table in a
    UnicodeEncodeError under PYTHONIOENCODING=ascii or a Windows code page: user walk 46)."""
    shown = hide_passwords("".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in str(text)))
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return shown.encode(encoding, "backslashreplace").decode(encoding, "replace")


def note(message: str) -> None:
    """One ``note: ...`` line on stderr, control characters escaped."""
    typer.echo(f"note: {printable(message)}", err=True)


def fail(message: str) -> None:
    """One line on stderr, exit 2."""
    typer.echo(f"error: {printable(message)}", err=True)
    raise typer.Exit(code=2)


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """A warning as one line on stderr ("warning: ..."), not Python's file:line and source."""
    typer.echo(f"warning: {printable(message)}", err=True)


#: the ``--threads`` given to ``gennas``: set by its callback, applied by :func:`friendly` as a
#: command starts. Applying it imports torch: done in the callback, every ``gennas <command> --help``
#: paid for it (``/usr/bin/time python -m gennas design --help``: 1.40 s, 0.29 s without;
#: tests/test_cli_import_cost.py)
COMMAND_THREADS: ContextVar[Optional[int]] = ContextVar("gennas_command_threads", default=None)


@contextmanager
def command_threads() -> Iterator[None]:
    """Run a command with torch on the ``--threads`` given to ``gennas`` (:data:`COMMAND_THREADS`),
    chosen for every gennas object it builds (:func:`~gennas.threads.threads_chosen`); after it,
    the caller's count again (an in-process ``CliRunner`` keeps its own).

    Where torch is not imported yet the count goes to ``OMP_NUM_THREADS`` for the command, which
    torch reads as it loads: a command that needs no torch (``gennas spaces``) does not load it
    to set its threads (``/usr/bin/time python -m gennas spaces``: 1.2 s, 0.3 s so)."""
    threads = COMMAND_THREADS.get()
    if threads is None:  # not under the command group, or inside a command that applied them
        yield
        return
    from gennas.threads import threads_chosen

    torch = sys.modules.get("torch")
    before_env = os.environ.get("OMP_NUM_THREADS")
    if torch is None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        undo = threads_chosen()
    else:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        undo = threads_chosen(restore=before)
    token = COMMAND_THREADS.set(None)
    try:
        yield
    finally:
        COMMAND_THREADS.reset(token)
        undo()
        if torch is None:  # the caller's environment again (torch, loaded meanwhile, keeps the count)
            if before_env is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before_env


def friendly(fn: Callable[..., Any] | None = None, *, interrupted: str = "interrupted") -> Callable[..., Any]:
    """Turn GennasError into one line and exit code 2; Ctrl-C into exit 130 with the line
    ``interrupted`` (what the command keeps; a search says how to continue), without a traceback;
    a warning (a budget kept by fewer designs than asked, an uncalibrated bound) into one line.
    ``@friendly`` or ``@friendly(interrupted=...)``."""
    if fn is None:
        return lambda f: friendly(f, interrupted=interrupted)

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if sys.stdout is None:  # `>&-`: the command's work would end in an AttributeError at its first output
            fail("stdout is closed (`>&-`): nothing could be written; redirect it to /dev/null to discard the output")
        # SIGTERM (timeout, kill, Slurm, docker stop) stops a command as Ctrl-C does: it left a
        # search's claims RUNNING and printed nothing
        # where the host installed its own handler (a test run under `timeout`), it is kept: taken
        # over, the host's SIGTERM became one command's exit 143 and the run went on
        ours = threading.current_thread() is threading.main_thread() and not callable(signal.getsignal(signal.SIGTERM))
        previous = signal.signal(signal.SIGTERM, raise_terminated) if ours else None
        command_line = ON_COMMAND_LINE.set(True)
        try:
            with warnings.catch_warnings(), command_threads():
                warnings.showwarning = _warning_line
                # a slip of a known task's name would go on ranking a new dataset: refused before any work
                warnings.filterwarnings("error", category=TaskNameSlip)
                return fn(*args, **kwargs)
        except (GennasError, GennasWarning) as exc:  # a warning raised: TaskNameSlip, or any under -W error
            fail(str(exc))
        except (MemoryError, RuntimeError) as exc:  # torch's allocator: "can't allocate memory", a traceback
            if not isinstance(exc, MemoryError) and "allocate" not in str(exc):
                raise
            fail(f"out of memory ({first_line(exc)}): a smaller network, batch or pool, or a machine with more memory")
        except OSError as exc:  # a full disk under the output (`> file`, /dev/full): one line, not a traceback
            # EPIPE: the reader of a pipe ended (`| head`, a log collector gone): click's silent exit 1
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EPIPE):
                raise
            if exc.filename is None:  # stdout: what it still holds failed again at exit, whose code became 120
                _discard_stdout()
            fail(f"{exc.strerror} while writing {exc.filename or 'the output'}")
        except KeyboardInterrupt as exc:
            typer.echo(printable(interrupted), err=True)
            raise typer.Exit(code=143 if isinstance(exc, Terminated) else 130) from None
        finally:
            ON_COMMAND_LINE.reset(command_line)
            if ours:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _discard_stdout() -> None:
    """Point stdout's file descriptor at the null device, so what its buffer still holds is flushed
    there at exit instead of failing again."""
    with suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout; a float that is not finite (NaN, inf) is written
    ``null``: Python's ``NaN``/``Infinity`` are not JSON, and a pipeline's parser refused them."""
    sys.stdout.write(hide_passwords(json.dumps(finite_json(value), indent=2, allow_nan=False)) + "\n")
    sys.stdout.flush()  # a write that fails (a full disk) fails here, inside the command, not at exit


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float, in dicts, lists and tuples at any depth, as None."""
    if isinstance(value, float):  # numpy's float64 too
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(item) for item in value]
    return value


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """A rich table of dict rows; floats as :func:`number` writes them, missing values as '-'."""
    columns = columns or (list(rows[0]) if rows else [])
    # Text, not str: rich read "[bold red]" in a study's task name as markup
    table = Table(title=Text(printable(title)), show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        cells = []
        for col in columns:
            value = row.get(col)
            cells.append(Text(printable("-" if value is None else number(value) if isinstance(value, float)
                                        else value)))
        table.add_row(*cells)
    console.print(table)


def extrapolation_column(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` for a printed table: the two extrapolation flags of :func:`candidate_row` as one
    ``extrapolated`` column (``above`` / ``below`` every calibrated cell, else empty)."""
    if "beyond_calibration" not in row:
        return row
    out = {k: v for k, v in row.items() if k not in ("beyond_calibration", "below_calibration")}
    flag = "above" if row["beyond_calibration"] else "below" if row.get("below_calibration") else ""
    items = list(out.items())
    keys = [k for k, _ in items]
    # after the interval; a table of ranks only has none (`design -n 3` of designs all predicted above
    # the results, which state no value, ended in a ValueError): after the relative score, else the arch
    after = next((k for k in ("pred_high", "relative_score", "arch") if k in keys), None)
    at = keys.index(after) + 1 if after is not None else len(items)
    return dict(items[:at] + [("extrapolated", flag)] + items[at:])


#: the JSON keys of the latency bound a budget is judged by and of the confidence it holds at: fixed
#: whatever the confidence (the key was ``bound_ms_50%`` under ``--latency-confidence 0.5``, and a
#: reader of ``bound_ms_95%`` silently got nothing); a printed table heads it
#: ``bound_ms_95%`` (:func:`bound_column`)
BOUND, BOUND_CONFIDENCE = "bound_ms", "bound_confidence"


def bound_fields(bound_ms: float | None, confidence: float) -> dict[str, float | None]:
    """The JSON fields of a latency bound (ms, None: none judged it) drawn at ``confidence`` (0-1)."""
    return {BOUND: bound_ms, BOUND_CONFIDENCE: confidence}


def bound_column(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` for a printed table: ``bound_ms`` headed by its confidence (``bound_ms_95%``,
    ``bound_ms_99.5%``), the ``bound_confidence`` column left out."""
    if BOUND_CONFIDENCE not in row:
        return row
    header = f"{BOUND}_{row[BOUND_CONFIDENCE] * 100:.4g}%"
    return {(header if k == BOUND else k): v for k, v in row.items() if k != BOUND_CONFIDENCE}


def latency_columns(budget: LatencyBudget | None, confidence: float, archs: list[ArchGraph]
                    ) -> list[dict[str, float | None]]:
    """What kept the search's ``budget``, per architecture, as ``gennas design`` shows it:
    ``measured_ms`` where the cell was measured (the tables have the device, a registered device
    timed the cell, mbv3's table has the subnet), and ``bound_ms`` with its ``bound_confidence``
    where something else judged it (the model's bound; a registered device's timing times the
    margin a second timing may reach, which stood in ``measured_ms``: 0.4504 for a cell timed at
    0.4133); a column only where some architecture has a value in it."""
    import numpy as np

    if budget is None or not archs:
        return []
    judged, timed, ms = budget.judged_ms(archs), budget.timed(archs), budget.latency_ms(archs)
    by_margin = not budget.exact and budget.own_margin != 1.0  # a timing is judged at timing x margin
    bounded = ~timed | by_margin
    measured = "measured_ms"
    names = [name for name, used in ((measured, timed.any()), (BOUND, bounded.any())) if used]
    values = {measured: np.where(timed, ms, np.nan), BOUND: np.where(bounded, judged, np.nan)}
    rows = [{name: None if np.isnan(values[name][i]) else float(values[name][i]) for name in names}
            for i in range(len(archs))]
    return [{**row, **bound_fields(row[BOUND], confidence)} if BOUND in row else row for row in rows]


def arch_record(arch: Any, space: Any, device: Optional[str] = None, with_cost: bool = True) -> dict[str, Any]:
    """Facts about one architecture: string, hash, params/FLOPs and bundled table values."""
    record: dict[str, Any] = {"arch": arch.to_string(), "hash": arch.canonical_hash()}
    if with_cost:
        record["params_M"] = space.count_params(arch) / 1e6
        record["MFLOPs"] = space.count_flops(arch) / 1e6
    if space.benchmark:
        from gennas.bench import load_benchmark

        bench = load_benchmark(space.benchmark)
        for dataset in bench.datasets:
            record[f"{dataset}_acc"] = bench.accuracy(arch, dataset)
        devices = [device] if device else bench.devices
        for dev in devices:
            record[f"{dev}_ms"] = bench.latency(arch, dev)
    return record


def table_latencies(arch: Any, space: Any) -> dict[str, float]:
    """``{device}_ms`` for each device whose bundled table of sampled architectures (mbv3's
    subnets, :data:`gennas.bench.LATENCY_TABLES`) measured ``arch``; empty where none did.
    ``gennas show`` showed them for nb201 and not for an mbv3 subnet in its table."""
    from gennas.bench import LATENCY_TABLES, load_latency_table, sampled_timings

    if space.benchmark or space.name not in LATENCY_TABLES:
        return {}
    key = space.to_string(arch)
    return {f"{device}_ms": timed[key] for device in load_latency_table(space.name).devices
            for timed in [sampled_timings(space.name, device)] if key in timed}


@contextmanager
def progress_lines(total: int, title: str) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on stderr when it is a terminal, plain lines otherwise (logs, pipes);
    yields ``step(line)``, called once per finished item."""
    if not is_terminal(sys.stderr):
        done = [0]

        def line(text: str) -> None:
            done[0] += 1
            print(f"[{done[0]}/{total}] {text}", file=sys.stderr, flush=True)

        print(f"{title} ...", file=sys.stderr, flush=True)
        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(title, total=total)
        yield lambda text: bar.update(task, advance=1, description=text[:60])
