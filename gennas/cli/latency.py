"""``gennas latency``: profile this machine as a device, list devices, predict latency."""

from __future__ import annotations

import json
import math
import platform
import statistics
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any, Optional

import typer

from gennas.cli.output import friendly, print_json, print_table, progress_lines

latency_app = typer.Typer(help="Latency estimator: measure this machine, list devices, predict.",
                          no_args_is_help=True)


@latency_app.command("measure")
@friendly(interrupted="interrupted: the device is registered only when all its reference cells are timed")
def measure_cmd(name: str = typer.Option(..., "--name", help="name to register this machine under"),
                space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
                batch_size: int = typer.Option(1, "--batch-size"),
                repeats: int = typer.Option(10, "--repeats", help="timed passes per architecture, at least"),
                max_repeats: int = typer.Option(50, "--max-repeats", help="timed passes per architecture, at most"),
                target_spread: float = typer.Option(0.05, "--target-spread",
                                                    help="stop repeating once IQR / median is below this"),
                max_seconds: float = typer.Option(20.0, "--max-seconds", help="stop repeating after this long"),
                warmup: int = typer.Option(5, "--warmup"),
                max_spread: float = typer.Option(0.10, "--max-spread",
                                                 help="IQR / median above this is noisy: not registered"),
                accept_noisy: bool = typer.Option(False, "--accept-noisy",
                                                  help="register noisy or implausible measurements anyway"),
                torch_device: str = typer.Option("cpu", "--torch-device", help="cpu, cuda, cuda:N or mps"),
                threads: int = typer.Option(1, "--threads", help="torch CPU threads (0: leave as is)"),
                clock: str = typer.Option("wall", "--clock", help="wall: elapsed time; cpu: this thread's CPU "
                                          "time (one CPU thread only; on a shared machine, the unloaded latency)"),
                force: bool = typer.Option(False, "--force", help="overwrite a registered device"),
                restart: bool = typer.Option(False, "--restart", help="time every architecture again where an "
                                             "interrupted run of this measure kept timings (by default the same "
                                             "command resumes it)"),
                cells: int = typer.Option(0, "--cells", help="describe the device by this many seeded random "
                                          "architectures timed here (an additive model of their choices, fitted as "
                                          "a correction of the estimator where the space has one: its references "
                                          "are timed too; a bound calibrated on them): for a machine whose --check "
                                          "the estimator's bound fails, or to keep more of the fast architectures a "
                                          "tight budget admits; a space without an estimator (your own, darts) "
                                          "always is \\[default there: 2 per slot choice, 60-200]"),
                check: int = typer.Option(0, "--check", help="then time this many seeded random architectures and "
                                          "say how many the 95 % latency bound covers (30-50: a few minutes; a "
                                          "budget on the device warns if clearly fewer)"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Time the reference architectures here and register the machine as a device.

    In a space without a pretrained latency estimator (your own YAML, darts), and with --cells in
    one that has it, the device is described by seeded random architectures instead, predicted
    additively from their choices (where the space has an estimator, also as a correction of the
    estimator adapted from its references, timed first; the better of the two forms by
    cross-validation), with a conformal bound calibrated on them.

    One thread by default (stable, comparable timings); each architecture is warmed up, then
    timed until the spread of its passes is small or a limit is hit. Noisy timings, or an
    architecture with far fewer FLOPs measured far slower than one with more, are reported and
    not registered (the measurements are saved to a file) unless --accept-noisy. The first 20
    architectures are then timed a second time: a budget judges an architecture timed here by its
    timing times the margin a second timing reaches (`gennas latency devices` lists it)."""
    import torch

    from gennas.cli.checks import check_writable_dir
    from gennas.errors import GennasError
    from gennas.surrogates import measure
    from gennas.spaces.identity import space_argument
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.spaces.identity import spec_record
    from gennas.surrogates.measure_commands import measure_command, register_command
    from gennas.surrogates.measure_progress import MeasureProgress
    from gennas.surrogates.routed_latency import random_cells_model
    from gennas.surrogates.slot_latency import SlotLatencyModel
    from gennas.surrogates.timings_file import save_timings

    measure.check_device_name(name)
    # every option checked before minutes of timing, each named on its own
    for option, value, ok, rule in (("--repeats", repeats, repeats >= 1, "at least 1"),
                                    ("--max-repeats", max_repeats, max_repeats >= repeats, "at least --repeats"),
                                    ("--batch-size", batch_size, batch_size >= 1, "at least 1"),
                                    ("--warmup", warmup, warmup >= 0, "0 or more"),
                                    ("--threads", threads, threads >= 0, "0 (leave as is) or more"),
                                    ("--max-spread", max_spread, max_spread > 0, "above 0"),
                                    ("--target-spread", target_spread, target_spread > 0, "above 0"),
                                    ("--max-seconds", max_seconds, max_seconds > 0, "above 0"),
                                    ("--check", check, check >= 0, "0 or more"),
                                    ("--cells", cells, cells >= 0, "0 (the default count) or more")):
        if not ok:
            raise GennasError(f"{option} must be {rule}, got {value}")
    if clock not in measure.CLOCKS:
        raise GennasError(f"--clock must be one of {', '.join(measure.CLOCKS)}, got {clock!r}")
    measure.torch_device_of(torch_device)  # 'cuda' on a machine without one: said now, not after timing
    will_use = threads if threads > 0 else torch.get_num_threads()
    if clock == "cpu" and (torch_device != "cpu" or will_use != 1):  # measure_timing's rule, before any timing
        raise GennasError(f"--clock cpu needs --torch-device cpu and --threads 1 (got {torch_device!r}, {will_use} "
                          "threads): other threads' work would not count")
    est = load_latency_estimator(space)
    _check_free_name(est, name, force)
    # Minutes of timing must not end in an unwritable folder: prove it is writable first.
    check_writable_dir(measure.device_path(name, est.space.name).parent, "cannot register devices",
                       "set GENNAS_HOME to a writable folder")
    if threads > 0:
        torch.set_num_threads(threads)
    build = measure.table_build_options(est.space)
    # recorded with the device: a command printed to time it again carries them (measure_commands)
    settings = {"batch_size": batch_size, "repeats": repeats, "max_repeats": max_repeats, "warmup": warmup,
                "target_spread": target_spread, "max_seconds": max_seconds, "clock": clock,
                "torch_device": torch_device, "torch_threads": torch.get_num_threads(), "max_spread": max_spread,
                "cells": cells}
    # random architectures describe the device where the space has no estimator, or with --cells
    model = random_cells_model(est) if cells else est
    refs = model.reference_archs(cells) if cells else model.reference_archs()
    labels = [est.space.to_string(a) for a in refs]

    def timed(arch: Any) -> Any:  # every timing of this command (references and --check) alike
        return measure.measure_timing(arch, est.space, torch_device=torch_device, batch_size=batch_size,
                                      repeats=repeats, warmup=warmup, max_repeats=max_repeats,
                                      target_spread=target_spread, max_seconds=max_seconds, basis=clock, **build)

    # every timing is kept on disk as it is taken: the same command run again resumes
    progress = MeasureProgress.open(name, est.space.name, {**settings, "machine": platform.node(), "build": build,
                                                           "space_spec": spec_record(est.space)}, restart)
    if progress.resumed():
        typer.echo(f"resuming an interrupted measure: {progress.resumed()} timings kept in {progress.path} are used, "
                   "the others are taken (--restart times every architecture again)", err=True)

    def resumable(phase: str) -> Callable[[Any], Any]:
        return progress.keeping(phase, timed, est.space.to_string)

    timings: list[Any] = []
    try:
        # the first architectures were timed cold (mbv3: 30.39 ms, then 19.54 ms in the same run)
        measure.warm_up(refs[0], est.space, torch_device=torch_device, batch_size=batch_size, warmup=warmup, **build)
        timed_reference = resumable("references")
        with progress_lines(len(refs), f"timing {len(refs)} reference architectures") as step:
            for arch, label in zip(refs, labels):
                timings.append(timed_reference(arch))
                step(f"{label}: {timings[-1].ms:.2f} ms (spread {timings[-1].spread:.3f}, "
                     f"{timings[-1].repeats} passes)")
    except KeyboardInterrupt:  # minutes of timing are not thrown away: the ones taken go to a file
        if timings:
            _keep_interrupted(model, name, [(a, t.ms) for a, t in zip(refs, timings)], len(refs),
                              {**settings, "machine": platform.node(), "build": build}, force, check,
                              progress.writable)
        raise
    samples = [(a, t.ms) for a, t in zip(refs, timings)]
    info: dict[str, Any] = {"retimed": _retime(refs, labels, resumable("retimed"))}  # noise budgets on timings meet
    info |= {**settings, "machine": platform.node(),  # a recheck times the machine that took them
             "build": build, "spreads": [t.spread for t in timings], "passes": [t.repeats for t in timings]}
    flops = [measure.arch_flops(est.space, a, **build) for a in refs]
    problems = measure.noise_problems(labels, timings, flops, measure.NoiseLimits(max_spread=max_spread))
    info["noisy"], info["noise_problems"] = bool(problems), problems
    if isinstance(model, SlotLatencyModel):
        info["model"] = "slots"  # loaded into a slot model, whatever estimator the space has
    try:
        if problems and not accept_noisy:
            more = f"; {len(problems) - 3} more" if len(problems) > 3 else ""
            cpu_hint = "" if clock == "cpu" else \
                " (or with --clock cpu, which leaves out time the core spent on other processes)"
            raise GennasError(f"the timings look noisy ({'; '.join(problems[:3])}{more}): rerun on a quieter "
                              f"machine{cpu_hint}, or pass --accept-noisy to register them (a budget on a device "
                              "registered from noisy timings warns that its bound is uncalibrated)")
        model.adapt(name, samples, computed=True)  # validates the samples before anything is written
        path = measure.register_device(name, est.space, samples, info)
    except (GennasError, OSError) as exc:  # the measurements are not lost: they go to a file
        reason = str(exc) if isinstance(exc, GennasError) else f"{exc.strerror or type(exc).__name__}: {exc.filename}"
        try:
            kept = f"saved in {save_timings(name, est.space, samples, info)}"
        except OSError:  # nowhere to write: the one line carries them
            kept = "(ms) " + json.dumps({est.space.to_string(a): round(ms, 4) for a, ms in samples})
        taken = force or measure.registered_path(name, est.space.name) is not None  # else pasted, refused
        again = f" (`{register_command(kept.removeprefix('saved in '), est.space, name, taken)}` registers them)" \
            if kept.startswith("saved in") else ""
        progress.finished()  # a rerun times afresh (a quieter machine); the file above holds these
        raise GennasError(f"device {name!r} not registered ({reason}); the measurements are {kept}{again}") from None
    rows = [{"arch": lab, "ms": t.ms, "spread": t.spread, "passes": t.repeats} for lab, t in zip(labels, timings)]
    try:
        checked = _check_bound(model, name, check, resumable("check"), refs, samples, info) if check else None
    except KeyboardInterrupt:
        again = measure_command(name, est.space, {**settings, "check": check}, force=True)
        typer.echo(f"the check was interrupted: {name!r} is registered without it; `{again}` finishes it "
                   f"(the check's timings taken are kept in {progress.path})", err=True)
        raise
    progress.finished()
    if as_json:
        print_json({"device": name, "file": str(path), "samples": rows, "problems": problems,
                    **({} if checked is None else {"check": {"cells": checked.cells, "covered": checked.covered,
                                                             "confidence": checked.confidence}})})
        return
    print_table(f"reference latencies of {name} ({torch_device}, batch {batch_size})", rows)
    if problems:  # the first few, one a line (52 in one line were a wall); every one is kept in the file
        more = f"\n  ... and {len(problems) - 3} more (noise_problems in {path})" if len(problems) > 3 else ""
        typer.echo(f"registered despite {len(problems)} problem(s) (--accept-noisy):\n  " + "\n  ".join(problems[:3])
                   + more, err=True)
    typer.echo(f"registered device {name!r} in {path}")
    typer.echo(f"design under a budget on it: gennas design --space {space_argument(est.space)} --task ... --device "
               f"{name} --max-latency-ms MS (and --device / --max-latency-ms in gennas search)", err=True)
    if checked is not None:
        verdict = "" if checked.holds else "; significantly fewer than its confidence: budgets on this device will warn"
        typer.echo(f"check: {checked.describe()}{verdict}", err=not checked.holds)


def _keep_interrupted(model: Any, name: str, samples: list[tuple[Any, float]], total: int, info: dict[str, Any],
                      force: bool, check: int, resumes: bool) -> None:
    """Save the ``samples`` an interrupted measure took of its ``total`` architectures (``info``: its
    settings) to a file and say what to do with them: the register command where they can register
    the device, else the measure to run again (29 of a user space's 60 cannot: the register line
    printed for them failed), and the measure that resumes where ``resumes`` (its timings are kept
    as taken: :mod:`gennas.surrogates.measure_progress`)."""
    from gennas.errors import GennasError
    from gennas.surrogates.measure import registered_path
    from gennas.surrogates.measure_commands import measure_command, register_command
    from gennas.surrogates.slot_latency import MIN_TIMED, SlotLatencyModel
    from gennas.surrogates.timings_file import save_timings

    if isinstance(model, SlotLatencyModel):
        info["model"] = "slots"  # registered from the file, they describe the device as they would have here
    kept = save_timings(name, model.space, samples, {"interrupted": f"{len(samples)} of {total} reference cells "
                                                                    "timed", **info})
    taken = force or registered_path(name, model.space.name) is not None  # else the pasted command is refused
    saved = f"the {len(samples)} of {total} timings taken are saved in {kept}"
    command = measure_command(name, model.space, {**info, 'check': check}, taken)
    rerun = f"`{command}` resumes: it times the other {total - len(samples)}" if resumes else \
        f"time all {total} again with `{command}`"
    try:
        model.adapt(name, samples)  # as `gennas latency register` would (this model is not used again)
    except GennasError as exc:
        more = f"{MIN_TIMED - len(samples)} more are needed: " \
            if isinstance(model, SlotLatencyModel) and len(samples) < MIN_TIMED else ""
        typer.echo(f"{saved}, too few to register the device ({more}{exc}); {rerun}", err=True)
        return
    typer.echo(f"{saved} (`{register_command(kept, model.space, name, taken)}` registers the device from them, "
               f"with an uncalibrated latency bound: a measure that times all of them calibrates it); {rerun}",
               err=True)


def _check_bound(est: Any, name: str, n: int, timed: Callable[[Any], Any], refs: list[Any],
                 samples: list[tuple[Any, float]], info: dict[str, Any]) -> Any:
    """Time ``n`` seeded random architectures (not the references) on the registered device ``name``,
    store them in its file as ``check`` and return how many its 95 % bound covers
    (:class:`gennas.design.bound_check.BoundCheck`). Interrupted, the device stays registered
    without a check."""
    from gennas.design.bound_check import BoundCheck, check_archs
    from gennas.design.budget import LatencyBudget
    from gennas.surrogates import measure

    archs = check_archs(est.space, n, seed=0, exclude=refs)
    measured = []
    with progress_lines(len(archs), f"checking the latency bound on {len(archs)} random architectures") as step:
        for arch in archs:
            measured.append(timed(arch).ms)
            step(f"{est.space.to_string(arch)}: {measured[-1]:.2f} ms")
    budget = LatencyBudget.for_device(est.space, est, name, 1.0)  # only its bound is read (95 %)
    result = BoundCheck.of(budget, archs, measured)
    info["check"] = {"samples": [[est.space.to_string(a), ms] for a, ms in zip(archs, measured)], "seed": 0,
                     "covered": result.covered, "confidence": result.confidence}
    measure.register_device(name, est.space, samples, info)
    return result


def _retime(refs: list[Any], labels: list[str], timed: Callable[[Any], Any]) -> list[list[Any]]:
    """A second timing ``[[arch, ms], ...]`` of the first :data:`~gennas.surrogates.retiming.RETIMED`
    architectures (seeded random ones), after all were timed once: how far a timing moves when taken
    again, which a budget judging timed architectures by their timing allows for. Interrupted, the
    device is registered without them (its timings then judged as they are)."""
    from gennas.surrogates.retiming import RETIMED

    second: list[list[Any]] = []
    picked = list(zip(refs, labels))[:RETIMED]
    try:
        with progress_lines(len(picked), f"timing {len(picked)} of them again (the noise of a timing)") as step:
            for arch, label in picked:
                second.append([label, timed(arch).ms])
                step(f"{label}: {second[-1][1]:.2f} ms the second time")  # the table shows the first
    except KeyboardInterrupt:
        typer.echo(f"second timings interrupted after {len(second)}: registering with those", err=True)
    return second


def _check_free_name(est: Any, name: str, force: bool) -> None:
    """Refuse registering ``name``: a bundled device's, or registered already unless ``force``."""
    from gennas.errors import GennasError
    from gennas.surrogates import measure

    if name in est.bundled:
        raise GennasError(f"{name!r} is a bundled benchmark device; pick another name")
    registered = measure.registered_path(name, est.space.name)
    if registered is not None and not force:
        raise GennasError(f"device {name!r} is already registered for {est.space.name} ({registered}); "
                          "use --force to overwrite")


@latency_app.command("register")
@friendly
def register_cmd(timings: Path = typer.Argument(..., help="JSON or CSV of \\[architecture, ms] timings"),
                 name: str = typer.Option(..., "--name", help="name to register the device under"),
                 space: Optional[str] = typer.Option(None, "--space", "-s", help="\\[default: the file's, else nb201]"),
                 force: bool = typer.Option(False, "--force", help="overwrite a registered device")) -> None:
    """Register a device from timings taken elsewhere (a phone, another machine) or saved by a
    refused `gennas latency measure` (its noisy flag is kept): its reference architectures' timings
    calibrate the bound (`gennas latency measure --help`; the estimator's reference_archs())."""
    from gennas.cli.checks import check_writable_dir
    from gennas.errors import GennasError
    from gennas.surrogates import measure
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.routed_latency import random_cells_model
    from gennas.surrogates.slot_latency import SlotLatencyModel
    from gennas.surrogates.timings_file import read_timings, space_of_timings

    measure.check_device_name(name)
    samples, info = read_timings(timings)
    est = load_latency_estimator(space or space_of_timings(info) or "nb201")
    if info.get("space", est.space.name) != est.space.name:
        raise GennasError(f"{timings} holds {info['space']} timings, not {est.space.name}")
    measure.stale_timings(info, est.space, f"timings file {timings}", name)
    _check_free_name(est, name, force)
    check_writable_dir(measure.device_path(name, est.space.name).parent, "cannot register devices",
                       "set GENNAS_HOME to a writable folder")  # before the cells are checked
    # timings of random architectures (a refused `measure --cells`) describe the device as they did
    model = random_cells_model(est) if info.get("model") == "slots" else est
    try:  # every cell checked before anything is written
        graphs = [(est.space.parse(a), ms) for a, ms in samples]
        model.adapt(name, graphs)
    except GennasError as exc:
        raise GennasError(f"timings file {timings} for {est.space.name}: {exc}") from None
    refs = {est.space.to_string(a) for a in model.reference_archs()}
    timed = len(refs & {est.space.to_string(g) for g, _ in graphs})
    info = {**info, "space": est.space.name, "registered_from": str(timings)}
    path = measure.register_device(name, est.space, graphs, info)
    # random architectures have no fixed reference set to count against (an interrupted --cells
    # 100 read "40 of the 60 reference architectures")
    of = "random architectures" if isinstance(model, SlotLatencyModel) else \
        f"{timed} of the {len(refs)} reference architectures"
    typer.echo(f"registered device {name!r} from {len(samples)} timings ({of}) in {path}")
    if name in model.partial_devices:  # what adapt() found: the budget's UncalibratedBound reads the same
        typer.echo(f"warning: its latency bound is calibrated for devices timed on all {len(refs)} reference "
                   "architectures: a budget on it warns (UncalibratedBound)", err=True)


@latency_app.command("recheck")
@friendly(interrupted="interrupted: nothing was written")
def recheck_cmd(name: str = typer.Option(..., "--name", help="the registered device (this machine) to time again"),
                space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
                cells: int = typer.Option(10, "--cells", help="how many of its timed architectures to time again"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Time some of this machine's registered architectures again, with the registration's settings,
    and say how far its speed has moved since: budgets on the device are judged by the
    registration, so a machine now slower than its timing margin allows runs designs over their
    budgets (on this project's VM 1.25-1.29x within minutes). The result is kept in the device's
    file, and a budget on the device warns while the last recheck is beyond the margin."""
    from datetime import datetime, timezone

    from gennas.atomic_write import write_whole
    from gennas.cli.checks import check_writable_dir
    from gennas.design.timed_here import local_registration, registered_timer
    from gennas.errors import GennasError
    from gennas.spaces import load_space
    from gennas.surrogates import measure
    from gennas.surrogates.measure_commands import measure_command
    from gennas.surrogates.retiming import DRIFT_CONFIDENCE, recorded_margin

    resolved = load_space(space)
    if cells < 1:
        raise GennasError(f"--cells must be 1 or more, got {cells}")
    record = local_registration(name, resolved)  # measured here, with the settings it is timed again with
    check_writable_dir(measure.registered_path(name, resolved.name).parent, "gennas latency recheck cannot keep its "
                       "result", "set GENNAS_HOME to a writable folder")  # before the timing, not after it
    time_one = registered_timer(record, resolved)
    samples = record["samples"][:cells]
    now = []
    with progress_lines(len(samples), f"timing {len(samples)} of {name}'s architectures again") as step:
        for arch, _ in samples:
            now.append(time_one(arch))
            step(f"{arch}: {now[-1]:.3f} ms")
    ratios = [t / float(ms) for t, (_, ms) in zip(now, samples)]
    drift, margin = statistics.median(ratios), recorded_margin(record, DRIFT_CONFIDENCE)
    record["rechecks"] = [*record.get("rechecks", []), {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                                      "median_ratio": drift, "ratios": ratios}]
    write_whole(measure.registered_path(name, resolved.name), json.dumps(record, indent=2) + "\n")
    again = measure_command(name, resolved, record)  # with the settings it was registered with
    verdict = (f"slower than its timing margin ({margin:.3g}) allows: designs judged by the registration may run "
               f"over their budgets by up to {drift:.2f}x; register it again ({again}), and a budget on it warns "
               "until then" if drift > margin else
               f"within its timing margin ({margin:.3g})" + (": budgets on it are conservative now" if drift < 1 else ""))
    if not record.get("retimed"):  # an earlier gennas's registration: the margin of 1 is none measured (walk 47)
        verdict += f"; its registration recorded no second timings, so no margin of its own: register it again ({again})"
    if as_json:
        print_json({"device": name, "median_ratio": drift, "ratios": ratios, "margin": margin, "holds": drift <= margin})
        return
    typer.echo(f"{name}: now / registered median {drift:.3f} (range {min(ratios):.3f}-{max(ratios):.3f}, "
               f"{len(ratios)} architectures): {verdict}")


@latency_app.command("predict")
@friendly
def predict_cmd(archs: list[str] = typer.Argument(..., help="architecture string(s)"),
                device: str = typer.Option(..., "--device", "-d"),
                space: str = typer.Option("nb201", "--space", "-s", help="bundled name or YAML file"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Predicted latency (ms) of architectures on a device; the measured table value where bundled
    (a registered device: its own timing of the cell); where a budget on the device is judged by
    the latency model, the 95 % upper bound it is judged by (a cell timed here: its timing times
    the margin a second timing reaches)."""
    from gennas.bench import LATENCY_TABLES, sampled_timings
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.latency_bound import warn_outlying

    est = load_latency_estimator(space)
    graphs = [est.space.parse(a) for a in archs]
    predicted = est.predict(graphs, device)
    warn_outlying(est, device)
    measured: list[float | None] = [None] * len(graphs)
    if est.space.benchmark and device in est.bundled:
        from gennas.bench import load_benchmark

        measured = [float(v) for v in load_benchmark(est.space.benchmark).latency_of(graphs, device)]
    elif device in est.bundled and est.space.name in LATENCY_TABLES:  # sampled subnets: some have a row
        timed = sampled_timings(est.space.name, device)
        measured = [timed.get(g.to_string()) for g in graphs]
    else:  # a registered device: the cells timed here show their timing
        from gennas.surrogates.measure import registered_devices, timings_by_graph

        timed = timings_by_graph(est.space, registered_devices(est.space.name).get(device, ()))
        measured = [timed.get(g.to_string()) for g in graphs]
    rows = [{"arch": est.space.to_string(g), "predicted_ms": float(p), "table_ms": m}
            for g, p, m in zip(graphs, predicted, measured)]
    # what a budget on the device is judged by where no exact measurement judges it (bound_ms in
    # gennas design): the 95 % upper bound (and mbv3's FLOPs bound); for a cell timed here, its timing
    # times the margin a second timing reaches (none for a bundled table's timings, which are exact)
    from gennas.cli.output import bound_column, bound_fields
    from gennas.design.budget import LatencyBudget

    budget = LatencyBudget.for_device(est.space, est, device, math.inf, 0.95)
    if not budget.exact:
        for row, bound, own in zip(rows, budget.judged_ms(graphs), budget.timed(graphs)):
            row.update(bound_fields(None if own and budget.own_margin == 1.0 else float(bound), 0.95))
    print_json(rows) if as_json else print_table(f"latency on {device}", [bound_column(row) for row in rows])


def register(app: typer.Typer) -> None:
    import_module("gennas.cli.latency_devices")  # its commands (devices, references) join latency_app
    app.add_typer(latency_app, name="latency")
