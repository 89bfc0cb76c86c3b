"""Do from-scratch statements in a user's own space hold against the truth?

A space without a shipped predictor is learned from scratch: `Designer(spec, task=...)` searches,
the network learns from its results, and `generate` states the designs it returns. Here the
evaluator is data-free (synflow on the small network, the CLI's `proxy:synflow`), so every
design's true score is computed. Per space (the README's example and a 4-node space of a user's,
as in `experiments/scratch_saved_predictor.py`) the diffusion generator is trained once with
`gennas train`; per seed a fresh home holding it, a search of ``--budget`` verifications, then
`generate(20)`. Printed per space and seed, over the unverified designs of `generate(20)`: how
many state a value, their bias in log10 (stated - true; synflow spans tens of orders of
magnitude), the coverage of their 90 % intervals, and the mean log10 true score of the designs
returned against the search's best.

    python experiments/own_space_statements.py [--seeds 0,1,2,3,4] [--budget 20]

About 2 minutes for both spaces and five seeds on a 2-core machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from scratch_saved_predictor import README_SPACE, WALK_SPACES, fresh_home, readme_space, seeds_and_budget, trained_home


def one_seed(spec: Path, generator_home: Path, seed: int, budget: int, evaluator) -> dict[str, float]:
    """One from-scratch search in a fresh home and what ``generate(20)`` states, against the truth."""
    import gennas

    fresh_home(generator_home)
    designer = gennas.Designer(str(spec), task="cifar10-synflow", seed=seed)
    out = designer.search(evaluator, budget=budget, progress=False)
    designs = designer.generate(20)
    truth = np.array([r.score for r in evaluator.evaluate([c.arch for c in designs])])
    log_true = np.log10(np.maximum(truth, 1e-300))
    fresh = [i for i, c in enumerate(designs) if c.verified_score is None]
    stated = [i for i in fresh if designs[i].predicted_accuracy is not None]
    with_interval = [i for i in stated if designs[i].interval is not None]
    bias = [np.log10(designs[i].predicted_accuracy) - log_true[i] for i in stated]
    covered = [designs[i].interval[0] <= truth[i] <= designs[i].interval[1] for i in with_interval]
    return {"unverified": len(fresh), "stated": len(stated), "intervals": len(with_interval),
            "bias": float(np.mean(bias)) if bias else np.nan,
            "coverage": 100.0 * float(np.mean(covered)) if covered else np.nan,
            "true returned": float(np.mean(log_true)),
            "best verified": float(np.log10(max(r.score for r in out.history if not r.failed)))}


def main() -> None:
    seeds, budget = seeds_and_budget(__doc__)
    import gennas
    from gennas.cli.search import make_evaluator  # the CLI's own proxy:synflow evaluator

    columns = ["unverified", "stated", "intervals", "bias", "coverage", "true returned", "best verified"]
    print("| space | seed | unverified | stated | with interval | bias log10 | coverage % | "
          "mean log10 true (returned) | log10 best verified |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in {README_SPACE: readme_space(README_SPACE), **WALK_SPACES}.items():
            spec = root / f"{name}.yaml"
            spec.write_text(text)
            home = trained_home(spec, root)
            evaluator = make_evaluator("proxy:synflow", gennas.load_space(str(spec)), "cifar10", seed=0)
            rows = []
            for seed in seeds:
                rows.append(one_seed(spec, home, seed, budget, evaluator))
                print(f"| {name} | {seed} | " + " | ".join(f"{rows[-1][c]:.2f}" if isinstance(rows[-1][c], float)
                                                          else str(rows[-1][c]) for c in columns) + " |", flush=True)
            # the mean over the seeds (a seed with no design stated counts in the counts only)
            mean = {c: float(np.nanmean([r[c] for r in rows])) for c in columns}
            print(f"| {name} | mean | " + " | ".join(f"{mean[c]:.2f}" for c in columns) + " |", flush=True)


if __name__ == "__main__":
    main()
