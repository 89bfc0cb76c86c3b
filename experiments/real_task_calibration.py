"""Do the designer's promises hold on a task outside the bundled tables, verified by real training?

``experiments/calibration.py`` judges the stated accuracy and its 90 % interval against the
bundled NAS-Bench-201 tables (cifar10, cifar100). Here the ground truth is training: the task is
scikit-learn's bundled ``digits`` images (1,797 real 8x8 digits, :func:`gennas.datasets.image_loaders`,
as ``gennas search --evaluator train`` loads them), named ``digits-train``, a task the predictor
was not trained on under that name. It is not an unseen *dataset*: the shipped predictor's image
meta-tasks (``experiments/meta_dataset.py``) include 8 class subsets of these same digits images,
trained with the same small network at the same 16x16 input, so this checks the promises off the
tables, with real training as the truth, but not on images the predictor never met.

Per seed ``s``:

1. ``gennas.Designer("nb201", task="digits-train", seed=s).search(evaluator, budget=20, batch_size=5)``
   with a :class:`gennas.evaluators.TrainEvaluator` (the schedule below, seeded: a cell's score is
   one deterministic number, checked below by retraining the search's best cell);
2. the 20 best-ranked designs of ``generate`` that the search did not verify
   (``_common.returned_and_unverified``), each with what it states: ``predicted_accuracy``, its 90 %
   ``interval``, or a rank only (``relative_score``), and the ``beyond_calibration`` /
   ``below_calibration`` flags;
3. each of them trained with the same evaluator settings (a fresh evaluator, no checkpoints): the
   truth a user would get by verifying it. A cell trained before in this run (a design of another
   seed, or a cell another seed's search verified) is not trained again: the evaluator is
   deterministic, so its score is the same number.

For reference the same figures are given for the search's own verified cells against their scores
(the designer's statement about them, ``Designer.predictions``; not out of sample: they are the
results the statement was learned from).

Training schedule (fixed for the whole script): all 1,797 digits resized to 16x16, grey repeated to
3 channels, 80 / 20 % train / validation split (1,438 / 359 images, split seed 0), batch 64,
nb201's ``small_build`` network (8 channels, 1 cell per stage), 3 epochs of the TrainEvaluator's
default recipe (SGD Nesterov lr 0.05 cosine to 0, weight decay 5e-4, BN statistics re-estimated
before validation), evaluator seed 0; the score is validation accuracy in %. On this project's
shared 2-core machine at one thread one cell costs 2.7-4.9 CPU s (mean 3.8 over 12 random cells).
``gennas search --evaluator train`` uses 32x32 inputs and 1 epoch by default: at 32x32 one epoch
costs ~4.3 s for the all-3x3 cell and leaves it near 55 %, three cost ~16 s; 16x16 for 3 epochs
reaches 96-99.7 %. In the default run the designs cost 3.54 CPU s per cell and a 20-cell search
64-84 CPU s.

Per-design rows (seed, role, rank, arch, stated mean, low, high, flags, truth) are written to
``experiments/data/real_task_calibration.csv``; ``--from-csv`` prints the tables from it without training.

    python experiments/real_task_calibration.py                  # seeds 0-4: 707 s wall, 702 s CPU here
    python experiments/real_task_calibration.py --from-csv       # the tables from the saved rows
    python experiments/real_task_calibration.py --seeds 20,21,22,23,24 --csv experiments/data/real_task_calibration_seeds20-24.csv
    python experiments/real_task_calibration.py --from-csv experiments/data/real_task_calibration.csv \
        experiments/data/real_task_calibration_seeds20-24.csv     # the ten seeds together
    python experiments/real_task_calibration.py --seeds 30,31,32,33,34 \
        --csv experiments/data/real_task_calibration_seeds30-34.csv  # trained after the flat rule: 640 s
    python experiments/real_task_calibration.py --seeds 35,36,37,38,39 \
        --csv experiments/data/real_task_calibration_seeds35-39.csv  # after the rising line: 710 s
    python experiments/real_task_calibration.py --from-csv experiments/data/real_task_calibration.csv \
        experiments/data/real_task_calibration_seeds20-24.csv --restate   # a statement change, checked in ~10 s
    python experiments/real_task_calibration.py --seeds 0 --budget 10 --designs 5 --csv /tmp/t.csv   # a quick check
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, command_line, markdown_table, returned_and_unverified  # noqa: E402

import gennas  # noqa: E402
from gennas.datasets import image_loaders, input_recipe  # noqa: E402
from gennas.evaluators import TrainEvaluator  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402

TASK = "digits-train"
DATASET, SIZE, CHANNELS, BATCH, SPLIT_SEED = "digits", 16, 3, 64, 0
EPOCHS, EVAL_SEED = 3, 0
CSV = DATA / "real_task_calibration.csv"
FIELDS = ["seed", "role", "rank", "in_generate", "arch", "stated", "low", "high", "relative_score",
          "beyond", "below", "truth", "trained_here"]


def make_evaluator() -> TrainEvaluator:
    """A fresh evaluator of the fixed schedule (no checkpoint folder: nothing is resumed)."""
    space = gennas.load_space("nb201")
    train, val = image_loaders(DATASET, batch_size=BATCH, seed=SPLIT_SEED, size=SIZE, channels=CHANNELS)
    return TrainEvaluator(space, train, val, epochs=EPOCHS, seed=EVAL_SEED, build_options=space.small_build_options,
                          progress=False, on_diverge="record", inputs=input_recipe(DATASET, size=SIZE, channels=CHANNELS))


def _f(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


class Truth:
    """Scores of the fixed schedule, trained once per architecture string in this run."""

    def __init__(self) -> None:
        self.evaluator = make_evaluator()
        self.known: dict[str, float] = {}
        self.trained = 0
        self.cpu = 0.0

    def add(self, arch: str, score: float) -> None:
        self.known.setdefault(arch, score)

    def __call__(self, arch) -> tuple[float, bool]:
        key = arch.to_string()
        if key in self.known:
            return self.known[key], False
        start = time.process_time()
        result = self.evaluator.evaluate([arch])[0]
        self.cpu += time.process_time() - start
        self.trained += 1
        self.known[key] = float(result.score)  # NaN where training diverged
        return self.known[key], True


def run_seed(seed: int, budget: int, designs: int, truth: Truth) -> tuple[list[dict], dict]:
    times = {}
    wall, cpu = time.perf_counter(), time.process_time()
    d = gennas.Designer("nb201", task=TASK, seed=seed)
    result = d.search(make_evaluator(), budget=budget, batch_size=5, progress=False)
    times["search"] = (time.perf_counter() - wall, time.process_time() - cpu)
    history = [r for r in d.history if not r.failed]
    failed = len(d.history) - len(history)
    for r in history:
        truth.add(r.arch.to_string(), float(r.score))
    wall, cpu = time.perf_counter(), time.process_time()
    returned, unverified = returned_and_unverified(d, designs)
    shown = {c.arch.to_string() for c in returned}
    verified_archs = [r.arch for r in history]
    p = d.predictions(verified_archs)  # what is stated about the verified cells themselves (reference)
    times["generate"] = (time.perf_counter() - wall, time.process_time() - cpu)
    rows = []
    wall, cpu = time.perf_counter(), time.process_time()
    # reproducibility: the search's best cell, trained again by a fresh evaluator
    best = max(history, key=lambda r: r.score)
    again = make_evaluator().evaluate([best.arch])[0].score
    for c in unverified:
        value, fresh = truth(c.arch)
        rows.append({"seed": seed, "role": "design", "rank": c.rank, "in_generate": c.arch.to_string() in shown,
                     "arch": c.arch.to_string(), "stated": c.predicted_accuracy,
                     "low": None if c.interval is None else c.interval[0],
                     "high": None if c.interval is None else c.interval[1], "relative_score": c.relative_score,
                     "beyond": c.beyond_calibration, "below": c.below_calibration, "truth": value,
                     "trained_here": fresh})
    times["truth"] = (time.perf_counter() - wall, time.process_time() - cpu)
    for c in returned:  # verified designs that generate(n) returned: their measurement is what the user reads
        if c.verified_score is not None:
            rows.append({"seed": seed, "role": "returned_verified", "rank": c.rank, "in_generate": True,
                         "arch": c.arch.to_string(), "stated": c.predicted_accuracy,
                         "low": None if c.interval is None else c.interval[0],
                         "high": None if c.interval is None else c.interval[1], "relative_score": None,
                         "beyond": c.beyond_calibration, "below": c.below_calibration,
                         "truth": c.verified_score, "trained_here": False})
    for i, r in enumerate(history):
        rows.append({"seed": seed, "role": "verified", "rank": i + 1, "in_generate": r.arch.to_string() in shown,
                     "arch": r.arch.to_string(), "stated": None if p.mean is None else float(p.mean[i]),
                     "low": None if p.low is None else float(p.low[i]),
                     "high": None if p.high is None else float(p.high[i]), "relative_score": None,
                     "beyond": p.beyond is not None and bool(p.beyond[i]),
                     "below": p.below is not None and bool(p.below[i]), "truth": float(r.score), "trained_here": True})
    info = {"seed": seed, "failed": failed, "notes": list(getattr(result, "notes", []) or []),
            "best": float(best.score), "best_again": float(again), "best_arch": best.arch.to_string(), "times": times}
    return rows, info


def restate(rows: list[dict]) -> list[dict]:
    """``rows`` with the designs' statements made again by this checkout's code, without training:
    each seed's designer is rebuilt from its verified rows (``tell``; a statement after results
    depends only on them) and states the same designs. The designs stay those the recorded run
    returned (code that ranks otherwise could return others), so this is a quick check of a change
    to the statements, not a rerun. The reference rows (the verified cells) stay as recorded."""
    space, out = gennas.load_space("nb201"), []
    for s in sorted({r["seed"] for r in rows}):
        mine = [r for r in rows if r["seed"] == s]
        told = [r for r in mine if r["role"] == "verified"]
        d = gennas.Designer("nb201", task=TASK, seed=s)
        d.tell([Result(space.parse(r["arch"]), r["truth"], "train") for r in told if math.isfinite(r["truth"])])
        designs = [r for r in mine if r["role"] == "design"]
        p = d.predictions([space.parse(r["arch"]) for r in designs])
        for i, r in enumerate(designs):
            r.update(stated=math.nan if p.mean is None else float(p.mean[i]),
                     low=math.nan if p.low is None else float(p.low[i]),
                     high=math.nan if p.high is None else float(p.high[i]),
                     beyond=p.beyond is not None and bool(p.beyond[i]), below=p.below is not None and bool(p.below[i]))
        out += mine
    return out


# ------------------------------------------------------------ tables
def _num(value: str) -> float:
    return float(value) if value not in ("", None) else math.nan


def load_rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        out = []
        for r in csv.DictReader(fh):
            out.append({"seed": int(r["seed"]), "role": r["role"], "rank": int(r["rank"]),
                        "in_generate": r["in_generate"] == "True", "arch": r["arch"], "stated": _num(r["stated"]),
                        "low": _num(r["low"]), "high": _num(r["high"]), "relative_score": _num(r["relative_score"]),
                        "beyond": r["beyond"] == "True", "below": r["below"] == "True", "truth": _num(r["truth"]),
                        "trained_here": r["trained_here"] == "True"})
        return out


def save_rows(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (_f(r[k]) if k in ("stated", "low", "high", "relative_score", "truth") else r[k])
                        for k in FIELDS})


def figures(rows: list[dict]) -> dict:
    """Figures of one group of rows (one seed, or all seeds pooled)."""
    truth = np.array([r["truth"] for r in rows])
    stated = np.array([r["stated"] for r in rows])
    low, high = np.array([r["low"] for r in rows]), np.array([r["high"] for r in rows])
    ok = np.isfinite(truth)
    has_mean, has_int = np.isfinite(stated) & ok, np.isfinite(low) & np.isfinite(high) & ok
    beyond = np.array([r["beyond"] for r in rows]) & has_int
    below = np.array([r["below"] for r in rows]) & has_int
    inside = (truth >= low) & (truth <= high)
    plain = has_int & ~beyond & ~below
    out = {"n": len(rows), "interval": int(has_int.sum()), "mean only": int((has_mean & ~has_int).sum()),
           "rank only": int((~np.isfinite(stated)).sum()), "failed": int((~ok).sum()),
           "true mean": float(np.mean(truth[ok])) if ok.any() else math.nan}
    if has_mean.any():
        out["bias"] = float(np.mean(stated[has_mean] - truth[has_mean]))
        out["mae"] = float(np.mean(np.abs(stated[has_mean] - truth[has_mean])))
    if has_int.any():
        out["cov"] = 100.0 * float(np.mean(inside[has_int]))
        out["width"] = float(np.mean(high[has_int] - low[has_int]))
        out["beyond"] = 100.0 * float(beyond.sum() / has_int.sum())
        out["below"] = 100.0 * float(below.sum() / has_int.sum())
        out["above"] = 100.0 * float(np.mean(truth[has_int] > high[has_int]))  # truth above the interval
        out["under"] = 100.0 * float(np.mean(truth[has_int] < low[has_int]))
        if plain.any():
            out["cov unflagged"] = 100.0 * float(np.mean(inside[plain]))
    if has_mean.sum() >= 3 and np.std(stated[has_mean]) > 0 and np.std(truth[has_mean]) > 0:
        from scipy.stats import spearmanr

        out["spearman"] = float(spearmanr(stated[has_mean], truth[has_mean])[0])
    return out


def fmt(d: dict, key: str, spec: str) -> str:
    v = d.get(key)
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def table_row(label: str, f: dict, best: float | None = None, returned: float | None = None) -> dict:
    return {"seed": label, "designs": str(f["n"]), "interval / mean only / rank only":
            f"{f['interval']} / {f['mean only']} / {f['rank only']}", "failed": str(f["failed"]),
            "bias (pred-true)": fmt(f, "bias", "+.2f"), "mean abs": fmt(f, "mae", ".2f"),
            "cov 90 % (%)": fmt(f, "cov", ".0f"), "truth above / below interval (%)":
            f"{fmt(f, 'above', '.0f')} / {fmt(f, 'under', '.0f')}", "width": fmt(f, "width", ".2f"),
            "beyond (%)": fmt(f, "beyond", ".0f"), "below (%)": fmt(f, "below", ".0f"),
            "cov unflagged (%)": fmt(f, "cov unflagged", ".0f"), "spearman": fmt(f, "spearman", "+.2f"),
            "best verified": "-" if best is None else f"{best:.2f}", "true mean": fmt(f, "true mean", ".2f"),
            "true mean generate(n)": "-" if returned is None else f"{returned:.2f}"}


def tables(rows: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in rows})
    out = []
    for role, title in (("design", "Designs generate() returned that the search did not verify, against a fresh "
                                   "training (out of sample)"),
                        ("verified", "Reference: the search's own verified cells, the statement about them "
                                     "against their scores (in sample)")):
        lines, per = [], []
        for s in seeds:
            group = [r for r in rows if r["seed"] == s and r["role"] == role]
            best = max(r["truth"] for r in rows if r["seed"] == s and r["role"] == "verified")
            shown = [r["truth"] for r in rows if r["seed"] == s and r["in_generate"] and r["role"] != "verified"]
            f = figures(group)
            per.append(f)
            lines.append(table_row(str(s), f, best, float(np.mean(shown)) if shown else None))
        mine = [r for r in rows if r["role"] == role]
        lines.append(table_row("all (pooled)", figures(mine)))
        # the statements by what they are: extrapolated below / beyond the results, or neither
        for label, keep in (("flagged below (pooled)", lambda r: r["below"]),
                            ("flagged beyond (pooled)", lambda r: r["beyond"]),
                            ("unflagged (pooled)", lambda r: not (r["below"] or r["beyond"]))):
            flagged = [r for r in mine if keep(r)]
            if flagged:
                lines.append(table_row(label, figures(flagged)))
        mean = {k: float(np.mean([f[k] for f in per if k in f])) for k in
                ("bias", "mae", "cov", "width", "beyond", "below", "above", "under", "cov unflagged", "spearman",
                 "true mean") if any(k in f for f in per)}
        mean.update({k: sum(f[k] for f in per) for k in ("n", "interval", "mean only", "rank only", "failed")})
        bests = [max(r["truth"] for r in rows if r["seed"] == s and r["role"] == "verified") for s in seeds]
        shown_means = [np.mean([r["truth"] for r in rows if r["seed"] == s and r["in_generate"]
                                and r["role"] != "verified"]) for s in seeds]
        lines.append(table_row("mean over seeds", mean, float(np.mean(bests)), float(np.mean(shown_means))))
        covs = [f["cov"] for f in per if "cov" in f]
        biases = [f["bias"] for f in per if "bias" in f]
        se = lambda v: float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else math.nan  # noqa: E731
        out.append(f"#### {title}\n\n" + markdown_table(lines) +
                   f"\n\nover {len(covs)} seeds with intervals: coverage {np.mean(covs) if covs else math.nan:.1f} % "
                   f"(standard error {se(covs):.1f}), bias {np.mean(biases) if biases else math.nan:+.2f} "
                   f"(standard error {se(biases):.2f})")
    return "\n\n".join(out)


LEGEND = """Columns: designs scored; how many state an interval, a mean without one, a rank only;
failed = training diverged (left out); bias = mean (stated - true) in accuracy points; mean abs = mean
|stated - true|; cov 90 % = share of true accuracies inside the stated 90 % interval; truth above /
below = share outside it on each side; width = mean interval width (points); beyond / below = share
flagged beyond_calibration / below_calibration; cov unflagged = coverage among designs flagged neither
way (the "flagged below / beyond" and "unflagged" rows: the designs of all seeds so flagged, pooled);
spearman = rank correlation of stated and true over the seed's designs; best verified = the
search's best score; true mean = mean true accuracy of the scored designs; true mean generate(n) =
of generate(n)'s designs as returned (verified ones by their score)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated designer seeds")
    ap.add_argument("--budget", type=int, default=20, help="verifications of each search")
    ap.add_argument("--designs", type=int, default=20, help="unverified designs scored per seed")
    ap.add_argument("--csv", type=Path, default=CSV, help="where the per-design rows are written (or read)")
    ap.add_argument("--from-csv", nargs="*", type=Path, default=None, metavar="CSV",
                    help="only print the tables (no training), from these files' rows together (default: --csv)")
    ap.add_argument("--restate", action="store_true",
                    help="with --from-csv: state the recorded designs again with this checkout's code (no training)")
    args = ap.parse_args()
    if args.restate and args.from_csv is None:
        ap.error("--restate reads the recorded runs: give --from-csv")
    if args.from_csv is not None:
        rows, seen = [], set()
        for path in args.from_csv or [args.csv]:
            part = load_rows(path)
            if seen & {r["seed"] for r in part}:
                raise SystemExit(f"{path}: seeds {sorted(seen & {r['seed'] for r in part})} are in another file too")
            seen |= {r["seed"] for r in part}
            rows += part
        if args.restate:
            torch.set_num_threads(1)
            rows = restate(rows)
            print(f"`{command_line()}`: the recorded designs stated again by this checkout (truths as recorded)\n")
        print(LEGEND + "\n\n" + tables(rows))
        return
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    wall, cpu = time.perf_counter(), time.process_time()
    truth, rows, infos = Truth(), [], []
    print(f"schedule: {DATASET} {SIZE}x{SIZE}x{CHANNELS}, {EPOCHS} epochs, batch {BATCH}, evaluator seed {EVAL_SEED}, "
          f"{len(truth.evaluator.train_loader.dataset)} train / {len(truth.evaluator.val_loader.dataset)} "
          f"validation images, build {gennas.load_space('nb201').small_build_options}", file=sys.stderr)
    for s in seeds:
        seed_rows, info = run_seed(s, args.budget, args.designs, truth)
        rows += seed_rows
        infos.append(info)
        save_rows(args.csv, rows)  # after every seed: an interrupted run keeps what it measured
        t = info["times"]
        print(f"seed {s}: search {t['search'][0]:.0f} s wall / {t['search'][1]:.0f} s CPU, generate + statements "
              f"{t['generate'][1]:.0f} s CPU, truths {t['truth'][1]:.0f} s CPU; best {info['best']:.2f} "
              f"(retrained: {info['best_again']:.2f}); failed {info['failed']}; notes {info['notes']}",
              file=sys.stderr, flush=True)
    print(f"`{command_line()}`\n")
    print(LEGEND + "\n\n" + tables(rows))
    print(f"\nrows written to {args.csv}")
    print("reproducibility (the search's best cell trained again by a fresh evaluator): " + ", ".join(
        f"seed {i['seed']} {i['best']:.2f} -> {i['best_again']:.2f}" for i in infos))
    print(f"trainings outside the searches: {truth.trained} ({truth.cpu:.0f} CPU s, "
          f"{truth.cpu / max(truth.trained, 1):.2f} s per cell); search CPU s per seed: "
          + ", ".join(f"{i['times']['search'][1]:.0f}" for i in infos))
    print(f"wall {time.perf_counter() - wall:.0f} s, CPU {time.process_time() - cpu:.0f} s (this process)")


if __name__ == "__main__":
    main()
