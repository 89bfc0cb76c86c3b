"""``gennas design``: ranked architectures for a task (and a latency budget), in seconds."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import typer

#: the latency columns of a design: an estimate, a measurement, the bound the budget was judged by
LATENCY_COLUMNS = ("pred_ms", "measured_ms", "bound_ms")


def register(app: typer.Typer) -> None:
    from gennas.cli.output import (candidate_row, extrapolation_column, friendly, print_json, print_table,
                                   shared_statement_note)

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
                   generator: str = typer.Option("diffusion", "--generator", help="diffusion or vae"),
                   seed: Optional[int] = typer.Option(None, "--seed", help="\\[default: 0; with --study: the study's]"),
                   export: Optional[Path] = typer.Option(None, "--export", help="folder: write each as string, PyTorch and ONNX"),
                   num_classes: Optional[int] = typer.Option(None, "--num-classes",
                                                             help="with --export: classes of the exported networks, 2 or more \\[default: the "
                                                                  "task's dataset's, else those the space's latency "
                                                                  "table was timed with, else 10]"),
                   storage: Optional[str] = typer.Option(None, "--storage", help="with --study: design from a stored search"),
                   study: Optional[str] = typer.Option(None, "--study", help="a designer search's study name"),
                   force: bool = typer.Option(False, "--force", help="with --study: design from results verified "
                                                                     "on an earlier spec of the space"),
                   time_here: bool = typer.Option(False, "--time-here",
                                                  help="time each design on this machine, as the --device it was "
                                                       "registered as by `gennas latency measure` here, and keep "
                                                       "those within the budget by their timing"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
        """Guided generation: predicted accuracy ± std, latency, and table values where known.

        With --storage and --study the designer is rebuilt from that search (its task, device,
        budget and every verified result); --device and --max-latency-ms then replace the study's
        device and budget (either alone keeps the study's other), --seed its seed, and --task, if
        given, must be the study's."""
        from gennas.cli.checks import check_seed
        from gennas.design.designer import Designer
        from gennas.design.statement import MIN_STATED
        from gennas.errors import GennasError

        check_seed(seed)
        if num_classes is not None and num_classes < 2:
            raise GennasError(f"--num-classes must be at least 2, got {num_classes}")
        if (storage is None) != (study is None):
            raise GennasError("--storage and --study go together: both name a stored designer search")
        if num_classes is not None and export is None:
            raise GennasError("--num-classes sets the classes of exported networks: it goes with --export DIR")
        if export is not None and export.exists() and not export.is_dir():
            raise GennasError(f"--export {export} is a file: name a folder (made if missing)")
        # timed here, the timing judges the budget: candidates are generated under the model's point
        # estimate (the 95 % bound refused a 14 ms budget that timed designs here met, a user walk)
        from gennas.design.timed_here import TIME_HERE_GENERATION

        given_confidence = latency_confidence  # None: not given (a study's own is kept)
        latency_confidence = 0.95 if latency_confidence is None else latency_confidence
        generation_confidence = TIME_HERE_GENERATION if time_here else latency_confidence
        if study is not None:
            # what is given replaces the study's, as in Designer.from_study: a new budget alone keeps
            # the study's device (it was refused: "a latency budget needs a device"), and a confidence
            # alone is applied (or refused) too: it was dropped without a word, a user walk
            overrides = {key: value for key, value in (("device", device), ("max_latency_ms", max_latency_ms))
                         if value is not None}
            if time_here or given_confidence is not None:  # not given: the study's, as in from_study
                overrides["latency_confidence"] = generation_confidence
            if task is not None:
                overrides["task"] = task  # checked against the study's
            if seed is not None:
                overrides["seed"] = seed
            designer = Designer.from_study(storage, study, space=space, generator=generator, force=force, **overrides)
            task, device, max_latency_ms = designer.task.name, designer.device, designer.max_latency_ms
        else:
            task = task or "cifar10"  # search's default too: the same command line designs what it searched for
            designer = Designer(space or "nb201", task=task, device=device, max_latency_ms=max_latency_ms,
                                seed=0 if seed is None else seed, generator=generator,
                                latency_confidence=generation_confidence)
        if export is not None and export.is_dir() and any(export.glob("rank[0-9][0-9]")):
            # a new export over an old one replaced some ranks and left the others: a mixed folder
            raise GennasError(f"--export {export} already holds an export (rank01, ...); choose a new or empty folder")
        if export is not None:
            from gennas.export import check_onnx

            check_onnx()  # before anything is designed or written: a missing extra leaves no half export
        if time_here:
            candidates = timed_designs(designer, n, latency_confidence)
        else:
            candidates = designer.generate(n)
        bench = None
        if designer.space.benchmark:
            from gennas.bench import load_benchmark

            bench = load_benchmark(designer.space.benchmark)
        if any(c.predicted_accuracy is None and not c.unstated_below for c in candidates):
            typer.echo(rank_only_note(designer, task, space, MIN_STATED), err=True)
        for note in (unstated_note(candidates), below_results_note(designer, candidates),
                     shared_statement_note(candidates), no_interval_note(designer, candidates),
                     measured_designs_note(designer, candidates, time_here)):
            if note:
                typer.echo(note, err=True)
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
                row[f"bound_ms_{judged:.0%}"] = c.latency_bound_ms  # what the budget was judged by
            if bench is not None and task in bench.datasets:
                row["table_acc"] = bench.accuracy(c.arch, task)
            rows.append(row)
        if export is not None:
            from gennas.datasets import classes_of
            from gennas.export import export_candidate, trained_weights_of
            from gennas.surrogates.measure import table_build_options

            classes = num_classes or classes_of(task) or table_build_options(designer.space).get("num_classes", 10)
            for row, c in zip(rows, candidates):
                folder = export / f"rank{c.rank:02d}"
                # trained weights where a search kept them
                export_candidate(c.arch, folder, designer.history, num_classes=classes)
                # one export may mix networks a search trained with untrained full-size ones: say which
                trained = trained_weights_of(c.arch, designer.history) is not None
                row["export"] = f"{folder} ({'trained weights' if trained else 'initial weights'})"
        if as_json:
            print_json(rows)
        else:
            budget = f" under {max_latency_ms:g} ms on {device}" if max_latency_ms is not None else ""
            verified = sum(c.verified_score is not None for c in candidates)
            how = "predicted, not verified" if not verified else \
                f"predicted; {verified} of them verified by the study, column 'verified'"
            # a latency column no design fills is left out of the table (the JSON keeps its keys)
            filled = {k for row in rows for k, v in row.items() if v is not None}
            rows = [{k: v for k, v in row.items() if k in filled or not k.startswith(LATENCY_COLUMNS)} for row in rows]
            print_table(f"{len(rows)} designed {designer.space.name} architectures for {task}{budget} ({how})",
                        [extrapolation_column(row) for row in rows])


def timed_designs(designer: Any, n: int, confidence: float) -> list[Any]:
    """``n`` designs within the designer's budget by their timing on this machine (``--time-here``,
    :mod:`gennas.design.timed_here`): of ``TIMED_POOL`` x ``n`` generated, in rank order, each
    judged at its timing times the margin a second timing reaches at ``confidence``."""
    import typer

    from gennas.cli.output import progress_lines
    from gennas.design.timed_here import (SITTING_CELLS, TIMED_POOL, TIMINGS_PER_DESIGN, keep_timed_within,
                                          local_registration, registered_timer, sitting_speed)
    from gennas.errors import GennasError
    from gennas.surrogates.retiming import DRIFT_CONFIDENCE, highest_margin_confidence, recorded_margin

    if designer.device is None or designer.max_latency_ms is None:
        raise GennasError("--time-here times designs against a latency budget: give --device and --max-latency-ms "
                          "(or a study that has them)")
    record = local_registration(designer.device, designer.space)
    margin = recorded_margin(record, confidence)
    if math.isinf(margin):  # every design would time over it: 9 timed, none kept, exit 0 (a user walk)
        pairs = len(record.get("retimed", []))
        raise GennasError(f"{designer.device!r} was timed a second time on {pairs} architectures, too few to bound a "
                          f"timing at {confidence:g}: give --latency-confidence {math.floor(highest_margin_confidence(pairs) * 1000) / 1000:g} "
                          "or less with --time-here")
    with warnings.catch_warnings():  # the pool's own shortfall, in the generation's terms: said below in the user's
        warnings.simplefilter("ignore", UserWarning)
        pool = designer.generate(TIMED_POOL * n)
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
        # exit 0 (mbv3 on a registered device: refused without --time-here, none kept with it, a walk)
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


def measured_designs_note(designer: Any, candidates: Sequence[Any], time_here: bool) -> str | None:
    """Where designs are architectures the device's own timings measured (mbv3's table subnets, a
    registered device's timed cells), that they join the guided samples only when those hold too
    few within the budget, so a looser budget can return designs predicted worse (a user walk:
    mbv3 on cpu_ort_1t, 8 ms 26.6, 9 ms 20.7, 12 ms 23.6); None otherwise."""
    budget = designer.loop.budget
    if time_here or budget is None or budget.exact or not any(c.latency_measured for c in candidates):
        return None
    measured = sum(c.latency_measured for c in candidates)
    return (f"note: {measured} of these designs are architectures timed on {budget.device} (judged by their timing), "
            "which join the guided samples only when those hold too few within the budget: a looser budget can "
            "return designs predicted worse (README, \"A looser budget can return designs predicted worse\")")


def no_interval_note(designer: Any, candidates: Sequence[Any]) -> str | None:
    """Why unverified designs state a score with no interval, where that is so (the columns read
    "-" without a word, after a search hint had promised intervals); None otherwise."""
    bare = [c for c in candidates if c.verified_score is None and c.predicted_accuracy is not None and c.interval is None]
    if not bare:
        return None
    if not designer.loop.pretrained.is_trained:
        why = ("the designer learned this task from scratch (its predictor started untrained), and calibrating "
               "an interval would train a network per fold of the results")
    else:
        why = "nothing calibrated its predictor's spread for this task"
    designs = "1 unverified design states" if len(bare) == 1 else f"{len(bare)} unverified designs state"
    return f"note: {designs} a score with no interval: {why}"


def unstated_note(candidates: Sequence[Any]) -> str | None:
    """Why some designs state no accuracy beside stated ones: below every verified result further
    than anything tells how far the truth falls (:mod:`gennas.design.source_line`); None otherwise."""
    unstated = sum(c.unstated_below for c in candidates)
    if not unstated:
        return None
    return (f"note: {unstated} of the designs lie below every verified result, further than the results and the "
            "line to the measured tables tell how far the truth falls: no accuracy is stated for them (ranked by "
            "the model); verify some of them, or search on, to state them")


def below_results_note(designer: Any, candidates: Sequence[Any]) -> str | None:
    """Where designs below every verified result state an accuracy on a task no shipped calibration
    checks (a new dataset): say that their statements extrapolate and where that failed. After a
    search the results are its picks, and the line to the measured tables that states the designs
    below them is flattened by the search's own selection (docs/calibration.md, "Where the line's
    error comes from"); None elsewhere."""
    below = [c for c in candidates if c.below_calibration and c.verified_score is None
             and c.predicted_accuracy is not None]
    if not below or not designer.history or designer.has_stored_calibration:
        return None
    return (f"note: {len(below)} of the designs lie below every verified result (flagged below): their accuracy "
            "extrapolates the results downwards and is not checked there; after a search of 20-30 verifications "
            "on a held-out table, such intervals held from 3 to 99 % of the designs (README, \"After searches "
            "other than the measured one\"). Verify a few of them before trusting the figures.")


def rank_only_note(designer: Any, task: str, space: str | None, min_stated: int) -> str:
    """Why ``design`` states ranks only, and the commands that would let it state scores."""
    from gennas.design.pretrained import saved_results

    known = list(getattr(designer.predictor, "tasks", []))
    # a user's space has no measured tables: its notes named them (a user walk, 2026-12-05)
    ranked_by = "what the results and the tables say" if designer.space.benchmark else "the predictor refitted on the results"
    if designer.history:
        ok = [r for r in designer.history if not r.failed]
        budget = designer.loop.budget
        if budget is not None and ok:
            # under a budget a statement learns from the results within it (README, "Statements under
            # a budget set after the search"): 24 differing results, none within, read "needs 10 ... differ"
            within = [r for r, fits in zip(ok, budget.within([r.arch for r in ok])) if fits]
            if len(within) < min_stated:
                return (f"note: no score is stated on task {task!r}: under a budget a statement learns from the "
                        f"results within it, and {len(within)} of the {len(ok)} successful results are within "
                        f"{budget.max_latency_ms:g} ms on {budget.device} ({min_stated} whose scores differ are "
                        f"needed); the designs are ranked by {ranked_by}. Verify designs "
                        "under this budget (a search with it) to state scores.")
        return (f"note: no score is stated on task {task!r} from {len(ok)} successful results: a calibrated "
                f"statement needs {min_stated} verified architectures whose scores differ; the designs are ranked "
                f"by {ranked_by}.")
    saved = saved_results(designer.space, task)
    if task in known and saved is not None:  # a predictor a search saved, after too few results
        return (f"note: the predictor a search saved for {designer.space.name} learned task {task!r} from {saved} "
                f"results; a statement needs {min_stated}: the designs are ranked only. Verify more (a longer "
                "`gennas search --method designer`, or Designer.tell) to state scores.")
    # not an error (what transfers still ranks), but a typo in a dataset name must be visible (a name
    # close to a known one is asked about by the designer's own warning)
    where = "" if space in (None, "nb201") else f" --space {space}"
    return (f"note: the predictor was not trained on task {task!r} (it knows: {', '.join(known) or 'none'}); the "
            "designs are ranked by what transfers, with no accuracy claimed. To learn the task, verify some "
            f"and design from them: `gennas search{where} --method designer --task {task} --evaluator ... "
            "--storage runs.db`, then `gennas design --storage runs.db --study <the study it names>` (a proxy "
            f"evaluator's scores are learned as a task of their own, e.g. '{task}-synflow'), or Designer.search "
            "with your own evaluator.")
