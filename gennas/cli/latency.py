"""``gennas latency``: profile this machine as a device, list devices, predict latency."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import typer

from gennas.cli.output import friendly, print_json, print_table

latency_app = typer.Typer(help="Latency estimator: measure this machine, list devices, predict.",
                          no_args_is_help=True)


@latency_app.command("measure")
@friendly
def measure_cmd(name: str = typer.Option(..., "--name", help="name to register this machine under"),
                space: str = typer.Option("nb201", "--space", "-s"),
                batch_size: int = typer.Option(1, "--batch-size"),
                repeats: int = typer.Option(30, "--repeats", help="timed passes per architecture (median)"),
                warmup: int = typer.Option(5, "--warmup"),
                torch_device: str = typer.Option("cpu", "--torch-device", help="cpu, cuda, cuda:N or mps"),
                threads: int = typer.Option(0, "--threads", help="torch CPU threads (0: leave as is)"),
                force: bool = typer.Option(False, "--force", help="overwrite a registered device"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Time the reference architectures here and register the machine as a device."""
    import torch

    from gennas.cli.checks import check_writable_dir
    from gennas.errors import GennasError
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.measure import check_device_name, devices_dir, measure_latency, register_device

    check_device_name(name)
    est = load_latency_estimator(space)
    if name in est.bundled:
        raise GennasError(f"{name!r} is a bundled benchmark device; pick another name")
    if (devices_dir() / f"{name}.json").exists() and not force:
        raise GennasError(f"device {name!r} is already registered ({devices_dir() / (name + '.json')}); "
                          "use --force to overwrite")
    # Minutes of timing must not end in an unwritable folder: prove it is writable first.
    check_writable_dir(devices_dir(), "cannot register devices", "set GENNAS_HOME to a writable folder")
    if threads > 0:
        torch.set_num_threads(threads)
    samples = []
    for arch in est.reference_archs():
        ms = measure_latency(arch, est.space, torch_device=torch_device, batch_size=batch_size,
                             repeats=repeats, warmup=warmup)
        samples.append((arch, ms))
    info = {"batch_size": batch_size, "repeats": repeats, "warmup": warmup, "torch_device": torch_device,
            "torch_threads": torch.get_num_threads()}
    try:
        est.adapt(name, samples)  # validates the samples before anything is written
        path = register_device(name, est.space, samples, info)
    except (GennasError, OSError) as exc:  # the measurements are not lost: they go to a file
        reason = str(exc) if isinstance(exc, GennasError) else f"{exc.strerror or type(exc).__name__}: {exc.filename}"
        try:
            kept = f"saved in {_save_measurements(name, est.space, samples, info)}"
        except OSError:  # nowhere to write: the one line carries them
            kept = "(ms) " + json.dumps({est.space.to_string(a): round(ms, 4) for a, ms in samples})
        raise GennasError(f"device {name!r} not registered ({reason}); the measurements are {kept}") from None
    rows = [{"arch": est.space.to_string(a), "ms": ms} for a, ms in samples]
    if as_json:
        print_json({"device": name, "file": str(path), "samples": rows})
        return
    print_table(f"reference latencies of {name} ({torch_device}, batch {batch_size})", rows)
    typer.echo(f"registered device {name!r} in {path}")


def _save_measurements(name: str, space: Any, samples: list[tuple[Any, float]], info: dict[str, Any]) -> Path:
    """Write measured samples to a JSON file in the system's temporary folder; returns its path.

    The record has the fields of a registered device file, so it can be copied into
    ``$GENNAS_HOME/devices/`` once the reason it was not registered is fixed."""
    record = {"name": name, "space": space.name, "samples": [[space.to_string(a), float(ms)] for a, ms in samples],
              **info}
    fd, path = tempfile.mkstemp(prefix=f"gennas-measured-{name}-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(record, indent=2) + "\n")
    return Path(path)


@latency_app.command("devices")
@friendly
def devices_cmd(space: str = typer.Option("nb201", "--space", "-s"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """List the devices the latency estimator knows (bundled and registered)."""
    from gennas.surrogates.latency import load_latency_estimator

    est = load_latency_estimator(space)
    rows = [{"device": d, "source": "bundled" if d in est.bundled else "registered"} for d in est.devices]
    print_json(rows) if as_json else print_table(f"latency devices ({space})", rows)


@latency_app.command("predict")
@friendly
def predict_cmd(archs: list[str] = typer.Argument(..., help="architecture string(s)"),
                device: str = typer.Option(..., "--device", "-d"),
                space: str = typer.Option("nb201", "--space", "-s"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Predicted latency (ms) of architectures on a device; the measured table value where bundled."""
    from gennas.surrogates.latency import load_latency_estimator

    est = load_latency_estimator(space)
    graphs = [est.space.parse(a) for a in archs]
    predicted = est.predict(graphs, device)
    measured = [None] * len(graphs)
    if est.space.benchmark and device in est.bundled:
        from gennas.bench import load_benchmark

        measured = [float(v) for v in load_benchmark(est.space.benchmark).latency_of(graphs, device)]
    rows = [{"arch": est.space.to_string(g), "predicted_ms": float(p), "table_ms": m}
            for g, p, m in zip(graphs, predicted, measured)]
    print_json(rows) if as_json else print_table(f"latency on {device}", rows)


def register(app: typer.Typer) -> None:
    app.add_typer(latency_app, name="latency")
