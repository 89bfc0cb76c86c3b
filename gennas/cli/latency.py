"""``gennas latency``: profile this machine as a device, list devices, predict latency."""

from __future__ import annotations

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
    if threads > 0:
        torch.set_num_threads(threads)
    samples = []
    for arch in est.reference_archs():
        ms = measure_latency(arch, est.space, torch_device=torch_device, batch_size=batch_size,
                             repeats=repeats, warmup=warmup)
        samples.append((arch, ms))
    est.adapt(name, samples)  # validates the samples before anything is written
    info = {"batch_size": batch_size, "repeats": repeats, "warmup": warmup, "torch_device": torch_device,
            "torch_threads": torch.get_num_threads()}
    path = register_device(name, est.space, samples, info)
    rows = [{"arch": est.space.to_string(a), "ms": ms} for a, ms in samples]
    if as_json:
        print_json({"device": name, "file": str(path), "samples": rows})
        return
    print_table(f"reference latencies of {name} ({torch_device}, batch {batch_size})", rows)
    typer.echo(f"registered device {name!r} in {path}")


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
