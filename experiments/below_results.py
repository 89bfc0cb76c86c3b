"""Below the results on a new dataset: what the statement there is made of, seed by seed.

After a search on a dataset the predictor never saw, most designs ``generate`` returns unverified
are predicted below every verified cell (``below_calibration``). Their statement
(:func:`gennas.design.source_line.with_source_line`) is the learned calibration's extrapolation,
mixed with the probit line to the measured source datasets where that line rises
(:attr:`~gennas.design.source_line.SourceLine.rises`). This script prints, per seed, what those
parts were: whether the learned calibration is the results' mean (the flat rule,
:func:`gennas.surrogates.residual_scale.flat_is_better`), the isotonic curve's lowest level, the
results' mean, each source line's slope and 90 % interval, and the below designs' stated and true
mean accuracy and coverage. ``fall / gap`` is how far the designs' truth lies below the results'
mean per raw predicted point below the lowest verified prediction (the learned extrapolation
takes 0 to 1, stated at 0.5).

    python experiments/below_results.py --digits experiments/data/real_task_calibration.csv \\
        experiments/data/real_task_calibration_seeds20-24.csv experiments/data/real_task_calibration_seeds30-34.csv \\
        experiments/data/real_task_calibration_seeds35-39.csv     # digits trained here: ~20 s
    python experiments/below_results.py --tables 5,6,7,8,9,10,11,12,13,14,15,16,17,18,19
        # cifar10 / cifar100 as new datasets (holdout predictor), search(budget=20, batch_size=5): ~5 min
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table, returned_and_unverified  # noqa: E402

import gennas  # noqa: E402
from gennas.design.loop import LoopSettings  # noqa: E402
from gennas.design.source_line import SourceLine  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402

TOP = 20


def parts(dataset: str, seed: int, designer, archs: list, truth: np.ndarray) -> dict:
    """One seed's row: ``designer`` after its results, ``archs`` its unverified designs, ``truth`` ``(m,)``."""
    told = [r for r in designer.history if not r.failed]
    y = np.array([r.score for r in told])
    p = designer.predictions(archs)
    learned = designer._learned_calibration()[0]  # the calibration the statement extrapolates from
    cal = learned.calibration
    sources = designer.loop.prior.labels([r.arch for r in told]) if designer.loop.prior.active else {}
    lines = {s: SourceLine.fit(acc, y) for s, acc in sources.items()}
    below = np.zeros(len(archs), bool) if p.below is None else p.below
    inside = (truth >= p.low) & (truth <= p.high)
    gap = np.minimum(p.raw - cal.low_edge, 0.0)[below]
    fall = truth[below] - y.mean()
    return {"dataset": dataset, "seed": seed, "results": len(y), "flat": bool(np.ptp(cal.knots_y) == 0),
            "lowest level": f"{cal.mean([cal.low_edge])[0]:.2f}", "results mean": f"{y.mean():.2f}",
            "lines (slope [90 %])": "; ".join(f"{s} -" if line is None else
                                             f"{s} {line.slope:.2f} [{line.slope_low:.2f}, {line.slope_high:.2f}]"
                                             f"{' rises' if line.rises else ''}" for s, line in lines.items()) or "-",
            "below": int(below.sum()),
            "stated below": f"{p.mean[below].mean():.2f}" if below.any() else "-",
            "true below": f"{truth[below].mean():.2f}" if below.any() else "-",
            "cov below %": f"{100 * inside[below].mean():.0f}" if below.any() else "-",
            "fall / gap": f"{fall.mean() / gap.mean():.2f}" if below.any() and gap.mean() < 0 else "-",
            "cov top20 %": f"{100 * inside.mean():.0f}"}


def digits_rows(paths: list[Path]) -> list[dict]:
    from real_task_calibration import TASK, load_rows

    space, out = gennas.load_space("nb201"), []
    for path in paths:  # one row per run: two files may hold the same seed (a rerun after a change)
        rows = load_rows(path)
        for s in sorted({r["seed"] for r in rows}):
            mine = [r for r in rows if r["seed"] == s]
            d = gennas.Designer("nb201", task=TASK, seed=s)
            d.tell([Result(space.parse(r["arch"]), r["truth"], "train") for r in mine
                    if r["role"] == "verified" and math.isfinite(r["truth"])])
            designs = [r for r in mine if r["role"] == "design"]
            out.append(parts(f"digits ({path.stem})", s, d, [space.parse(r["arch"]) for r in designs],
                             np.array([r["truth"] for r in designs])))
    return out


def table_rows(seeds: list[int]) -> list[dict]:
    bench, out = gennas.load_benchmark("nb201"), []
    generator = gennas.load_generator("nb201", kind="diffusion")
    for seed in seeds:
        for ds in ("cifar10", "cifar100"):
            d = gennas.Designer("nb201", task=f"new-{ds}", predictor=gennas.load_predictor("nb201", holdout=ds),
                                generator=generator, seed=seed, loop=LoopSettings(pool=1))
            d.search(lambda a: bench.accuracy(a, ds), budget=20, batch_size=5, progress=False)
            archs = [c.arch for c in returned_and_unverified(d, TOP)[1]]
            out.append(parts(ds, seed, d, archs, bench.accuracy_of(None, ds)[bench.rows(archs)]))
            print(f"seed {seed} {ds} done", file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", nargs="*", type=Path, default=[], metavar="CSV",
                    help="recorded runs of experiments/real_task_calibration.py")
    ap.add_argument("--tables", default="", help="comma-separated seeds of the bundled tables' rows")
    args = ap.parse_args()
    if not args.digits and not args.tables:
        ap.error("give --digits CSV... and/or --tables SEEDS")
    torch.set_num_threads(1)
    rows = digits_rows(args.digits) if args.digits else []
    rows += table_rows([int(s) for s in args.tables.split(",")]) if args.tables else []
    print(f"Command: `{command_line()}`\n\n" + markdown_table(rows))


if __name__ == "__main__":
    main()
