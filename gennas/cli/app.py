"""The ``gennas`` command line: readable rich tables, ``--json`` for scripts.

Any :class:`GennasError` is printed as one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from gennas.cli import design, latency, report, search, train
from gennas.cli.group import GennasGroup
from gennas.cli.help_text import reflow_commands
from gennas.cli.output import COMMAND_THREADS, arch_record, friendly, print_json, print_table, table_latencies
from gennas.errors import GennasError

app = typer.Typer(help="gennas: graph-based generative neural-architecture design.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=GennasGroup)


def print_version(value: bool) -> None:
    """``gennas --version``: print ``gennas <version>`` and stop (a pipeline records what produced its results)."""
    if value:
        from gennas import __version__

        typer.echo(f"gennas {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(ctx: typer.Context, version: bool = typer.Option(
        False, "--version", is_eager=True, expose_value=True, callback=print_version,
        help="print gennas' version and exit"), threads: int = typer.Option(
        1, "--threads", min=1,
        help="torch CPU threads (intra-op). 1 by default: gennas' models are small, and threads wait for each "
             "other beside other work (2-core machine, a busy process beside it: `design --space mbv3 -n 5` "
             "took 40-49 s with 2 threads, 6-16 s with 1; alone no faster; README, section "
             "\"Python API\")")) -> None:
    """gennas: graph-based generative neural-architecture design."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if threads > cores:  # --threads 1000 on 2 cores was taken without a word: oversubscribed
        typer.echo(f"warning: --threads {threads} exceeds the {cores} CPU cores this process may use: threads "
                   "beyond them wait for each other (a search slows down, it never speeds up)", err=True)
    # applied as the command starts (`friendly`): every designer and predictor it builds keeps
    # --threads; after it, the caller's count
    token = COMMAND_THREADS.set(threads)
    ctx.call_on_close(lambda: COMMAND_THREADS.reset(token))


@app.command("spaces")
@friendly
def spaces_cmd(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List the search spaces and their sizes."""
    from gennas.spaces import list_spaces, load_space

    rows = []
    for name in list_spaces():
        space = load_space(name)
        rows.append({"space": name, "kind": space.kind, "size": space.size(), "slots": space.num_slots,
                     "benchmark": space.benchmark, "description": space.description})
    # JSON: the size as the exact integer and null for no benchmark (a string, "-", was parsed as text)
    print_json(rows) if as_json else print_table("search spaces", [{**row, "size": f"{row['size']:.4g}"}
                                                                    for row in rows])


@app.command("show")
@friendly
def show_cmd(arch: str = typer.Argument(..., help="architecture string"),
             space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Params, FLOPs, canonical hash, and benchmark accuracy and latency where known (mbv3: the bundled
    latency table's timings of a subnet it timed)."""
    from gennas.cli.checks import parsed_elsewhere
    from gennas.errors import InvalidArchitecture
    from gennas.spaces import load_space

    sp = load_space(space)
    try:
        graph = sp.from_string(arch)
    except InvalidArchitecture as exc:
        raise InvalidArchitecture(f"{exc}{parsed_elsewhere(arch, sp.name)}") from None
    record = {**arch_record(graph, sp), **table_latencies(graph, sp)}  # an mbv3 subnet its table timed
    if as_json:
        print_json(record)
        return
    print_table(f"{space} architecture", [{"field": k, "value": v} for k, v in record.items()])


#: the latency column `gennas sample` shows for a benchmarked space unless --device names another
DEFAULT_SAMPLE_DEVICE = "pixel3"


@app.command("sample")
@friendly
def sample_cmd(space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
               n: int = typer.Option(10, "-n", help="number of architectures"),
               seed: Optional[int] = typer.Option(None, "--seed"),
               device: Optional[str] = typer.Option(None, "--device", help="device for the measured latency "
                                                     "column (nb201: pixel3 unless given)"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Sample architectures uniformly; show their real accuracy and latency from the bundled tables."""
    from gennas.cli.checks import check_seed
    from gennas.generators.base import MAX_COUNT
    from gennas.spaces import load_space

    if not 0 < n <= MAX_COUNT:
        raise GennasError(f"-n must be from 1 to {MAX_COUNT:,}, got {n}")
    check_seed(seed)
    sp = load_space(space)
    if sp.benchmark:
        from gennas.bench import load_benchmark

        bench = load_benchmark(sp.benchmark)
        device = device or DEFAULT_SAMPLE_DEVICE
        if device not in bench.devices:
            from gennas.errors import UnknownDevice, unknown_device

            raise UnknownDevice(unknown_device(device, bench.devices, (
                "; `sample` shows the bundled table's measured latencies: `gennas latency predict` estimates a "
                "registered device's")))
    elif device is not None:  # nothing measured to show: say so rather than drop the option
        from gennas.spaces.identity import space_argument
        from gennas.surrogates.latency import load_latency_estimator

        where = space_argument(sp)
        shown = f"`sample` shows a latency column only for a space whose benchmark measured every cell, not {sp.name!r}"
        known = load_latency_estimator(sp).devices
        if device in known:
            raise GennasError(f"{shown}; `gennas latency predict --space {where} --device {device} ARCH` estimates "
                              "one (with the measured value where there is one)")
        # the latency predict it suggested failed at once, "unknown device": suggest what works
        raise GennasError(f"{shown}, and {device!r} is no latency device of {sp.name} (known: "
                          f"{', '.join(known) or 'none'}); time this machine with `gennas latency measure --space "
                          f"{where} --name NAME`, or time `gennas latency references --space {where}` elsewhere and "
                          f"`gennas latency register FILE --space {where} --name NAME`")
    archs = sp.sample_many(n, seed)
    rows = [arch_record(a, sp, device=device) for a in archs]
    seeded = "unseeded" if seed is None else f"seed {seed}"
    print_json(rows) if as_json else print_table(f"{n} uniform samples from {sp.name} ({seeded})", rows)


for _group in (design, latency, search, report, train):  # each command module adds its commands
    _group.register(app)
reflow_commands(app)


if __name__ == "__main__":  # pragma: no cover
    app()
