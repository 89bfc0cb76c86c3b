"""Figures of stored searches: ``gennas report`` and :meth:`gennas.search.SearchResult.plot`.

Reads studies written by :func:`gennas.search.run_search` (one optuna trial per verified
architecture, the settings in the study's user attributes) and writes PNG figures with
matplotlib's Agg canvas (no display, no global backend switch):

* ``best_so_far.png``: best score after each verification, one line per study (labelled by
  its ``method``), so several methods run on one storage are compared at a glance; for a
  latency-constrained study only results within the budget count (table latency).
* ``predicted_vs_verified.png``: predicted against verified accuracy with the 90 % intervals:
  stored predictions (``metadata["predicted_accuracy"]``; no search stores them), else what the
  shipped designer states before anything is verified (computed now), and the figure says so.
* ``accuracy_latency.png`` (studies with a latency budget): verified accuracy against latency on the budget's
  device as the budget judged it (the table's measurement, else the latency model's upper bound), each
  budget as a vertical line, and the Pareto front of each device's points.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from gennas.design.scores import ACCURACY_KINDS  # result kinds whose scores are accuracies in %
from gennas.atomic_write import replaced_on_exit
from gennas.display import Figures
from gennas.errors import GennasError, MissingDependency, install_hint
from gennas.evaluators.base import Result
from gennas.fronts import knows_device, latencies, pareto_front
from gennas.search.runs import StudyRun, load_runs

PREDICTED_KEY = "predicted_accuracy"  # a result's stored prediction (accuracy in %; 90 % bounds optional)


@dataclass
class Report:
    """The figures written (paths) and what a reader should know about them; in a notebook, the
    figures and the notes (``_repr_html_``)."""

    files: list[Path]
    notes: list[str]

    def _repr_html_(self) -> str:
        return Figures(self.files)._repr_html_() + "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)


# ---------------------------------------------------------------- figures
def _figure(width: float = 6.4, height: float = 4.2) -> Any:
    """A matplotlib Figure drawn on the Agg canvas (files only; pyplot's global state untouched)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependency(f"figures need matplotlib: {install_hint('plot')}") from exc
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replaced_on_exit(path) as tmp:  # renamed over the name: a link planted there is replaced, not followed
            fig.savefig(tmp, format="png")
    except OSError as exc:
        raise GennasError(f"cannot write figure {path}: {exc}") from None
    return path


def _labels(runs: Sequence[StudyRun]) -> list[str]:
    """Method names, with the study name where two studies share a method."""
    methods = [r.method for r in runs]
    return [m if methods.count(m) == 1 else f"{m} ({r.name})" for m, r in zip(methods, runs)]


def best_so_far(run: StudyRun) -> tuple[np.ndarray, str]:
    """Best score after each verification ``(len(results),)`` (NaN before the first success)
    and what counts: for a run with a latency budget, only results within it."""
    ok = np.array([not r.failed for r in run.results], dtype=bool)
    what = "best score"
    lat = latencies(run, [r.arch for r in run.results]) if run.budget_ms is not None else None
    if lat is not None:
        ok &= lat[0] <= run.budget_ms
        what = f"best within {run.budget_ms:g} ms ({lat[1]})"
    elif run.budget_ms is not None:
        what = f"best score (latencies on {run.device} unknown here: every result counts)"
    sign = -1.0 if run.direction == "minimize" else 1.0
    out, best = np.full(len(run.results), np.nan), -math.inf
    for i, r in enumerate(run.results):
        if ok[i]:
            best = max(best, sign * r.score)
        if best > -math.inf:
            out[i] = sign * best
    return out, what


#: line styles and markers cycled over the studies of one figure
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "v", "D", "x")
#: scores spanning more than this factor are drawn on a log scale
LOG_RANGE = 1e3


def value_scale(values: np.ndarray) -> str:
    """``"linear"``, or ``"log"`` / ``"symlog"`` (signed) for finite ``values`` ``(n,)`` whose
    magnitudes span more than :data:`LOG_RANGE` (a zero-cost proxy's scores)."""
    finite = np.abs(values[np.isfinite(values)])
    nonzero = finite[finite > 0]
    if len(nonzero) < 2 or nonzero.max() / nonzero.min() <= LOG_RANGE:
        return "linear"
    return "log" if np.all(values[np.isfinite(values)] > 0) else "symlog"


