"""Do the designer's predictions mean what they say? Calibration checked against the bundled tables.

For cifar10 and cifar100, with the shipped predictor (``default``: trained on 2,000 cells of both)
and with the holdout predictor that never saw the dataset's labels (``holdout``; its task named as a
new dataset, ``new-cifar100``, so the table's range is not the designer's either), in four states:

* ``pretrained``: nothing verified. The default predictor's calibration (stored in
  ``gennas/data/calibration_nb201.json.gz``) is fitted on the cells whose functional class holds
  none of its 2,000 training cells. To judge it honestly, every cell here is scored by a
  calibration fitted *without* it: the held-out cells are split into two halves by class, each
  half is scored by the calibration fitted on the other. ``raw`` is the predictor before
  calibration (interval: mean ± 1.645 ensemble std). The holdout predictor knows nothing of the
  dataset: the designer states ranks only (no accuracy).
* ``told 10`` / ``told 50``: random cells verified by the table and told to the designer (one
  batch); intervals from the designer's cross-fitted calibration on those results.
* ``search 20``: after ``designer.search(table, budget=20, batch_size=5)``.
* ``scratch``: a from-scratch designer (untrained predictor, task named as a new dataset) after
  ``designer.search(table, budget=20)`` and ``budget=50`` at batch 1. Its statement is
  cross-fitted as after a pretrained start, each copy trained from scratch (nothing stated above
  the best result nor of a design unlike every result: "unstated top20 %").

Per row: mean (predicted - true) and coverage of the 90 % interval over all cells (not told) and
over the top 20 designs that were not verified (after results ``generate`` ranks a verified
design by its measurement and states it beside the prediction: its interval promises nothing);
the interval's mean width there; the mean true accuracy of ``generate(20)``'s designs and of its
first; the highest prediction over the space against the task's best. Targets: top-20 bias
within 0.5 points, coverage between 80 % and 95 %. Designs stated with no accuracy (below every
result, further than they tell how far the truth falls: ``gennas.design.source_line``) are left
out of bias and coverage; "unstated top20 %" gives their share.

    python experiments/calibration.py --write    # fit and store the default predictor's calibrations
    python experiments/calibration.py            # the tables (2-4 minutes on 2 shared cores)
    python experiments/calibration.py --quick    # cifar10, default predictor
    python experiments/calibration.py --seeds 0,1,2,3,4   # per row the mean over seeds (~5 min)
    python experiments/calibration.py --seeds 0,1,2,3,4,20,21,22,23,24,25,26,27,28,29   # ~15 min
    python experiments/calibration.py --seeds 5,6,7 --predictors holdout   # new-dataset rows only
    python experiments/calibration.py --seeds 0,1,2,3,4 --predictors default,holdout --told 3,5 --no-search
    python experiments/calibration.py --seeds 0,1,2,3,4 --predictors holdout --told 10 --search-batch 1 --search-budget 30

One seed's top-20 figures are over 20 cells and one set of told cells (coverage is +-7 points by
chance alone, and which cells were told moves the bias by a point): ``--seeds`` prints, per
dataset, predictor and state, the mean over the seeds, the range of the top-20 bias and coverage
and the standard error of their means (a seed's top 20 share one set of told cells and one
line, so its coverage is often all or nothing: over 5 seeds the mean is uncertain by several
points, which is why the README's table takes 15).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, returned_and_unverified  # noqa: E402

import gennas  # noqa: E402
from gennas.design.loop import LoopSettings  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402
from gennas.surrogates.calibration import COVERAGE, Calibration, table_reach  # noqa: E402
from gennas.surrogates.equivalence import class_ids  # noqa: E402
from gennas.surrogates.stored_calibration import fingerprint, table_path  # noqa: E402

DATASETS = ("cifar10", "cifar100")
#: the default predictor's training cells: numpy default_rng(0).permutation(15625)[:2000] (its manifest)
TRAIN_CELLS, TRAIN_SEED = 2000, 0
TOP = 20
Z90 = 1.6449  # the normal 95 % quantile: raw mean ± Z90 std is a nominal 90 % interval


def held_out(bench) -> tuple[np.ndarray, np.ndarray]:
    """(calibration mask, fold) over the table's rows: cells whose functional class holds no
    training cell of the default predictor; two folds by class (equal cells stay together)."""
    classes = np.asarray(class_ids(bench.space, bench.archs()))
    train = np.random.default_rng(TRAIN_SEED).permutation(len(bench))[:TRAIN_CELLS]
    unseen = ~np.isin(classes, classes[train])
    unique = np.unique(classes)
    fold_of = dict(zip(unique, np.random.default_rng(1).permutation(len(unique)) % 2))
    return unseen, np.array([fold_of[c] for c in classes])


def write_tables(bench) -> None:
    """Fit the default predictor's calibrations on its held-out cells and store them."""
    predictor, space = gennas.load_predictor("nb201"), bench.space
    mask, fold = held_out(bench)
    tasks = {}
    for ds in DATASETS:
        raw = predictor.predict(bench.archs(), ds)[0]
        source = (f"nb201 {ds}: the {mask.sum():,} cells whose functional class holds none of the predictor's "
                  f"{TRAIN_CELLS:,} training cells; residuals cross-fitted over 2 folds by class")
        calibration = Calibration.fit(raw[mask], bench.accuracy_of(None, ds)[mask], reach=table_reach(space, ds),
                                      folds=fold[mask], source=source)
        tasks[ds] = {"fingerprint": fingerprint(predictor, space, ds), "calibration": calibration.to_dict()}
        print(f"{ds}: {len(calibration.counts)} bins, top bin {calibration.counts[-1]} cells, "
              f"reach {calibration.reach}", file=sys.stderr)
    doc = {"command": command_line(),
           "about": "calibrations of shipped predictors (gennas.surrogates.calibration); the holdout predictors have "
                    "none: each was trained on every cell of the one dataset it knows",
           "predictors": {"predictor_nb201.pt": {"tasks": tasks}}}
    path = table_path(space.name)
    with gzip.open(path, "wt") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    print(f"wrote {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)


def metrics(pred: np.ndarray, low: np.ndarray | None, high: np.ndarray | None, true: np.ndarray) -> dict:
    """bias (mean predicted - true), coverage (%) and mean width of the interval; cells stated NaN
    (a rank only, see :func:`stated_without_them`) are left out."""
    keep = np.isfinite(pred)
    pred, true = pred[keep], true[keep]
    out = {"bias": float(np.mean(pred - true))} if keep.any() else {}
    if low is not None and keep.any():
        low, high = low[keep], high[keep]
        out["cov"] = 100.0 * float(np.mean((true >= low) & (true <= high)))
        out["width"] = float(np.mean(high - low))
    return out


def row(label: dict, every: dict, top: dict, top_true: float, max_pred: float | None, best: float,
        beyond: dict | None = None, first_true: float | None = None) -> dict:
    fmt = lambda d, k, spec: "-" if k not in d else format(d[k], spec)  # noqa: E731
    beyond = beyond or {}
    return {**label, "bias all": fmt(every, "bias", "+.2f"), "cov all %": fmt(every, "cov", ".0f"),
            "width all": fmt(every, "width", ".2f"), "bias top20": fmt(top, "bias", "+.2f"),
            "cov top20 %": fmt(top, "cov", ".0f"),
            "width top20": fmt(top, "width", ".2f"), "true top20": f"{top_true:.2f}",
            "true #1": "-" if first_true is None else f"{first_true:.2f}",
            "max pred": "-" if max_pred is None else f"{max_pred:.2f}", "best": f"{best:.2f}",
            "beyond top20 %": fmt(beyond, "share", ".0f"), "bias beyond": fmt(beyond, "bias", "+.2f"),
            "bias within": fmt(beyond, "bias within", "+.2f"), "below top20 %": fmt(beyond, "below", ".0f"),
            "cov unflagged %": fmt(beyond, "cov unflagged", ".0f"), "unstated top20 %": fmt(beyond, "unstated", ".0f")}


def flagged(designs: list, true: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None) -> dict:
    """Share (%) of ``designs`` flagged ``beyond_calibration``, the bias among flagged and
    unflagged ones (``true``: their table accuracies), the share flagged ``below_calibration``,
    and the coverage of the interval ``low``/``high`` among designs flagged neither way (where
    the statement is not an extrapolation)."""
    # no accuracy (NaN): below every result, further than they tell (gennas.design.source_line)
    shown = np.array([np.nan if c.predicted_accuracy is None else c.predicted_accuracy for c in designs], float)
    beyond = np.array([c.beyond_calibration for c in designs])
    below = np.array([c.below_calibration for c in designs])
    out = {"share": 100.0 * float(beyond.mean()), "below": 100.0 * float(below.mean()),
           "unstated": 100.0 * float(np.isnan(shown).mean())}
    if beyond.any():
        out["bias"] = float(np.mean(shown[beyond] - true[beyond]))
    if not beyond.all() and np.isfinite(shown[~beyond]).any():
        out["bias within"] = float(np.nanmean(shown[~beyond] - true[~beyond]))
    plain = ~(beyond | below)
    if low is not None and plain.any():
        out["cov unflagged"] = 100.0 * float(np.mean((true[plain] >= low[plain]) & (true[plain] <= high[plain])))
    return out


def fold_calibrations(bench, ds: str, raw: np.ndarray) -> tuple[list[Calibration], np.ndarray]:
    """The default predictor's calibration fitted on each half of the held-out cells, and for
    every cell ``(15625,)`` the half whose calibration judges it: the other half's for a held-out
    cell, fold 0's for cells of the training classes (never calibrated on)."""
    mask, fold = held_out(bench)
    y = bench.accuracy_of(None, ds)
    reach = table_reach(bench.space, ds)
    fitted = [Calibration.fit(raw[mask & (fold == f)], y[mask & (fold == f)], reach=reach) for f in (0, 1)]
    return fitted, np.where(mask, 1 - fold, 0)


def cross_fitted(bench, ds: str, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated mean, low, high ``(15625,)``: each cell by the calibration fitted without it."""
    fitted, use = fold_calibrations(bench, ds, raw)
    out = np.empty((3, len(raw)))
    for f, calibration in enumerate(fitted):
        rows = use == f
        out[0, rows] = calibration.mean(raw[rows])
        out[1, rows], out[2, rows] = calibration.interval(raw[rows], COVERAGE)
    return out[0], out[1], out[2]


def stated_without_them(bench, ds: str, designer, archs: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, low, high ``(n,)`` the designer states about ``archs`` when the stored calibration it
    draws on (:mod:`gennas.design.stored_statement`) is the one fitted without each of them."""
    fitted, use = fold_calibrations(bench, ds, designer.predictor.predict(bench.archs(), ds)[0])
    out, rows = np.empty((3, len(archs))), use[bench.rows(archs)]
    for f, calibration in enumerate(fitted):
        designer.__dict__["_stored"] = calibration  # the designer's cached stored calibration, swapped
        p = designer.predictions(archs)
        if p.low is None:  # the results disagree with this fold's calibration: a rank only, not judged
            out[:, rows == f] = np.nan
            continue
        out[:, rows == f] = np.stack([p.mean, p.low, p.high])[:, rows == f]
    del designer.__dict__["_stored"]  # looked up again when next needed
    return out[0], out[1], out[2]


def pretrained_rows(bench, ds: str, label: str, predictor, generator, seed: int) -> list[dict]:
    archs, y = bench.archs(), bench.accuracy_of(None, ds)
    designer = gennas.Designer("nb201", task=task_of(ds, label), predictor=predictor, generator=generator,
                               seed=seed, loop=LoopSettings(pool=1))
    designs = designer.generate(TOP)
    rows_ = bench.rows([c.arch for c in designs])
    best = float(y.max())
    if designs[0].predicted_accuracy is None:  # the holdout predictor: ranks only
        return [row({"dataset": ds, "predictor": label, "state": "pretrained (rank only)"}, {}, {},
                    float(y[rows_].mean()), None, best, first_true=float(y[rows_[0]]))]
    raw, std = predictor.predict(archs, ds)
    out = [row({"dataset": ds, "predictor": label, "state": "raw (uncalibrated)"},
               metrics(raw, raw - Z90 * std, raw + Z90 * std, y),
               metrics(raw[rows_], (raw - Z90 * std)[rows_], (raw + Z90 * std)[rows_], y[rows_]),
               float(y[rows_].mean()), float(raw.max()), best, first_true=float(y[rows_[0]]))]
    mean, low, high = cross_fitted(bench, ds, raw)
    # generate ranks with the stored calibration (fitted on all held-out cells); its top 20 are
    # judged here by the calibration fitted without each of them
    out.append(row({"dataset": ds, "predictor": label, "state": "pretrained"}, metrics(mean, low, high, y),
                   metrics(mean[rows_], low[rows_], high[rows_], y[rows_]), float(y[rows_].mean()),
                   float(np.nanmax(mean)), best, flagged(designs, y[rows_], low[rows_], high[rows_]),
                   float(y[rows_[0]])))
    shown = np.array([c.predicted_accuracy for c in designs])
    print(f"{ds} {label} pretrained, as generate states it (stored calibration, fitted on these cells too): "
          f"top-20 bias {np.mean(shown - y[rows_]):+.2f}, coverage "
          f"{100 * np.mean([lo <= t <= hi for (lo, hi), t in zip([c.interval for c in designs], y[rows_])]):.0f} %",
          file=sys.stderr)
    return out


def learned_row(bench, ds: str, label: str, designer, state: str) -> dict:
    """Metrics of a designer that was told results (cells it was told are left out of 'all').

    The top 20 scored are the 20 best-ranked designs it has not verified: a verified design is
    stated with its measurement (and ranked by it), so its interval promises nothing. They are
    those of ``generate(20)`` and the next unverified ones (the same guided pool: ranking a
    verified design by its measurement leaves the unverified ones' order as it is). "true top20"
    and "true #1" are of what ``generate(20)`` returns, verified designs included."""
    archs, y = bench.archs(), bench.accuracy_of(None, ds)
    told = np.zeros(len(archs), bool)
    told[bench.rows([r.arch for r in designer.history])] = True
    returned, designs = returned_and_unverified(designer, TOP)
    returned = bench.rows([c.arch for c in returned])
    rows_ = bench.rows([c.arch for c in designs])
    p = designer.predictions(archs)
    mean, low, high = p.mean, p.low, p.high
    if mean is None:  # too few results to state anything but the rank (gennas.design.statement.MIN_STATED)
        note = f" ({int(told[returned].sum())} told)" if told[returned].any() else ""
        return row({"dataset": ds, "predictor": label, "state": f"{state}, rank only{note}"}, {}, {},
                   float(y[returned].mean()), None, float(y.max()), first_true=float(y[returned[0]]))
    if designer._stored is not None and low is not None:
        # the stored calibration the statements draw on, judged as in the pretrained row: without each cell
        mean, low, high = stated_without_them(bench, ds, designer, archs)
    keep = ~told
    cut = lambda values, rows: None if values is None else values[rows]  # noqa: E731
    every = metrics(mean[keep], cut(low, keep), cut(high, keep), y[keep])
    top = metrics(mean[rows_], cut(low, rows_), cut(high, rows_), y[rows_])
    note = f" ({int(told[returned].sum())} told)" if told[returned].any() else ""
    return row({"dataset": ds, "predictor": label, "state": state + note}, every, top, float(y[returned].mean()),
               float(np.nanmax(mean)), float(y.max()), flagged(designs, y[rows_], cut(low, rows_), cut(high, rows_)),
               float(y[returned[0]]))


def task_of(ds: str, label: str) -> str:
    """The designer's task: the dataset for the default predictor; for the holdout and scratch ones a
    new dataset's name (``new-cifar100``), so that nothing of the bundled table reaches the
    designer (with the scratch predictor a bundled name would clip its statements to the table's
    range, whose top is the best accuracy there is: a new dataset's designer does not know it; a
    holdout predictor's designer reads nothing of its held-out table under either name)."""
    return ds if label == "default" else f"new-{ds}"


def run(bench, ds: str, label: str, predictor, generator, seed: int, told: tuple[int, ...] = (10, 50),
        search: bool = True, search_budget: int = 20, search_batch: int = 5) -> list[dict]:
    rows = pretrained_rows(bench, ds, label, predictor, generator, seed)
    archs, y = bench.archs(), bench.accuracy_of(None, ds)
    # the first n of one random order: told 3 is a prefix of told 10 of the same seed
    order = np.random.default_rng(seed).choice(len(archs), size=max(50, *told), replace=False)
    for n in told:
        designer = gennas.Designer("nb201", task=task_of(ds, label), predictor=predictor, generator=generator,
                                   seed=seed, loop=LoopSettings(pool=1))
        designer.tell([Result(archs[i], float(y[i]), "table") for i in order[:n]])
        rows.append(learned_row(bench, ds, label, designer, f"told {n}"))
    if not search:
        return rows
    designer = gennas.Designer("nb201", task=task_of(ds, label), predictor=predictor, generator=generator,
                               seed=seed, loop=LoopSettings(pool=1))
    designer.search(lambda a: bench.accuracy(a, ds), budget=search_budget, batch_size=search_batch, progress=False)
    state = f"search {search_budget}" + ("" if search_batch == 5 else f" batch {search_batch}")
    rows.append(learned_row(bench, ds, label, designer, state))
    return rows


def run_scratch(bench, ds: str, generator, seed: int) -> list[dict]:
    """A from-scratch designer (``gennas.design.pretrained.untrained_predictor``) after searches of
    20 and 50 verifications at batch 1, its task named as a new dataset."""
    from gennas.design.pretrained import untrained_predictor

    rows = []
    for budget in (20, 50):
        designer = gennas.Designer("nb201", task=task_of(ds, "scratch"), generator=generator, seed=seed,
                                   predictor=untrained_predictor(bench.space, seed), loop=LoopSettings(pool=1))
        designer.search(lambda a: bench.accuracy(a, ds), budget=budget, progress=False)
        rows.append(learned_row(bench, ds, "scratch", designer, f"search {budget}"))
    return rows


def number(text: str) -> float:
    """A table cell back to a float (NaN for "-")."""
    return float("nan") if text == "-" else float(text)


def seed_mean(rows: list[dict], key: str, spec: str) -> str:
    """The mean of one column over the seeds' rows, formatted ("-" where none has it)."""
    values = np.array([number(r[key]) for r in rows])
    # the bias among flagged designs exists only for seeds that flagged some: mean over those
    return "-" if np.isnan(values).all() else format(np.nanmean(values), spec)


def seed_se(rows: list[dict], key: str, spec: str) -> str:
    """The standard error of a column's mean over the seeds (their sd over sqrt(seeds)), formatted
    ("-" under two seeds with it). The top 20 of one seed share their errors (one set of told
    cells, one line), so a seed's coverage is often all or nothing: this, not 20 designs per seed,
    is how far the mean may be off."""
    values = np.array([number(r[key]) for r in rows])
    values = values[~np.isnan(values)]
    return "-" if len(values) < 2 else format(values.std(ddof=1) / np.sqrt(len(values)), spec)


def pooled_coverage(rows: list[dict]) -> str:
    """Coverage (%) among the unflagged top-20 designs of all seeds together: each seed's
    coverage weighted by its number of unflagged designs ("-" where none has any)."""
    cov = np.array([number(r["cov unflagged %"]) for r in rows])
    weight = np.array([100.0 - number(r["beyond top20 %"]) - number(r["below top20 %"]) for r in rows])
    keep = ~np.isnan(cov) & ~np.isnan(weight) & (weight > 0)
    return "-" if not keep.any() else f"{np.average(cov[keep], weights=weight[keep]):.0f}"


def seed_range(rows: list[dict], key: str, spec: str) -> str:
    """``[lowest, highest]`` of one column over the seeds' rows ("-" where none has it)."""
    if rows[0][key] == "-":
        return "-"
    values = [number(r[key]) for r in rows]
    return f"[{min(values):{spec}}, {max(values):{spec}}]"


def over_seeds(per_seed: list[list[dict]]) -> list[dict]:
    """Per (dataset, predictor, state) the mean of each figure over the seeds, and the range of the
    top-20 bias and coverage; the highest prediction over all seeds; "(k told)" notes are summed."""
    groups: dict[tuple, list[dict]] = {}
    for rows in per_seed:
        for r in rows:
            state, _, note = r["state"].partition(" (")
            if "told" in note:
                r = {**r, "told": int(note.split()[0])}
            else:
                state = r["state"]
            groups.setdefault((r["dataset"], r["predictor"], state), []).append(r)
    out = []
    for (ds, label, state), rows in groups.items():
        told = sum(r.get("told", 0) for r in rows)
        out.append({"dataset": ds, "predictor": label, "state": state + (f" ({told} told)" if told else ""),
                    "seeds": len(rows), "bias all": seed_mean(rows, "bias all", "+.2f"),
                    "cov all %": seed_mean(rows, "cov all %", ".0f"),
                    "width all": seed_mean(rows, "width all", ".2f"),
                    "bias top20": seed_mean(rows, "bias top20", "+.2f"),
                    "range": seed_range(rows, "bias top20", "+.2f"),
                    "bias se": seed_se(rows, "bias top20", ".2f"),
                    "cov top20 %": seed_mean(rows, "cov top20 %", ".1f"),
                    "range ": seed_range(rows, "cov top20 %", ".0f"),
                    "cov se": seed_se(rows, "cov top20 %", ".1f"),
                    "width top20": seed_mean(rows, "width top20", ".2f"),
                    "true top20": seed_mean(rows, "true top20", ".2f"),
                    "true #1": seed_mean(rows, "true #1", ".2f"),
                    "max pred (highest)": "-" if rows[0]["max pred"] == "-" else
                    f"{max(number(r['max pred']) for r in rows):.2f}", "best": rows[0]["best"],
                    "beyond top20 %": seed_mean(rows, "beyond top20 %", ".0f"),
                    "bias beyond": seed_mean(rows, "bias beyond", "+.2f"),
                    "bias within": seed_mean(rows, "bias within", "+.2f"),
                    "below top20 %": seed_mean(rows, "below top20 %", ".0f"),
                    "cov unflagged %": pooled_coverage(rows),
                    "unstated top20 %": seed_mean(rows, "unstated top20 %", ".0f")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="fit and store the default predictor's calibrations")
    parser.add_argument("--quick", action="store_true", help="cifar10 and the default predictor only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", help="comma-separated seeds: the mean table over them (replaces --seed)")
    parser.add_argument("--predictors", default="default,holdout,scratch",
                        help="comma-separated: default (the shipped predictor), holdout (without the dataset), "
                             "scratch (an untrained predictor, searches of 20 and 50)")
    parser.add_argument("--told", default="10,50", help="comma-separated numbers of random results told "
                                                        "(3 and 5: the few-results regime)")
    parser.add_argument("--no-search", action="store_true", help="leave out the 'search 20' rows")
    parser.add_argument("--search-budget", type=int, default=20, help="verifications of the search row")
    parser.add_argument("--search-batch", type=int, default=5,
                        help="its batch size (designer.search's default is 1; the targets are measured at 5)")
    args = parser.parse_args()
    told = tuple(int(n) for n in args.told.split(","))
    if min(told) < 1:
        parser.error(f"--told takes positive counts, got {args.told!r}")
    torch.set_num_threads(1)
    bench = gennas.load_benchmark("nb201")
    if args.write:
        write_tables(bench)
        return
    generator = gennas.load_generator("nb201", kind="diffusion")
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    predictors = ["default"] if args.quick else args.predictors.split(",")
    if not set(predictors) <= {"default", "holdout", "scratch"}:
        parser.error(f"--predictors takes default, holdout and/or scratch, got {args.predictors!r}")
    per_seed = []
    start = time.perf_counter()
    for seed in seeds:
        rows = []
        for ds in DATASETS[:1] if args.quick else DATASETS:
            for label in predictors:
                if label == "scratch":
                    rows += run_scratch(bench, ds, generator, seed)
                else:
                    predictor = gennas.load_predictor("nb201", holdout=ds if label == "holdout" else None)
                    rows += run(bench, ds, label, predictor, generator, seed, told, not args.no_search,
                                args.search_budget, args.search_batch)
                print(f"seed {seed}:\n" + markdown_table(rows[-1:]), file=sys.stderr)
        per_seed.append(rows)
    print(f"Command: `{command_line()}` ({time.perf_counter() - start:.0f} s)\n")
    print(markdown_table(per_seed[0] if len(seeds) == 1 else over_seeds(per_seed)))


if __name__ == "__main__":
    main()
