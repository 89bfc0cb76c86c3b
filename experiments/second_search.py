"""A second search in the same home: does it start ahead of a fresh one, or behind?

In a space without a shipped predictor (darts), a designer search saves the predictor its results
trained to `$GENNAS_HOME/checkpoints`, and a later search there starts from it. A user walk (walk
25 #3) found a second darts synflow search from it near random search and far below a fresh home.
Here, with the CLI a user runs (`gennas search --space darts --method designer --evaluator
proxy:synflow`): a first search (seed 0, `--first-budget` results) in a temporary home; then per
seed a second search (`--budget` results at batch 2) in a copy of that home, the same in a fresh
home, and random search; printed: log10 of the best synflow each found.

    python experiments/second_search.py [--seeds 5,6,7,8,9] [--library PATH]

``--library`` runs gennas from another checkout (e.g. a worktree of an older commit) for the
searches in the copied home: the before of a change. About 15 minutes for five seeds on 2 cores
(darts synflow builds each network).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parent.parent


def search(home: Path, storage: Path, method: str, seed: int, budget: int, batch: int, library: Path) -> float:
    """log10 of the best synflow a CLI search verified (``home``: its GENNAS_HOME)."""
    env = {**os.environ, "GENNAS_HOME": str(home), "PYTHONPATH": str(library), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "gennas", "search", "--space", "darts", "--method", method, "--evaluator",
                    "proxy:synflow", "--budget", str(budget), "--batch-size", str(batch), "--seed", str(seed),
                    "--storage", f"sqlite:///{storage}", "-q"], env=env, check=True, stdout=subprocess.DEVNULL)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = optuna.get_all_study_names(f"sqlite:///{storage}")[0]
    values = [t.value for t in optuna.load_study(study_name=name, storage=f"sqlite:///{storage}").trials
              if t.value is not None]
    return math.log10(max(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="5,6,7,8,9")
    parser.add_argument("--first-budget", type=int, default=20)
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--library", type=Path, default=ROOT, help="checkout the second searches run from")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first = search(work / "home", work / "first.db", "designer", 0, args.first_budget, 1, ROOT)
        print(f"`python experiments/second_search.py --seeds {args.seeds}"
              + ("" if args.library == ROOT else f" --library {args.library}") + "`: darts, proxy:synflow; "
              f"first search (seed 0, {args.first_budget} results) best 1e{first:.1f}; then {args.budget} results "
              "at batch 2, log10 of the best synflow\n")
        print("| seed | second search, same home | designer, fresh home | random |")
        print("|---|---|---|---|")
        for seed in seeds:
            home = work / f"home{seed}"
            shutil.copytree(work / "home", home)
            again = search(home, work / f"again{seed}.db", "designer", seed, args.budget, 2, args.library)
            fresh = search(work / f"fresh{seed}", work / f"fresh{seed}.db", "designer", seed, args.budget, 2, ROOT)
            rand = search(work / f"random{seed}", work / f"random{seed}.db", "random", seed, args.budget, 2, ROOT)
            print(f"| {seed} | {again:.1f} | {fresh:.1f} | {rand:.1f} |", flush=True)


if __name__ == "__main__":
    main()