def plot_best_so_far(runs: Sequence[StudyRun], path: Path) -> Path:
    """One line per study: best score against the number of verifications."""
    fig = _figure()
    ax = fig.add_subplot()
    whats, curves = set(), []
    for i, (run, label) in enumerate(zip(runs, _labels(runs))):
        curve, what = best_so_far(run)
        whats.add(what)
        curves.append(curve)
        # dashes and markers of their own: two studies with equal curves hid one another entirely
        ax.step(np.arange(1, len(curve) + 1), curve, where="post", label=f"{label} (n={len(curve)})",
                linestyle=LINE_STYLES[i % len(LINE_STYLES)], marker=MARKERS[i % len(MARKERS)],
                markevery=max(1, len(curve) // 8), markersize=4, linewidth=max(0.8, 2.0 - 0.4 * i))
    scale = value_scale(np.concatenate(curves) if curves else np.zeros(0))
    if scale != "linear":  # synflow's 1e49 beside another method's 5e36 drew the latter flat at 0
        ax.set_yscale(scale)
    ax.set_xlabel("verifications")
    ax.set_ylabel(_score_label(runs) + ("" if scale == "linear" else f" ({scale} scale)"))
    # wrapped: a budget on a registered device says what judged it, and ran off both edges
    ax.set_title(textwrap.fill("; ".join(sorted(whats)) + " after each verification", 90), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _score_label(runs: Sequence[StudyRun]) -> str:
    kinds = {r.kind for run in runs for r in run.results if not r.failed}
    tasks = sorted({str(run.attrs.get("task")) for run in runs if run.attrs.get("task")})
    if kinds and kinds <= set(ACCURACY_KINDS):
        # a supernet's accuracy is its estimate with shared weights, not a trained network's
        what = "supernet-estimated accuracy" if kinds == {"supernet"} else "accuracy"
        return f"{what} (%){' on ' + ', '.join(tasks) if tasks else ''}"
    return "score (" + ", ".join(sorted(kinds)) + ")"


def predictions(run: StudyRun) -> tuple[list[Result], np.ndarray, np.ndarray | None, np.ndarray | None, str] | None:
    """``(results, predicted, low, high, source)`` for the run's successful accuracy results:
    the predictions stored with them, else the pretrained designer's (computed now); None when
    there are none and the designer cannot predict this task."""
    done = [r for r in run.results if not r.failed and r.kind in ACCURACY_KINDS]
    if not done:
        return None
    stored = [r.metadata.get(PREDICTED_KEY) for r in done]
    has = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in stored]
    if any(has):
        # a search stores what its designer stated before verifying; the first results, verified
        # before it stated scores (a rank only), have none: left out, not predicted now by a
        # predictor that has since learned them (a user's study had no figure at all)
        if not all(has):
            run.notes.append(f"{run.name}: {has.count(False)} of {len(done)} results were verified before the "
                             "designer stated scores (a rank only): not in the predicted-vs-verified figure")
        done = [r for r, h in zip(done, has) if h]
        bounds: list[Any] = [r.metadata.get(f"{PREDICTED_KEY}_interval") for r in done]  # stored JSON
        ok = all(isinstance(b, list) and len(b) == 2 for b in bounds)
        low = np.array([b[0] for b in bounds], dtype=np.float64) if ok else None
        high = np.array([b[1] for b in bounds], dtype=np.float64) if ok else None
        values = np.array([v for v, h in zip(stored, has) if h], dtype=np.float64)
        return done, values, low, high, "predicted by the search before verifying"
    from gennas.design.pretrained import ships_predictor
    from gennas.search.studies import TASK_ATTR

    # a search stores none: after results the designer's statements are cross-fitted, five refits a step
    why = (f"{run.space.name} ships no pretrained predictor to predict them now" if not ships_predictor(run.space)
           else "for a task described by images or samples the pretrained predictor states ranks, not accuracies"
           if isinstance(run.attrs.get(TASK_ATTR), dict) else None)
    if why:
        run.notes.append(f"{run.name}: no predictions stored by the search, and {why} (`gennas design --storage ... "
                         f"--study {run.name}` states what the search learned for unverified designs)")
        return None
    from gennas.surrogates.calibration import Predictions, pretrained_reach
    from gennas.surrogates.stored_calibration import CalibratedPredictor
    from gennas.surrogates.shipped_predictor import load_predictor

    task = run.attrs.get("learned_task", run.attrs.get("task"))
    # what Designer.predictions states before anything is verified: the shipped predictor,
    # calibrated on cells held out from its training (the designer itself is not built here)
    try:
        predictor = load_predictor(run.space.name)
        value, spread = predictor.predict([r.arch for r in done], task)
        calibration = CalibratedPredictor.load(predictor, run.space).calibration(task)
    except GennasError as exc:
        run.notes.append(f"{run.name}: no predictions stored and the pretrained predictor cannot predict: {exc}")
        return None
    p = Predictions.of(value, spread, calibration, pretrained_reach(run.space, task))
    if p.low is None:
        run.notes.append(f"{run.name}: the pretrained predictor has no calibration for {task!r}: raw values, no interval")
    source = "pretrained designer's calibrated prediction (none stored by the search)"
    assert p.mean is not None  # Predictions.of always states a mean
    if {r.kind for r in done} == {"table"} and task in predictor.tasks:
        source += f"\nthe predictor was trained on this {task} table; intervals calibrated on held-out cells"
    return done, p.mean, p.low, p.high, source


def plot_predicted(runs: Sequence[StudyRun], path: Path) -> Path | None:
    """Predicted against verified accuracy, with 90 % intervals where known; None when no run
    has accuracies with predictions."""
    fig = _figure(5.2, 5.0)
    ax = fig.add_subplot()
    sources, lo, hi, drawn = set(), math.inf, -math.inf, False
    for run, label in zip(runs, _labels(runs)):
        found = predictions(run)
        if found is None:
            continue
        done, pred, low, high, source = found
        sources.add(source)
        verified = np.array([r.score for r in done])
        yerr = None if low is None else np.vstack([np.maximum(pred - low, 0), np.maximum(high - pred, 0)])
        inside = "" if low is None else f", {np.mean((verified >= low) & (verified <= high)):.0%} in 90 % interval"
        ax.errorbar(verified, pred, yerr=yerr, fmt="o", ms=4, alpha=0.7, elinewidth=0.8,
                    label=f"{label} (n={len(done)}{inside})")
        values = np.concatenate([verified, pred] + ([low, high] if low is not None else []))
        lo, hi, drawn = min(lo, float(values.min())), max(hi, float(values.max())), True
    if not drawn:
        return None
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="grey", lw=0.8, ls="--", label="predicted = verified")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("verified accuracy (%)")
    ax.set_ylabel("predicted accuracy (%)")
    # each line of a source wrapped alone: filled whole, its clauses ran together on one line
    ax.set_title("\n".join(textwrap.fill(line, 70) for source in sorted(sources) for line in source.split("\n")),
                 fontsize=8)
    ax.grid(alpha=0.3)
    fig.legend(fontsize=7, loc="outside lower center")  # below the axes: long labels were cut off inside
    return _save(fig, path)


def plot_latency(runs: Sequence[StudyRun], path: Path) -> Path | None:
    """Accuracy against latency of the runs with a budget (None if none): points, budgets, a front per device."""
    budgeted = [(run, label) for run, label in zip(runs, _labels(runs)) if run.budget_ms is not None]
    if not budgeted:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    all_lat, all_acc, on, sources, devices = [], [], [], set(), set()
    for run, label in budgeted:
        done = [r for r in run.results if not r.failed]
        found = latencies(run, [r.arch for r in done])
        if found is None:
            continue
        lat, source = found
        acc = np.array([r.score for r in done])
        sources.add(source)
        devices.add(cast(str, run.device))  # a budget's device
        within = int(np.sum(lat <= run.budget_ms))
        ax.scatter(lat, acc, s=16, alpha=0.75, label=f"{label}: {within}/{len(done)} within budget")
        all_lat.append(lat)
        all_acc.append(acc)
        on.append(run.device)
    if not all_lat:
        return None
    # one front per device: a front across two devices' latencies traded one device's ms for another's
    sign = 1.0 if budgeted[0][0].direction == "maximize" else -1.0
    for i, device in enumerate(sorted(devices)):
        lat = np.concatenate([x for x, d in zip(all_lat, on) if d == device])
        acc = np.concatenate([x for x, d in zip(all_acc, on) if d == device])
        front = pareto_front(lat, sign * acc)
        ax.step(lat[front], acc[front], where="post", color="black", lw=1.0, ls=LINE_STYLES[i % len(LINE_STYLES)],
                label="Pareto front" + (f" on {device}" if len(devices) > 1 else ""))
    for device, budget in sorted({(run.device, run.budget_ms) for run, _ in budgeted if run.device in devices}):
        ax.axvline(cast(float, budget), color="red", ls="--", lw=1.0, label=f"budget {budget:g} ms on {device}")
    judged = " (what judged the budget)"  # said once, and wrapped: per study it ran off the figure
    said = " / ".join(sorted({x.removesuffix(judged) for x in sources})) + judged * any(x.endswith(judged) for x in sources)
    ax.set_xlabel(textwrap.fill(f"{said} on {', '.join(sorted(devices))} (ms)", 80))
    ax.set_ylabel(_score_label(runs))
    ax.set_title("verified architectures against latency", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def scored_as(run: StudyRun, with_space: bool = False) -> str:
    """What a run's scores are, for grouping its figures: the task learned and the evaluator
    (``cifar10 table``, ``cifar10-synflow proxy:synflow``), and ``with_space`` its space (studies of
    several spaces: synflow of nb201, darts and a user's space, not comparable, shared one axis)."""
    attrs = run.attrs
    task = attrs.get("learned_task") or attrs.get("task") or "?"
    evaluator = attrs.get("evaluator") or "+".join(sorted({r.kind for r in run.results if not r.failed})) or "?"
    return f"{run.space.name} {task} {evaluator}" if with_space else f"{task} {evaluator}"


def _figures(runs: Sequence[StudyRun], folder: Path, suffix: str = "") -> Report:
    """The figures the runs support, named with ``suffix``, and why any is missing."""
    files: list[Path] = []
    notes: list[str] = []
    if any(not r.failed for run in runs for r in run.results):
        files.append(plot_best_so_far(runs, folder / f"best_so_far{suffix}.png"))
    else:  # it drew empty axes from -0.04 to 0.04 labelled "score ()"
        notes.append("no best-so-far figure: no verification succeeded (the study table counts the failed ones)")
    for made, missing in ((plot_predicted(runs, folder / f"predicted_vs_verified{suffix}.png"),
                           "no predicted-vs-verified figure: no accuracy results with predictions"),
                          (plot_latency(runs, folder / f"accuracy_latency{suffix}.png"),
                           "no accuracy-latency figure: no study has a latency budget (--device/--max-latency-ms) on a "
                           "device known here")):
        if made is None:
            notes.append(missing)
        else:
            files.append(made)
    unknown = [run for run in runs if run.budget_ms is not None and not knows_device(run)]
    if unknown:
        devices, names = ", ".join(sorted({str(r.device) for r in unknown})), ", ".join(r.name for r in unknown)
        notes.append(f"left out of the accuracy-latency figure: {names} (device {devices} not known here)")
    return Report(files, notes)


#: the names of the figures a report writes (``NAME.png``, or ``NAME-GROUP.png`` per group of studies)
FIGURE_NAMES = ("best_so_far", "predicted_vs_verified", "accuracy_latency")


def earlier_figures(folder: Path, written: Sequence[Path]) -> list[Path]:
    """The files in ``folder`` named as a report's figures (:data:`FIGURE_NAMES`) that are not in
    ``written``: an earlier report's, which would read as this one's."""
    if not folder.is_dir():
        return []
    own = {p.resolve() for p in written}
    return sorted(p for name in FIGURE_NAMES for p in [folder / f"{name}.png", *folder.glob(f"{name}-*.png")]
                  if p.is_file() and not p.is_symlink() and p.resolve() not in own)


def write_report(runs: Sequence[StudyRun], out: str | Path) -> Report:
    """Write every figure that the runs support into folder ``out``; returns the paths and notes.
    Studies whose scores mean different things (another task or evaluator) get
    figures of their own (one axis held synflow's 1e49 and accuracies in %, one Pareto front
    cifar10 and cifar100 cells). Figures of a report's names that this one did not write are
    removed, and a note names them: an earlier report's ``accuracy_latency.png`` stayed beside
    a note "no accuracy-latency figure"; no other file is touched."""
    if not runs:
        raise GennasError("no studies to report")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise GennasError(f"the report's folder {folder} is a file: name a folder (made if missing)")
    groups: dict[str, list[StudyRun]] = {}
    spaces = len({run.space.name for run in runs})
    for run in runs:
        groups.setdefault(scored_as(run, spaces > 1), []).append(run)
    if len(groups) == 1:
        made = _figures(runs, folder)
        files, notes = made.files, made.notes
    else:
        files, notes = [], [f"the studies score {len(groups)} different things (task, evaluator): one set "
                            f"of figures each, named by it: {'; '.join(groups)}"]
        for key, members in groups.items():
            made = _figures(members, folder, "-" + figure_suffix(key, groups))
            files += made.files
            notes += [f"{key}: {n}" for n in made.notes]
    notes += [n for run in runs for n in run.notes]
    stale = earlier_figures(folder, files)
    try:
        for path in stale:
            path.unlink()
    except OSError as exc:
        raise GennasError(f"cannot remove an earlier report's figure {exc.filename}: {exc.strerror or exc}") from None
    if stale:
        notes.append(f"removed {len(stale)} figure{'s' * (len(stale) != 1)} an earlier report left in {folder}: "
                     f"{', '.join(p.name for p in stale)}")
    return Report(files, notes)


def report(storage: Any, studies: Sequence[str] | None = None, out: str | Path = "gennas-report") -> Report:
    """Figures of the studies in ``storage`` (all, or those named) written into ``out``."""
    return write_report(load_runs(storage, studies), out)


def figure_suffix(key: str, keys: Iterable[str]) -> str:
    """The part of a figure's file name naming group ``key`` (task, evaluator): its safe characters,
    and a short hash where another key of ``keys`` has the same ones, or the same in another case
    (tasks 'tâche' and 'tèche' wrote one file, one figure lost; 'Cifar10' and 'cifar10' are one file
    on macOS and Windows: user walk 46)."""
    def safe(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)

    if sum(safe(other).casefold() == safe(key).casefold() for other in keys) < 2:
        return safe(key)
    return f"{safe(key)}-{hashlib.sha1(key.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
