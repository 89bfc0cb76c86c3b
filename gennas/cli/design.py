"""``gennas design``: ranked architectures for a task (and a latency budget), in seconds."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

#: the latency columns of a design: an estimate, a measurement, the bound the budget was judged by
LATENCY_COLUMNS = ("pred_ms", "measured_ms", "bound_ms")


def register(app: typer.Typer) -> None:
    from gennas.cli.output import bound_fields, friendly, print_json, print_table
    from gennas.cli.output import note as note_line

    @app.command("design")
    @friendly
    def design_cmd(space: Optional[str] = typer.Option(None, "--space", "-s",
                                                       help="bundled name or YAML file \\[default: nb201; with "
                                                            "--study: the study's]"),
                   task: Optional[str] = typer.Option(None, "--task", help="dataset the architectures are for \\[default: "
                                                                       "cifar10, as for search; with --study: the study's]"),
                   device: Optional[str] = typer.Option(None, "--device", help="device for latency, e.g. pixel3"),
                   max_latency_ms: Optional[float] = typer.Option(None, "--max-latency-ms",
                                                                  help="latency budget (ms) on --device"),
                   latency_confidence: Optional[float] = typer.Option(
                       None, "--latency-confidence", help="on a device without measured latencies: keep designs "
                                                          "whose upper latency bound at this confidence is within "
                                                          "the budget (calibrated: 0.5-0.995 on nb201, 0.5-0.98 on "
                                                          "mbv3) \\[default: 0.95; with --study: the study's]"),
                   n: int = typer.Option(10, "-n", help="number of architectures"),
                   generator: Optional[str] = typer.Option(None, "--generator",
                                                 help="diffusion or vae: the pool designs are ranked from (under a "
                                                      "latency budget on nb201 every cell within it is ranked, so "
                                                      "the generator changes nothing there) \\[default: diffusion; "
                                                      "with --study: the study's]"),
                   holdout: Optional[str] = typer.Option(None, "--holdout",
                                                         help="a bundled dataset (cifar10, cifar100) whose labels the "
                                                              "predictor is trained without, to simulate a new dataset: "
                                                              "name the task new-<dataset>"),
                   seed: Optional[int] = typer.Option(None, "--seed", help="which designs are sampled; under a "
                                                      "latency budget on nb201 every cell within it is ranked, so "
                                                      "the seed changes only which of cells computing one function "
                                                      "is shown \\[default: 0; with --study: the "
                                                      "study's]"),
                   export_arg: Optional[str] = typer.Option(None, "--export",
                                                            help="folder: write each as string, PyTorch and ONNX (weights "
                                                                 "initialised from --seed; with --study, the trained "
                                                                 "weights of a design its training evaluator kept, "
                                                                 "the others built as it built its networks)"),
                   overwrite: bool = typer.Option(False, "--overwrite",
                                                  help="with --export: replace an export of other designs in the "
                                                       "folder (its rankNN exports; nothing else is removed)"),
                   num_classes: Optional[int] = typer.Option(None, "--num-classes",
                                                             help="with --export: classes of the exported networks, 2 or more \\[default: the "
                                                                  "task's dataset's, else those the space's latency "
                                                                  "table was timed with, else 10; trained weights keep "
                                                                  "their own: another is refused]"),
                   storage: Optional[str] = typer.Option(None, "--storage", help="with --study: design from a stored search"),
                   study: Optional[str] = typer.Option(None, "--study", help="a designer search's study name"),
                   force: bool = typer.Option(False, "--force", help="with --study: design from results verified "
                                                                     "on an earlier spec of the space, or with stored "
                                                                     "scores in another unit (recorded as failed)"),
                   time_here: bool = typer.Option(False, "--time-here",
                                                  help="time each design on this machine, as the --device it was "
                                                       "registered as by `gennas latency measure` here, and keep "
                                                       "those within the budget by their timing"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
        """Guided generation: predicted accuracy and its 90 % interval (or a rank only), latency, table values.

        With --storage and --study the designer is rebuilt from that search (its task, device,
        budget and every verified result); --device and --max-latency-ms then replace the study's
        device and budget (either alone keeps the study's other), --seed its seed, and --task, if
        given, must be the study's."""
        from gennas.cli.checks import check_seed, check_storage, path_option
        from gennas.design.candidate import candidate_row, with_every_column
        from gennas.design.designer import Designer
        from gennas.design.notes import design_notes
        from gennas.errors import GennasError

        check_seed(seed)
        export = path_option(export_arg, "--export")
        if num_classes is not None and num_classes < 2:
            raise GennasError(f"--num-classes must be at least 2, got {num_classes}")
        if (storage is None) != (study is None):
            raise GennasError("--storage and --study go together: both name a stored designer search")
        # options that would change nothing were taken without a word
        if task is not None and not task.strip():
            raise GennasError("--task is empty: name a dataset (cifar10, cifar100) or your own task")
        if holdout is not None and study is not None:  # from_study restores the predictor the study searched with
            raise GennasError("--holdout goes without --study: the study's designer keeps the predictor it searched with")
        if force and study is None:
            raise GennasError("--force goes with --study (it designs from results verified on an earlier spec)")
        if latency_confidence is not None and study is None and max_latency_ms is None:
            raise GennasError("--latency-confidence sets how sure a latency budget is kept: it goes with --device "
                              "and --max-latency-ms")
        if storage is not None:
            check_storage(storage)
        if overwrite and export is None:
            raise GennasError("--overwrite replaces an export: it goes with --export DIR")
        if num_classes is not None and export is None:
            raise GennasError("--num-classes sets the classes of exported networks: it goes with --export DIR")
        if export is not None and export.exists() and not export.is_dir():
            raise GennasError(f"--export {export} is a file: name a folder (made if missing)")
        # timed here, the timing judges the budget: candidates are generated under the model's point
        # estimate (the 95 % bound refused a 14 ms budget that timed designs here met)
        from gennas.design.timed_here import TIME_HERE_GENERATION

        given_confidence = latency_confidence  # None: not given (a study's own is kept)
        latency_confidence = 0.95 if latency_confidence is None else latency_confidence
        generation_confidence = TIME_HERE_GENERATION if time_here else latency_confidence
        from gennas.design.budget import MissedCheck

        def build_designer(budget_ms: Optional[float] = None) -> Any:
            """The designer the options ask for; ``budget_ms`` replaces its budget (--time-here's pool)."""
            nonlocal device, max_latency_ms, task
            with warnings.catch_warnings():
                if time_here:  # the timings judge the budget, not the bound the pool is generated under: said below
                    warnings.simplefilter("ignore", MissedCheck)
                if study is not None:
                    # what is given replaces the study's, as in Designer.from_study: a new budget alone keeps
                    # the study's device (it was refused: "a latency budget needs a device"), and a confidence
                    # alone is applied (or refused) too: it was dropped without a word
                    overrides = {key: value for key, value in (("device", device), ("max_latency_ms", max_latency_ms))
                                 if value is not None}
                    if budget_ms is not None:
                        overrides["max_latency_ms"] = budget_ms
                    if time_here or given_confidence is not None:  # not given: the study's, as in from_study
                        overrides["latency_confidence"] = generation_confidence
                    if task is not None:
                        overrides["task"] = task  # checked against the study's
                    if seed is not None:
                        overrides["seed"] = seed
                    if generator is not None:
                        overrides["generator"] = generator
                    built = Designer.from_study(storage, study, space=space, force=force, **overrides)
                    if budget_ms is None:
                        device, max_latency_ms = built.device, built.max_latency_ms
                        # a study searched without a task (Designer(space).search): the task its designs name, the
                        # predictor's default (else the command line's); designer.task.name was an AttributeError
                        task = built.task.name if built.task is not None else \
                            getattr(built.predictor, "default_task", None) or "cifar10"
                    return built
                task = task or "cifar10"  # search's default too: the same command line designs what it searched for
                return Designer(space or "nb201", task=task, device=device,
                                max_latency_ms=max_latency_ms if budget_ms is None else budget_ms,
                                seed=0 if seed is None else seed, generator=generator or "diffusion",
                                latency_confidence=generation_confidence, predictor=held_out(space, holdout))

        designer = build_designer()
        assert task is not None  # build_designer named it (the study's, else cifar10)
        if given_confidence is not None and designer.budget is not None and designer.budget.exact:
            # it bounds an estimate: on a measured device it was taken without a word
            typer.echo(f"note: --latency-confidence {given_confidence:g} changes nothing on {designer.device}: its "
                       "latencies were measured, and the budget is judged by the measurements", err=True)
        if export is not None:
            from gennas.export import check_onnx

            check_onnx()  # before anything is designed or written: a missing extra leaves no half export
        if time_here:
            candidates = timed_designs(designer, n, latency_confidence, build_designer)
        else:
            candidates = designer.generate(n)
        bench = None
        if designer.space.benchmark:
            from gennas.bench import load_benchmark

            bench = load_benchmark(designer.space.benchmark)
        for note in design_notes(designer, candidates, task, space, time_here):
            note_line(note)
        judged = latency_confidence if time_here else designer.latency_confidence  # timed: the margin's
        rows = []
        for c in candidates:
            row = candidate_row(c)
            if device:
                # a measured latency (a bundled device's, a registered device's own timing) is no
                # estimate: it read "pred_ms" beside an equal table_ms, and a registered device's
                # timing stood in the bound column, below the estimate beside it
                row["pred_ms"] = None if c.latency_measured else c.predicted_latency_ms
                row["measured_ms"] = c.predicted_latency_ms if c.latency_measured else None
                row.update(bound_fields(c.latency_bound_ms, judged))  # what the budget was judged by
            if bench is not None and task in bench.datasets and task != holdout:  # held out: not read
                row["table_acc"] = bench.accuracy(c.arch, task)
            rows.append(row)
        if export is not None:
            export_designs(export, designer, candidates, rows, task, num_classes, storage, study, overwrite)
        # one schema for every row and every outcome: None where a design has no value
        rows = with_every_column(rows, candidates[0].unit if candidates else "%")
        direction = designer.loop.scale.direction
        if as_json:
            # which scores are best, on every row (a list of rows stays what scripts read): a
            # minimised study's rows read like accuracies, nowhere saying that lower is better
            print_json([{**row, "direction": direction} for row in rows])
        else:
            budget = f" under {max_latency_ms:g} ms on {device}" if max_latency_ms is not None else ""
            verified = sum(c.verified_score is not None for c in candidates)
            how = "predicted, not verified" if not verified else \
                f"predicted; {verified} of them verified by the study, column 'verified'"
            how += "; scores minimized: lower is better" if direction == "minimize" else ""
            print_table(f"{len(rows)} designed {designer.space.name} architectures for {task}{budget} ({how})",
                        printed_rows(rows))


def printed_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``design``'s JSON ``rows`` as its printed table shows them: a latency column no design fills
    is left out (the JSON keeps its keys), so are a relative score nothing needs and, where nothing
    is stated, the prediction columns (a rank-only table shows the ranks, not eight empty columns);
    the extrapolation flags are one column, the bound is headed by its confidence."""
    from gennas.cli.output import bound_column, extrapolation_column
    from gennas.design.candidate import statement_keys

    filled = {k for row in rows for k, v in row.items() if v is not None}
    stated = bool(filled & {"pred_acc", "pred_score"})
    unused = {"relative_score"} | (set() if stated else set(statement_keys("%")) - {"rank", "arch", "verified"})
    rows = [{k: v for k, v in row.items() if k in filled or not (k.startswith(LATENCY_COLUMNS) or k in unused)}
            for row in rows]
    return [bound_column(extrapolation_column(row)) for row in rows]


def held_out(space: str | None, holdout: str | None) -> Any:
    """``--holdout``: the shipped predictor trained without ``holdout``'s labels; None without it.
    `gennas design --task new-cifar100` designed with the predictor trained on cifar100 and ranked
    its optimum first, with no way to hold it out here."""
    if holdout is None:
        return None
    from gennas.spaces import resolve_space
    from gennas.surrogates.shipped_predictor import load_predictor

    return load_predictor(resolve_space(space or "nb201").name, holdout=holdout)


def export_designs(export: Path, designer: Any, candidates: list[Any], rows: list[dict[str, Any]], task: str,
                   num_classes: int | None, storage: str | None, study: str | None, overwrite: bool = False) -> None:
    """``--export``: write each design (trained weights where the study kept them; the others
    untrained, built as the study's evaluator built the networks it trained), fill each row's
    ``export`` and say in one line which ranks hold which. ``overwrite``: an export of other designs
    there is replaced (:func:`~gennas.cli.export_ranks.kept_ranks`), its ranks beyond these removed."""
    from gennas.cli.output import note as note_line
    from gennas.cli.export_ranks import (export_note, kept_ranks, rank_folder, refuse_other_classes, remove_stale,
                                         untrained_build, write_ranks)
    from gennas.datasets import classes_of
    from gennas.surrogates.measure import table_build_options

    build = untrained_build(designer.history, storage, study)
    classes = (num_classes or (build or {}).get("num_classes") or classes_of(task)
               or table_build_options(designer.space).get("num_classes", 10))
    # before any write: classes other than trained weights' and a folder of other designs are
    # refused; untrained ones start from the design's seed
    refuse_other_classes(candidates, designer.history, num_classes)
    from filelock import Timeout

    from gennas.errors import GennasError

    try:  # one export into a folder at a time: a second at once failed with "No such file or directory" (walk 48)
        with export_lock(export):
            kept = kept_ranks(export, candidates, classes, designer.seed, build, overwrite)
            trained = write_ranks(export, candidates, designer.history, classes, kept, designer.seed, build,
                                  device=designer.device, budget_ms=designer.max_latency_ms)
            removed = remove_stale(export, candidates) if overwrite else []  # after the new ones are written
    except Timeout:
        raise GennasError(f"another gennas export is writing to {export} now: wait for it, or export "
                          "elsewhere") from None
    if removed:
        typer.echo(f"note: {export}: removed the earlier export's {', '.join(removed)} (--overwrite)", err=True)
    for row, c in zip(rows, candidates):
        # one export may mix networks a search trained with untrained ones: say which
        weights = "trained weights" if trained[c.rank] else "initial weights"
        row["export"] = f"{rank_folder(export, c.rank)} ({weights})"
    note = export_note(trained, build, classes, designer.seed, designer.space.default_input_size)
    if note is not None:
        note_line(f"{export}: {note}")


def export_lock(export: Path) -> Any:
    """The lock the exports into ``export`` take (without waiting), in the system's temporary folder:
    none of gennas's files in the user's folder or home (exports on one machine share it); no lock
    where that folder cannot be written."""
    import contextlib
    import hashlib
    import os
    import tempfile

    from gennas.atomic_write import writers_lock

    locks = Path(tempfile.gettempdir()) / "gennas-export-locks"
    try:
        locks.mkdir(exist_ok=True)
    except OSError:
        return contextlib.nullcontext()
    with contextlib.suppress(OSError):  # shared by the users of a machine, as /tmp itself (umask aside)
        os.chmod(locks, 0o1777)
    if not os.access(locks, os.W_OK | os.X_OK):  # another user's folder: a lock there failed with a traceback
        return contextlib.nullcontext()
    key = hashlib.sha1(str(export.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return writers_lock(locks / key, 0)


def timed_designs(designer: Any, n: int, confidence: float, rebudgeted: Callable[[float], Any]) -> list[Any]:
    """``n`` designs within the designer's budget by their timing on this machine (``--time-here``,
    :mod:`gennas.design.timed_here`): of ``TIMED_POOL`` x ``n`` generated, in rank order, each
    judged at its timing times the margin a second timing reaches at ``confidence``; the pool is
    generated under the budget over that margin first (``rebudgeted(ms)``: the designer under ``ms``)."""
    import typer

    from gennas.cli.output import note as note_line
    from gennas.cli.output import progress_lines
    from gennas.design.timed_here import (SITTING_CELLS, TIMED_POOL, TIMINGS_PER_DESIGN, generating_to_time,
                                          keep_timed_within, local_registration, picked_by_missed_estimate,
                                          pool_to_time, registered_timer, sitting_speed)
    from gennas.errors import GennasError
    from gennas.surrogates.retiming import DRIFT_CONFIDENCE, highest_margin_confidence, recorded_margin

    if designer.device is None or designer.max_latency_ms is None:
        raise GennasError("--time-here times designs against a latency budget: give --device and --max-latency-ms "
                          "(or a study that has them)")
    record = local_registration(designer.device, designer.space)
    margin = recorded_margin(record, confidence)
    if math.isinf(margin):  # every design would time over it: 9 timed, none kept, exit 0
        pairs = len(record.get("retimed", []))
        raise GennasError(f"{designer.device!r} was timed a second time on {pairs} architectures, too few to bound a "
                          f"timing at {confidence:g}: give --latency-confidence {math.floor(highest_margin_confidence(pairs) * 1000) / 1000:g} "
                          "or less with --time-here")
    with warnings.catch_warnings(), generating_to_time():  # the pool's own shortfall: said below in the user's terms
        warnings.simplefilter("ignore", UserWarning)
        pool = pool_to_time(designer, rebudgeted, margin, TIMED_POOL * n)
    picked = picked_by_missed_estimate(designer.budget, record, designer.space)
    if picked is not None:
        note_line(picked)
    time_one = registered_timer(record, designer.space)
    speed = sitting_speed(record, time_one)
    if speed < 1.0 / recorded_margin(record, DRIFT_CONFIDENCE):  # faster than its noise explains
        typer.echo(f"warning: this machine runs at {speed:.2f}x its registered timings now ({SITTING_CELLS} of its "
                   "timed architectures again): designs kept at the budget in this sitting may run over it in a "
                   f"usual one (`gennas latency recheck --name {designer.device}`)", err=True)
    with progress_lines(len(pool), f"timing up to {len(pool)} designs on this machine as {designer.device}") as step:
        timed = keep_timed_within(pool, time_one, designer.max_latency_ms, margin, n, step)
    tried = len(timed.kept) + len(timed.over)
    over = ""
    if timed.over:  # judged at timing x margin: a 16 ms timing read "ran over" a 20 ms budget
        fastest = min(ms for _, ms in timed.over)
        over = (f"; {len(timed.over)} left out, judged over it (timed {fastest:.3g} ms and up, x {margin:.3g} "
                f"= {fastest * margin:.3g} ms and up)")
    typer.echo(f"note: timed here: {len(timed.kept)} of the {tried} designs timed are within "
               f"{designer.max_latency_ms:g} ms by the slower of {TIMINGS_PER_DESIGN} timings x {margin:.3g} (the "
               f"margin a second timing reaches at {confidence:.0%}; a later sitting can run slower: `gennas latency "
               f"recheck --name {designer.device}`){over}", err=True)
    if not timed.kept and timed.over:
        # as the plain path's impossible budget: an error naming the fastest, not an empty table and
        # exit 0 (mbv3 on a registered device: refused without --time-here, none kept with it)
        from gennas.generators.guidance import InfeasibleBudget

        design, ms = min(timed.over, key=lambda item: item[1])
        raise InfeasibleBudget(f"none of the {tried} designs timed here as {designer.device} is within "
                               f"{designer.max_latency_ms:g} ms: the fastest, {design.arch.to_string()}, timed {ms:.3g} ms "
                               f"x {margin:.3g} = {ms * margin:.3g} ms; a looser budget or a lower "
                               "--latency-confidence admits more")
    if len(timed.kept) < n:
        typer.echo(f"note: only {len(timed.kept)} of the {n} designs asked for are within the budget among the "
                   f"{len(pool)} generated", err=True)
    return timed.kept


