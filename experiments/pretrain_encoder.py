"""Self-supervised pretraining of the predictor's DAG encoder on a space's unlabelled architectures.

Pretext (``gennas.surrogates.pretrain``): predict the architecture's standardised data-free
zero-cost proxies (params, FLOPs, synflow; nb201's from ``gennas/data/nb201_proxies.npz``, other
spaces' computed on demand) and reconstruct its ops, from the pooled embedding. No accuracy label
is used. nb201: every cell; an infinite space (mbv3): 5,000 seeded samples of its prior. Writes
``checkpoints/encoder_<space>.pt`` and its manifest (held-out proxy R^2, op accuracy, command).

    python experiments/pretrain_encoder.py --proxies params,flops --steps 2000   # the shipped nb201 encoder
    python experiments/pretrain_encoder.py --space mbv3 --proxies params,flops --steps 2000   # mbv3's, 1,002 CPU s
    python experiments/pretrain_encoder.py            # the defaults: data-free proxies, 3,000 steps

The shipped encoders were made by the first two commands (their manifests say so); an encoder
pretrained on all five nb201 proxies (``--proxies params,flops,synflow,naswot,jacov``) ranked no
better where it counts (docs/results.md, "Proxy features and a self-supervised encoder").
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

import gennas  # noqa: E402
from gennas.checkpoint import reproduce_command  # noqa: E402
from gennas.surrogates.features import DATA_FREE  # noqa: E402
from gennas.surrogates.pretrain import PretrainConfig, encoder_path, pretrain_encoder, save_encoder  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--space", default="nb201")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--proxies", default=",".join(DATA_FREE))
    p.add_argument("--hidden", type=int, default=32, help="must match PredictorConfig.hidden")
    p.add_argument("--layers", type=int, default=3, help="must match PredictorConfig.layers")
    p.add_argument("--out", default=None, help="default: checkpoints/encoder_<space>.pt")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    space = gennas.load_space(args.space)
    cfg = PretrainConfig(hidden=args.hidden, layers=args.layers, proxies=tuple(args.proxies.split(",")),
                         steps=args.steps)
    start, cpu = time.perf_counter(), time.process_time()
    model, stats, metrics = pretrain_encoder(space, cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    metrics["cpu_s"] = round(time.process_time() - cpu, 1)
    out = args.out or encoder_path(space.name)
    data = (f"all {space.name} architectures, unlabelled; pretext targets: proxies {list(cfg.proxies)} "
            "(gennas/data/nb201_proxies.npz) and op reconstruction" if space.is_finite_enumerable()
            else f"{cfg.samples} {space.name} architectures sampled from the space prior (seed {cfg.seed}), "
            f"unlabelled; pretext targets: proxies {list(cfg.proxies)} (computed on demand, "
            "gennas.surrogates.features) and op reconstruction")
    save_encoder(out, space, model, stats, cfg, data, metrics, reproduce_command())
    print(f"wrote {out}: {metrics}")


if __name__ == "__main__":
    main()
