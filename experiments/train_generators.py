"""Train the shipped generators (discrete diffusion and graph VAE) on unlabelled architectures.

Data: nb201: all 15,625 cells; mbv3: a large sample from the space's prior (OFA: depth uniform
per stage, then kernel and expansion uniform). No accuracies are used. A 5 % split is held out
to report validation loss (and the VAE's exact-reconstruction rate). Writes
``checkpoints/<kind>_<space>.pt`` (a gennas.checkpoint file) and ``.json`` (manifest: data, command, metrics).

    python experiments/train_generators.py                 # full: both kinds, both spaces
    python experiments/train_generators.py --quick         # minutes; writes to a temp folder
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gennas.checkpoint import reproduce_command
from gennas.generators import SlotGenerator, new_generator
from gennas.resources import checkpoints_dir
from gennas.spaces import load_space


def dataset(space_name: str, mbv3_samples: int, seed: int) -> tuple[torch.Tensor, str]:
    """All training architectures as slot indices ``(N, S)`` and a description of the data."""
    space = load_space(space_name)
    if space.is_finite_enumerable():
        x = torch.from_numpy(space.all_choice_indices())
        return x, f"all {len(x):,} {space_name} architectures (space.all_choice_indices()), no labels"
    gen = new_generator(space, "diffusion")  # only for its to_indices conversion
    x = gen.to_indices(space.sample_many(mbv3_samples, seed))
    return x, (f"{mbv3_samples:,} {space_name} architectures drawn from the space prior "
               f"(space.sample_many({mbv3_samples}, rng={seed})), no labels")


def train(model: SlotGenerator, x: torch.Tensor, epochs: int, batch: int, lr: float, seed: int
          ) -> dict[str, float]:
    """AdamW with a cosine schedule; returns train/val losses and timing."""
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=gen)
    n_val = max(64, len(x) // 20)
    val, tr = x[perm[:n_val]], x[perm[n_val:]]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * math.ceil(len(tr) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    start, last = time.time(), float("nan")
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(tr), generator=gen)
        total = 0.0
        for i in range(0, len(tr), batch):
            loss = model.loss(tr[order[i:i + batch]], gen)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(order[i:i + batch])
        last = total / len(tr)
        print(f"  epoch {epoch + 1}/{epochs}: train loss {last:.4f}", flush=True)
    model.eval()
    with torch.no_grad():
        vgen = torch.Generator().manual_seed(seed + 1)
        val_loss = float(np.mean([float(model.loss(val[i:i + 1024], vgen)) for i in range(0, len(val), 1024)]))
        metrics = {"train_loss": round(last, 4), "val_loss": round(val_loss, 4), "val_size": n_val,
                   "train_size": len(tr), "epochs": epochs, "train_seconds": round(time.time() - start, 1),
                   "uniform_slot_nll": round(math.log(model.vocab), 4)}
        if model.kind == "vae":
            mu, _ = model.encode(val)
            recon = model.decode(mu) == val
            metrics["val_exact_reconstruction"] = round(float(recon.all(1).float().mean()), 4)
            metrics["val_slot_reconstruction"] = round(float(recon.float().mean()), 4)
    return metrics


def _number(text: str) -> int | float | str:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", nargs="+", default=["nb201", "mbv3"])
    p.add_argument("--kind", nargs="+", default=["diffusion", "vae"])
    p.add_argument("--epochs", type=int, default=None, help="default: 30 (nb201) / 6 (mbv3); quick: 3")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--mbv3-samples", type=int, default=None, help="default 50000 (quick: 5000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="a few epochs on less data, into a temp folder")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="override generator config fields, e.g. --set latent=32 beta=0.02")
    p.add_argument("--out", type=Path, default=None, help="default: checkpoints/ (quick: a temp folder)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    command = reproduce_command() if argv is None else reproduce_command("experiments/train_generators.py", argv)
    out = args.out or (Path(tempfile.mkdtemp(prefix="gennas-gen-")) if args.quick else checkpoints_dir())
    samples = args.mbv3_samples or (5000 if args.quick else 50000)
    overrides = {k: _number(v) for k, v in (item.split("=", 1) for item in args.set)}
    print(f"# {command}\n")
    rows = []
    for space_name in args.space:
        x, data = dataset(space_name, samples, args.seed)
        for kind in args.kind:
            epochs = args.epochs or (3 if args.quick else (30 if len(x) < 20000 else 6))
            print(f"{kind} on {space_name}: {data}", flush=True)
            model = new_generator(space_name, kind, **overrides)
            metrics = train(model, x, epochs, args.batch, args.lr, args.seed)
            path = model.save(out / f"{kind}_{space_name}", data, metrics, command)
            rows.append((space_name, kind, metrics, path))
    print("\n| space | generator | train loss | val loss | uniform NLL | VAE val exact / slot recon. | epochs | seconds "
          "| file (KB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for space_name, kind, m, path in rows:
        recon = (f"{m['val_exact_reconstruction']} / {m.get('val_slot_reconstruction', '-')}"
                 if "val_exact_reconstruction" in m else "-")
        print(f"| {space_name} | {kind} | {m['train_loss']} | {m['val_loss']} | {m['uniform_slot_nll']} | {recon} "
              f"| {m['epochs']} | {m['train_seconds']} | {path.stat().st_size // 1024} |")
    print(f"\ncheckpoints in {out}")


if __name__ == "__main__":
    main()
