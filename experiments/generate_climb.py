"""Does `Designer.generate` return what its own predictor prefers within its budget?

Before (``--before``: the guided pool ranked as it is) and after (the best samples climb by
one-edit moves the budget keeps: :mod:`gennas.design.refine`), for each setting and seed, the
top-10 designs' stated (predicted) scores, their true scores, and the CPU time of ``generate(10)``.

* mbv3, task ``mnist-synflow-log10``: truth is log10 synflow by the predictor's table recipe
  (32 px, 10 classes, no BatchNorm, |weights|, float64 all-ones input, seed 0; the user's
  ``my_synflow.py`` of walk 25). ``--device here`` needs a device registered in $GENNAS_HOME;
  ``cpu_torch_1t`` is bundled.
* nb201, task ``cifar10``, pixel3 budgets and none: truth is the table's accuracy.

``--generator uniform`` replaces the generator by the space's own sampler (draws that ignore the
predictor, kept only within the budget), and ``--unguided`` sets the guidance's scale to 0: the
ablation of what the generator and its guidance add to the designs (a user walk found the first
design unchanged by either).

    OMP_NUM_THREADS=1 python experiments/generate_climb.py --space nb201 --budgets 5 10 none
    GENNAS_HOME=... python experiments/generate_climb.py --space mbv3 --device here --budgets 20
    python experiments/generate_climb.py --space mbv3 --device cpu_torch_1t --budgets 25 --generator uniform
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn

import gennas
import gennas.design.designer as designer_module
from gennas.design import refine
from gennas.design.designer import GuidanceSettings
from gennas.generators.base import SlotGenerator

torch.set_num_threads(1)


class SpacePrior(SlotGenerator):
    """The space's own sampler as a generator: its draws ignore the guidance's value (the
    generator's ablation); the base class still keeps only those within the budget."""

    kind = "uniform"

    def loss(self, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError("the space's prior is not trained")

    def _sample_indices(self, n: int, generator: torch.Generator, guidance) -> torch.Tensor:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        return self.to_indices(self.space.sample_many(n, seed))

    def config_dict(self) -> dict:
        return {}


def synflow_log10(space: gennas.SearchSpace, arch: gennas.ArchGraph) -> float:
    """log10 synflow of ``arch`` by the table's recipe (see the module docstring)."""
    def strip(m: nn.Module) -> None:
        for name, child in m.named_children():
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(m, name, nn.Identity())
            else:
                strip(child)

    torch.manual_seed(0)
    side = min(space.default_input_size, 32)
    model = space.build(arch, num_classes=10, in_channels=3).train()
    strip(model)
    model = model.double()
    with torch.no_grad():
        for p in model.state_dict().values():
            p.abs_()
    model.zero_grad()
    model(torch.ones(1, 3, side, side, dtype=torch.float64)).sum().backward()
    total = sum(float((m.weight * m.weight.grad).detach().abs().sum()) for m in model.modules()
                if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None)
    return math.log10(total)


def truth(space_name: str, task: str):
    """``arch -> true score`` for the space."""
    if space_name == "nb201":
        bench = gennas.load_benchmark("nb201")
        return lambda arch: bench.accuracy(arch, task)
    space = gennas.load_space(space_name)
    return lambda arch: synflow_log10(space, arch)


def run(args: argparse.Namespace, budget: float | None, seed: int, true) -> tuple[list[float], list[float], float]:
    """(stated scores, true scores, CPU s of generate(10)) for one setting."""
    generator = SpacePrior(args.space) if args.generator == "uniform" else args.generator
    guidance = GuidanceSettings(scale=0.0) if args.unguided else None
    designer = gennas.Designer(args.space, task=args.task, device=args.device, max_latency_ms=budget, seed=seed,
                               generator=generator, guidance=guidance)
    start = time.process_time()
    designs = designer.generate(args.n)
    cpu = time.process_time() - start
    stated = [float("nan") if c.predicted_accuracy is None else c.predicted_accuracy for c in designs]
    return stated, [true(c.arch) for c in designs], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="nb201")
    parser.add_argument("--task", default=None)
    parser.add_argument("--device", default="pixel3")
    parser.add_argument("--budgets", nargs="+", default=["5", "10", "none"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--before", action="store_true", help="the guided pool ranked without climbing")
    parser.add_argument("--starts", type=int, default=refine.STARTS, help="samples that climb")
    parser.add_argument("--rounds", type=int, default=refine.ROUNDS, help="most moves per climb")
    parser.add_argument("--generator", default="diffusion", choices=["diffusion", "vae", "uniform"],
                        help="uniform: the space's own sampler, which ignores the predictor")
    parser.add_argument("--unguided", action="store_true", help="guidance scale 0 (the budget filter stays)")
    args = parser.parse_args()
    refine.STARTS, refine.ROUNDS = args.starts, args.rounds
    args.task = args.task or ("cifar10" if args.space == "nb201" else "mnist-synflow-log10")
    if args.before:
        designer_module.refined = lambda designer, pool, measured=(): list(pool)
    true = truth(args.space, args.task)
    climb = "" if args.before else f" ({args.starts} starts, at most {args.rounds} rounds)"
    print(f"{'before' if args.before else 'after'}{climb}: {args.space} {args.task} on {args.device}, generator "
          f"{args.generator}{' unguided' if args.unguided else ''}")
    for text in args.budgets:
        budget = None if text == "none" else float(text)
        for seed in args.seeds:
            stated, real, cpu = run(args, budget, seed, true)
            print(f"budget {text:>5} seed {seed}: stated top {stated[0]:.2f} mean {np.nanmean(stated):.2f} | true first "
                  f"{real[0]:.2f} best {max(real):.2f} mean {np.mean(real):.2f} min {min(real):.2f} | cpu {cpu:.2f} s",
                  flush=True)


if __name__ == "__main__":
    main()
