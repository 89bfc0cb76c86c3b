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
from pathlib import Path

import torch

from gennas.checkpoint import reproduce_command
from gennas.generators import SlotGenerator, load_generator, new_generator
from gennas.generators.training import generator_dataset, sample_quality, train_generator
from gennas.resources import checkpoints_dir


def train(model: SlotGenerator, x: torch.Tensor, epochs: int, batch: int, lr: float, seed: int
          ) -> dict[str, float]:
    """``epochs`` passes over the training rows (gennas.generators.training.train_generator),
    printing the smoothed loss after each; then 1,000 unguided samples' validity and uniqueness."""
    per_epoch = math.ceil((len(x) - max(64, len(x) // 20)) / batch)

    def show(step: int, total: int, loss: float) -> None:
        if step % per_epoch == 0 or step == total:
            print(f"  epoch {math.ceil(step / per_epoch)}/{epochs}: train loss {loss:.4f}", flush=True)

    metrics = train_generator(model, x, epochs * per_epoch, batch, lr, seed, on_step=show)
    metrics.update({f"sample_{k}": v for k, v in sample_quality(model, 1000, seed).items()})
    return metrics


def _number(text: str) -> bool | int | float | str:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
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
    p.add_argument("--init", type=Path, default=None,
                   help="continue from this checkpoint of the one --space/--kind (--set may change training-only fields)")
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
        x, data = generator_dataset(new_generator(space_name, "diffusion"), samples, args.seed)
        for kind in args.kind:
            epochs = args.epochs or (3 if args.quick else (30 if len(x) < 20000 else 6))
            print(f"{kind} on {space_name}: {data}", flush=True)
            model, extra = new_generator(space_name, kind, **overrides), {}
            if args.init is not None:  # a second stage: the first stage's manifest says how it began
                model = load_generator(space_name, kind, path=args.init).train()
                for key, value in overrides.items():  # training-only fields (e.g. decode_loss); shapes stay
                    setattr(model.config, key, value)
                extra = {"init": {"file": args.init.name, "command": model.manifest.get("command"),
                                  "metrics": model.manifest.get("metrics")}}
            metrics = {**train(model, x, epochs, args.batch, args.lr, args.seed), **extra}
            path = model.save(out / f"{kind}_{space_name}", data, metrics, command)
            rows.append((space_name, kind, metrics, path))
    print("\n| space | generator | train loss | val loss | uniform NLL | VAE val exact / slot recon. "
          "| valid / unique of 1,000 samples | epochs | seconds | file (KB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for space_name, kind, m, path in rows:
        recon = (f"{m['val_exact_reconstruction']} / {m.get('val_slot_reconstruction', '-')}"
                 if "val_exact_reconstruction" in m else "-")
        print(f"| {space_name} | {kind} | {m['train_loss']} | {m['val_loss']} | {m['uniform_slot_nll']} | {recon} "
              f"| {m['sample_valid_share']} / {m['sample_unique_share']} | {m['epochs']} | {m['train_seconds']} | {path.stat().st_size // 1024} |")
    print(f"\ncheckpoints in {out}")


if __name__ == "__main__":
    main()
