"""Is the predictor a from-scratch search saves a ranking, or a constant?

For a space without a shipped predictor, `gennas search --method designer --evaluator
proxy:synflow` (budget 20, batch 1) trains the predictor from its results and saves it to
`$GENNAS_HOME/checkpoints`; `gennas design --task cifar10-synflow` and every later search there
start from it. A user walk (walk 23, in the second space below, seed 0) found the saved file
predicting 28.7156 for every cell: the task's score scale was frozen at the first fit's results.

Per space (the README's example and the walk's 4-node space, both written to a temporary folder)
the diffusion generator is trained once (`gennas train`, 40-60 s each on 2 cores), then per seed
a search runs in a fresh home holding only that generator. Printed per seed: the best synflow
verified, and the saved predictor's Spearman correlation with true log10 synflow on 200 random
cells of the space (seeded) and the spread (std) of its predictions there, in log-score units.

    python experiments/scratch_saved_predictor.py [--seeds 0,1,2,3,4] [--budget 20]

About 5-6 minutes for both spaces and five seeds on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

#: the README's example space is read from the README itself (its ```yaml block naming it), so
#: the experiment follows what a user copies; the 4-node space of walk 23 is written here
README_SPACE = "my_space"
WALK_SPACES = {
    "w23space": """kind: cell
name: w23space
input_size: 32
cell:
  nodes: 4
  zero_op: none
  identity_op: skip
  ops:
    none: {type: zero}
    skip: {type: identity}
    conv3: {type: relu_conv_bn, kernel: 3}
    conv1: {type: relu_conv_bn, kernel: 1}
    maxp: {type: max_pool, kernel: 3}
    sep5: {type: sep_conv, kernel: 5}
macro: {channels: 16, cells_per_stage: 1, stages: 3}
""",
}


def readme_space(name: str) -> str:
    """The ```yaml block of the README that defines space ``name``."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", readme, re.S):
        if re.search(rf"^name: {name}$", block, re.M):
            return block
    raise SystemExit(f"README.md has no yaml block defining space {name!r}")


def trained_home(spec: Path, root: Path) -> Path:
    """A home holding the space's diffusion generator only, trained by the CLI as a user would."""
    home = root / f"home_{spec.stem}"
    env = {**os.environ, "GENNAS_HOME": str(home), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "gennas", "train", "--space", str(spec), "--quiet"], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # its table of the trained generator is not this script's
    return home


def fresh_home(generator_home: Path) -> Path:
    """A new ``$GENNAS_HOME`` (set in ``os.environ``, read wherever a checkpoint is looked up or
    saved) holding only the space's generator trained in ``generator_home``."""
    home = Path(tempfile.mkdtemp(prefix="home_", dir=generator_home.parent))
    shutil.copytree(generator_home / "checkpoints", home / "checkpoints", ignore=shutil.ignore_patterns("predictor_*"))
    os.environ["GENNAS_HOME"] = str(home)
    return home


def seeds_and_budget(doc: str) -> tuple[list[int], int]:
    """The ``--seeds`` and ``--budget`` of a script on from-scratch searches (``doc`` its help); torch
    on one thread."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--budget", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    return [int(s) for s in args.seeds.split(",")], args.budget


def one_search(spec: Path, generator_home: Path, seed: int, budget: int, evaluator, probe: list,
               truth: np.ndarray) -> tuple[float, float, float]:
    """Best synflow of a from-scratch designer search in a fresh home, and the saved predictor's
    Spearman correlation with ``truth`` ``(len(probe),)`` (log10 synflow) and spread on ``probe``."""
    import gennas
    from gennas.design.saved_records import predictor_file
    from gennas.surrogates.predictor import Predictor

    home = fresh_home(generator_home)
    space = gennas.load_space(str(spec))
    out = gennas.Designer(str(spec), task="cifar10-synflow", seed=seed).search(evaluator, budget=budget, progress=False)
    saved = Predictor.load(home / "checkpoints" / predictor_file(space))
    mean = np.asarray(saved.predict(probe, task="cifar10-synflow")[0], dtype=np.float64)
    return max(r.score for r in out.history), float(spearmanr(mean, truth)[0]), float(np.std(mean))


def main() -> None:
    seeds, budget = seeds_and_budget(__doc__)
    import gennas
    from gennas.cli.search import make_evaluator  # the CLI's own proxy:synflow evaluator

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("| space | seed | best synflow | saved predictor: Spearman (200 random cells) | its spread |")
        print("|---|---|---|---|---|")
        for name, text in {README_SPACE: readme_space(README_SPACE), **WALK_SPACES}.items():
            spec = root / f"{name}.yaml"
            spec.write_text(text)
            home = trained_home(spec, root)
            space = gennas.load_space(str(spec))
            evaluator = make_evaluator("proxy:synflow", space, "cifar10", seed=0)
            probe = space.sample_many(200, np.random.default_rng(1))
            truth = np.log10(np.maximum([r.score for r in evaluator.evaluate(probe)], 1e-30))
            for seed in seeds:
                best, rho, spread = one_search(spec, home, seed, budget, evaluator, probe, truth)
                print(f"| {name} | {seed} | {best:.3e} | {rho:+.3f} | {spread:.3g} |", flush=True)


if __name__ == "__main__":
    main()
