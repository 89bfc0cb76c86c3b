"""Self-supervised pretraining of the predictor's DAG encoder on every (unlabelled) NB201 cell.

Pretext (``gennas.surrogates.pretrain``): predict the cell's standardised data-free zero-cost
proxies (params, FLOPs, synflow from ``gennas/data/nb201_proxies.npz``) and reconstruct its
ops, from the pooled embedding. No accuracy label is used. Writes
``checkpoints/encoder_nb201.pt`` and its manifest (held-out proxy R^2, op accuracy, command).

    python experiments/pretrain_encoder.py --proxies params,flops --steps 2000   # the shipped encoder
    python experiments/pretrain_encoder.py            # the defaults: data-free proxies, 3,000 steps

The shipped encoder was made by the first command (its manifest says so); an encoder pretrained
on all five nb201 proxies (``--proxies params,flops,synflow,naswot,jacov``) ranked no better
where it counts (README, "Proxy features and a self-supervised encoder").
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
            else f"{cfg.samples} sampled {space.name} architectures, unlabelled")
    save_encoder(out, space, model, stats, cfg, data, metrics, reproduce_command())
    print(f"wrote {out}: {metrics}")


if __name__ == "__main__":
    main()
