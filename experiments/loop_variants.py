"""Design decisions of the loop's cost work, checked on seeds the README tables never use.

A from-scratch designer (untrained predictor) searches NAS-Bench-201 with the table as
evaluator, seeds 100-109 on cifar10 and cifar100, stopping at the optimum (as
experiments/search.py does); the script prints the median number of verifications to the
optimum per dataset. Variants:

* ``--encoder-growth G``: the encoders are retrained only when the results grew by G since
  they last were (1.0, every refit, is the loop's rule from scratch; a pretrained predictor's
  default is ``LoopSettings.encoder_growth``).
* ``--rounds old``: a guided generation draws until 200 distinct samples (as before issue 12's
  second round) instead of one round of draws.
* ``--guide-members K``: generation is guided by the first K ensemble members only
  (``LoopSettings.guide_members``; ranking always uses all of them; the loop's default is 1).
* ``--pool P``: each guided generation draws ``max(P * batch, 200)`` architectures
  (``LoopSettings.pool``; the harness's designers use 1, so 200 at batch 1).
* ``--local-share S`` / ``--kappa K``: ``LoopSettings.local_share`` / ``kappa`` (0.5 / 0.5).
* ``--warmup W`` / ``--warmup-proxy P``: the first W picks ranked by the zero-cost proxy P
  (``LoopSettings.warmup``, ``warmup_proxy``; 0 picks them at random as before).
* ``--members M``: ensemble members of the untrained predictor (``PredictorConfig.members``, 3;
  the designer's: ``gennas.design.pretrained.SCRATCH_MEMBERS``).
* ``--datasets``: comma-separated, default both.
* ``--top-weight W``: the ranking loss weighs pairs by ``exp(W * standardised score of the
  better one)`` (``PredictorConfig.top_weight``; the designer's untrained predictor uses
  ``gennas.design.pretrained.SCRATCH_TOP_WEIGHT``).
* ``--proxies P1,P2``: zero-cost proxies as the predictor's extra input features
  (``PredictorConfig.proxies``; none in the designer's untrained predictor).
* ``--pretrained-encoder``: the predictor starts from the shipped self-supervised encoder
  (``PredictorConfig.pretrained``; off, as in the designer's untrained predictor).

    python experiments/loop_variants.py --encoder-growth 1.5 --rounds new   # ~6 min on one core
    python experiments/loop_variants.py --encoder-growth 1.0 --rounds new
    python experiments/loop_variants.py --encoder-growth 1.0 --rounds old
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import search  # noqa: E402  (experiments/search.py: its harness and loaded models)
from _common import command_line  # noqa: E402
from gennas.bench import load_benchmark  # noqa: E402
from gennas.design.loop import LoopSettings  # noqa: E402
from gennas.surrogates.predictor import PredictorConfig  # noqa: E402

SEEDS = range(100, 110)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder-growth", type=float, default=1.0)
    p.add_argument("--rounds", choices=["new", "old"], default="new")
    p.add_argument("--guide-members", type=int, default=None)
    p.add_argument("--budget", type=int, default=300)
    p.add_argument("--top-weight", type=float, default=0.0,
                   help="PredictorConfig.top_weight of the untrained predictor (the designer's: "
                        "gennas.design.pretrained.SCRATCH_TOP_WEIGHT)")
    p.add_argument("--pool", type=int, default=1,
                   help="LoopSettings.pool: architectures generated per asked one (at least 200 in all)")
    p.add_argument("--local-share", type=float, default=LoopSettings.local_share, help="LoopSettings.local_share")
    p.add_argument("--kappa", type=float, default=LoopSettings.kappa, help="LoopSettings.kappa")
    p.add_argument("--warmup", type=int, default=LoopSettings.warmup, help="LoopSettings.warmup")
    p.add_argument("--warmup-proxy", default="synflow", help="LoopSettings.warmup_proxy")
    p.add_argument("--warmup-top", type=int, default=LoopSettings.warmup_top, help="LoopSettings.warmup_top")
    p.add_argument("--members", type=int, default=PredictorConfig.members,
                   help="PredictorConfig.members of the untrained predictor (the designer's: "
                        "gennas.design.pretrained.SCRATCH_MEMBERS)")
    p.add_argument("--pretrained-encoder", action="store_true",
                   help="start the predictor from the shipped self-supervised encoder (PredictorConfig.pretrained)")
    p.add_argument("--proxies", default="", help="PredictorConfig.proxies, comma-separated (default: none)")
    p.add_argument("--datasets", default="cifar10,cifar100")
    args = p.parse_args(argv)
    print(command_line())
    if args.rounds == "old":
        from gennas.generators.base import SlotGenerator

        one_round = SlotGenerator.sample
        SlotGenerator.sample = lambda self, n, seed=None, guidance=None, unique=True, max_draws=None: \
            one_round(self, n, seed=seed, guidance=guidance, unique=unique)

    def scratch(space, seed, task, device=None, max_latency_ms=None):
        from gennas.design.designer import Designer
        from gennas.surrogates.predictor import Predictor

        config = PredictorConfig(top_weight=args.top_weight, members=args.members, pretrained=args.pretrained_encoder,
                                 proxies=tuple(name for name in args.proxies.split(",") if name))
        predictor = Predictor(space, config, seed=seed)
        designer = Designer(space, task=task, seed=seed, predictor=predictor,
                            generator=search._pretrained(None)[1],
                            loop=LoopSettings(pool=args.pool, guide_members=args.guide_members,
                                                local_share=args.local_share, kappa=args.kappa,
                                                warmup=args.warmup, warmup_proxy=args.warmup_proxy,
                                                warmup_top=args.warmup_top))
        designer.loop.encoder_growth = lambda: args.encoder_growth  # the default is 1.0 from scratch
        return designer.loop

    bench = load_benchmark("nb201")
    cpu = time.process_time()
    for dataset in args.datasets.split(","):
        best = bench.best(dataset)[1]
        counts = []
        for seed in SEEDS:
            curve, _ = search.one_run(scratch, bench, dataset, seed, args.budget)
            hit = np.nonzero(curve >= best - 1e-9)[0]
            counts.append(int(hit[0]) + 1 if len(hit) else args.budget + 1)
        print(f"{dataset}: median {np.median(counts):g} verifications to the optimum, seeds {list(SEEDS)}: {counts}",
              flush=True)
    print(f"CPU {time.process_time() - cpu:.0f} s")


if __name__ == "__main__":
    main()
