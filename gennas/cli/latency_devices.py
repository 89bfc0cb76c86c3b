"""``gennas latency devices`` and ``gennas latency references``: what a space's latency model
knows, and what a device must be timed on to join it."""

from __future__ import annotations

import typer

from gennas.cli.latency import latency_app
from gennas.cli.output import friendly, print_json, print_table


@latency_app.command("devices")
@friendly
def devices_cmd(space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """List the devices the latency estimator knows (bundled and registered)."""
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.measure import registered_path, registered_record, scan_devices
    from gennas.surrogates.retiming import recorded_margin

    est = load_latency_estimator(space)

    def margin(device: str) -> float | None:  # what a timing taken here is judged at (gennas.surrogates.retiming)
        record = registered_record(device, est.space.name)
        return None if not record or not record.get("retimed") else recorded_margin(record, 0.95)

    # none: null in JSON, where "-" was a string a pipeline read as a margin; '-' in the table
    rows = [{"device": d, "source": "bundled" if d in est.bundled else "registered",
             "timing_margin_95%": None if d in est.bundled else margin(d)} for d in est.devices]
    # files that register no device (their warnings say why): listed, so the user finds them here
    devices, broken = scan_devices(est.space.name)
    unused = [registered_path(d, est.space.name) for d in devices if d in est.bundled or d not in est.devices]
    rows += [{"device": path.stem, "source": f"skipped: {path}", "timing_margin_95%": None}
             for path in sorted({*broken, *filter(None, unused)})]
    if as_json:
        print_json(rows)  # an infinite margin (too few second timings for 95 %) is null as well
    elif not rows:  # a blank line said nothing (darts: no estimator, nothing registered)
        from gennas.spaces.identity import space_argument

        typer.echo(f"no latency devices for {est.space.name}: time this machine with `gennas latency measure --space "
                   f"{space_argument(est.space)} --name NAME`, or time `gennas latency references --space "
                   f"{space_argument(est.space)}` elsewhere and `gennas latency register FILE --name NAME`")
    else:
        key = "timing_margin_95%"  # 3 digits, as before
        print_table(f"latency devices ({space})",
                    [row if row[key] is None else {**row, key: f"{row[key]:.3g}"} for row in rows])


@latency_app.command("references")
@friendly
def references_cmd(space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
                   cells: int = typer.Option(0, "--cells", help="random architectures, as `measure --cells` "
                                                                "times them (0: the model's own references)"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
    """The architectures to time on a device gennas cannot run on (a phone, an accelerator).

    Time each with any tool, write them with their ms to a file (a JSON list of [architecture, ms]
    pairs; or CSV rows, quoted where a string holds commas, as darts' do), and `gennas latency
    register FILE --name NAME` describes the device."""
    from gennas.errors import GennasError
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.routed_latency import random_cells_model

    if cells < 0:
        raise GennasError(f"--cells must be 0 (the model's own references) or more, got {cells}")
    est = load_latency_estimator(space)
    model = random_cells_model(est) if cells else est
    archs = [est.space.to_string(a) for a in (model.reference_archs(cells) if cells else model.reference_archs())]
    if as_json:
        print_json(archs)
        return
    for arch in archs:
        typer.echo(arch)
    typer.echo(f"{len(archs)} architectures of {est.space.name} to time; with their ms in a JSON list of "
               f"[architecture, ms] pairs: gennas latency register FILE --space {space} --name NAME", err=True)
