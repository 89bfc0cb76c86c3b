"""The ``gennas`` command line: readable rich tables, ``--json`` for scripts.

Any :class:`GennasError` is printed as one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from gennas.errors import GennasError

app = typer.Typer(help="gennas: graph-based generative neural-architecture design.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# Off a terminal (pipes, CI logs) rich would wrap at 80 columns and fold the long arch strings.
console = Console(width=None if sys.stdout.isatty() else 200)


def fail(message: str) -> None:
    """One line on stderr, exit 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn GennasError into one line and exit code 2; Ctrl-C into exit 130 without a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GennasError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(code=130) from None

    return wrapper


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """A rich table of dict rows; floats shown with 2 decimals, missing values as '-'."""
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        cells = []
        for col in columns:
            value = row.get(col)
            cells.append("-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value))
        table.add_row(*cells)
    console.print(table)


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


@app.command("spaces")
@friendly
def spaces_cmd(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List the search spaces and their sizes."""
    from gennas.space import list_spaces, load_space

    rows = []
    for name in list_spaces():
        space = load_space(name)
        rows.append({"space": name, "kind": space.kind, "size": f"{space.size():.4g}",
                     "slots": space.num_slots, "benchmark": space.benchmark or "-",
                     "description": space.description})
    print_json(rows) if as_json else print_table("search spaces", rows)


@app.command("show")
@friendly
def show_cmd(arch: str = typer.Argument(..., help="architecture string"),
             space: str = typer.Option("nb201", "--space", "-s", help="search space name"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Params, FLOPs, canonical hash, and benchmark accuracy and latency where known."""
    from gennas.space import load_space

    sp = load_space(space)
    graph = sp.from_string(arch)
    record = arch_record(graph, sp)
    if as_json:
        print_json(record)
        return
    print_table(f"{space} architecture", [{"field": k, "value": v} for k, v in record.items()])


@app.command("sample")
@friendly
def sample_cmd(space: str = typer.Option("nb201", "--space", "-s"),
               n: int = typer.Option(10, "-n", help="number of architectures"),
               seed: Optional[int] = typer.Option(None, "--seed"),
               device: str = typer.Option("pixel3", "--device", help="device for the latency column"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Sample architectures uniformly; show their real accuracy and latency from the bundled tables."""
    from gennas.space import load_space

    if n <= 0:
        raise GennasError(f"-n must be positive, got {n}")
    sp = load_space(space)
    if sp.benchmark:
        from gennas.bench import load_benchmark

        bench = load_benchmark(sp.benchmark)
        if device not in bench.devices:
            from gennas.errors import UnknownDevice, unknown

            raise UnknownDevice(unknown("device", device, bench.devices))
    archs = sp.sample_many(n, seed)
    rows = [arch_record(a, sp, device=device) for a in archs]
    print_json(rows) if as_json else print_table(f"{n} uniform samples from {space} (seed {seed})", rows)


def _register_command_groups() -> None:
    import gennas.commands as commands

    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"gennas.commands.{info.name}")
        if hasattr(module, "register"):
            module.register(app)


_register_command_groups()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
