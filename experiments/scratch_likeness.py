"""From scratch, are designs unlike every result stated worse than those like them?

A designer whose predictor starts untrained (as in a space without a shipped one) searches a
bundled table from scratch, its task named as a new dataset (``new-cifar100``: nothing of the table
reaches it), ``designer.search(table, budget=B)`` at batch 1. Then ``generate`` is judged against
the table twice: without the rule of :mod:`gennas.design.scratch_statement` (every design stated by
the network) and with it (a design holding some operation more or fewer times than every result
states nothing and ranks after the stated ones).

Columns: "unlike %" the share of the top 20 (the 20 best-ranked unverified designs of ``generate``,
as in ``experiments/calibration.py``) unlike every result; "bias like" / "bias unlike" the mean
(stated - true) over those like / unlike the results (without the rule, pooled over the seeds);
"bias top20" the top 20's mean stated - true (the seeds' mean; with the rule over what is stated);
"unstated %" the share of the top 20 stated nothing; "true top20" the mean true accuracy of what
``generate(20)`` returns, verified designs included (what a user gets).

    python experiments/scratch_likeness.py --seeds 100,101,102,103,104,105,106,107,108,109

(development seeds, where the rule was chosen; the calibration table's report seeds judge it.)

    python experiments/scratch_likeness.py --random

How strict the rule is where the results are random cells: the share of 250 random cells of each
bundled space unlike the first n of 50 other random cells (seed 0), n = 10, 20, 50.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gennas  # noqa: E402
from gennas.bench import load_benchmark  # noqa: E402
from gennas.design.loop_settings import LoopSettings  # noqa: E402
from gennas.design.pretrained import untrained_predictor  # noqa: E402
from gennas.design.scratch_statement import unlike_results  # noqa: E402
from gennas.spaces import load_space  # noqa: E402

from _common import command_line, markdown_table, returned_and_unverified  # noqa: E402

TOP = 20


@contextlib.contextmanager
def without_rule() -> Iterator[None]:
    """Statements as before the rule: every design stated by the network."""
    with mock.patch("gennas.design.statement.unstated_unlike_results", lambda p, unlike: p):
        yield


def judged(bench, ds: str, designer) -> dict:
    """The top 20's statements against the table, split by likeness to the results."""
    y = bench.accuracy_of(None, ds)
    returned, designs = returned_and_unverified(designer, TOP)
    learned = [r.arch for r in designer.history if not r.failed]
    unlike = unlike_results([c.arch for c in designs], learned)
    stated = np.array([np.nan if c.predicted_accuracy is None else c.predicted_accuracy for c in designs])
    error = stated - y[bench.rows([c.arch for c in designs])]
    worst = [f"{stated[i]:.1f} for true {stated[i] - error[i]:.1f}{' (unlike)' if unlike[i] else ''} "
             f"{designs[i].arch.to_string()}" for i in np.argsort(-np.nan_to_num(error, nan=-np.inf))[:3]]
    return {"error": error, "unlike": unlike, "true": float(y[bench.rows([c.arch for c in returned])].mean()),
            "worst": worst}


def random_shares() -> list[dict]:
    """:func:`unlike_results`'s share of random cells against random results, per space and n."""
    rows = []
    for name in ("nb201", "darts", "mbv3"):
        space = load_space(name)
        rng = np.random.default_rng(0)
        archs = [space.sample(rng) for _ in range(300)]
        row: dict = {"space": name}
        for n in (10, 20, 50):
            row[f"unlike % after {n}"] = 100.0 * float(unlike_results(archs[50:], archs[:n]).mean())
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="100,101,102", help="comma-separated seeds")
    parser.add_argument("--budgets", default="20,50", help="comma-separated search budgets")
    parser.add_argument("--random", action="store_true", help="the rule's share of random cells against random "
                        "results, per space (no search)")
    args = parser.parse_args()
    if args.random:
        print(f"`{command_line()}`\n")
        print(markdown_table(random_shares(), digits=1))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    budgets = [int(b) for b in args.budgets.split(",")]
    bench = load_benchmark("nb201")
    rows = []
    # each designer works with one torch thread (gennas.threads): no setting here
    for ds in ("cifar10", "cifar100"):
        for budget in budgets:
            before, after = [], []
            for seed in seeds:
                designer = gennas.Designer("nb201", task=f"new-{ds}", seed=seed, loop=LoopSettings(pool=1),
                                           predictor=untrained_predictor(bench.space, seed))
                designer.search(lambda a: bench.accuracy(a, ds), budget=budget, progress=False)
                with without_rule():
                    before.append(judged(bench, ds, designer))
                after.append(judged(bench, ds, designer))
                print(f"{ds} budget {budget} seed {seed}: top-20 bias {np.nanmean(before[-1]['error']):+.2f} -> "
                      f"{np.nanmean(after[-1]['error']):+.2f}; worst stated without the rule: "
                      + "; ".join(before[-1]["worst"]), file=sys.stderr, flush=True)
            like = np.concatenate([b["error"][~b["unlike"]] for b in before])
            unlike = np.concatenate([b["error"][b["unlike"]] for b in before])
            for rule, runs in (("without", before), ("with", after)):
                rows.append({
                    "dataset": ds, "state": f"search {budget}", "rule": rule, "seeds": len(seeds),
                    "unlike %": 100.0 * float(np.mean([r["unlike"].mean() for r in runs])),
                    "bias like": float(like.mean()) if rule == "without" else "",
                    "bias unlike": float(unlike.mean()) if rule == "without" and len(unlike) else "",
                    "bias top20": float(np.mean([np.nanmean(r["error"]) for r in runs])),
                    "unstated %": 100.0 * float(np.mean([np.isnan(r["error"]).mean() for r in runs])),
                    "true top20": float(np.mean([r["true"] for r in runs]))})
    print(f"`{command_line()}`\n")
    print(markdown_table(rows, digits=2))


if __name__ == "__main__":
    main()
