"""How good and how costly is each verifier? Zero-cost proxies against NAS-Bench-201, and
seconds per evaluated architecture for every evaluator.

1. Spearman and Kendall tau of every proxy of ``gennas.evaluators.zero_cost`` against the bundled
   NAS-Bench-201 test accuracy (cifar10, cifar100) on ``--n`` cells sampled uniformly with
   ``--seed``. The data batch is real MNIST (the bundled 10k test set), resized to 32x32 and
   repeated to 3 channels, first batch of a seeded loader: no CIFAR images ship with the
   package. Data-free proxies (synflow, params, flops) use the benchmark network (16 channels,
   5 cells per stage); data proxies use ``--data-cells-per-stage`` cells per stage (default 1,
   so that 1,000 cells fit in under an hour on a shared 2-core CPU). A proxy undefined on a
   degenerate cell (NaN) ranks it last. A learned combination (RoBoT-style weights, optuna)
   is fitted on the first ``--labelled`` cells and scored on the rest.
2. Seconds per architecture: table lookup, each proxy, TrainEvaluator for 1 epoch on a small
   MNIST subset, and (``--supernet``) the supernet helper's ``experiments/verify_supernet.py``.

Scores are cached in ``experiments/data/proxies_*.npz`` (keyed by arch string and settings), so
reruns and ``--quick`` (the first 100 of the same sample) are cheap.

    python experiments/verify.py --quick        # 100 cells, minutes
    python experiments/verify.py                # 1,000 cells
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from gennas.checkpoint import reproduce_command  # noqa: E402
import gennas
from gennas.evaluators import zero_cost
from gennas.datasets import image_loaders

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_FREE = ("params", "flops", "synflow")
#: Spearman rho over all of NAS-Bench-201 with CIFAR batches, Abdelfattah et al. ICLR 2021, Table 2
PUBLISHED = {"cifar10": {"grad_norm": 0.58, "snip": 0.58, "grasp": 0.48, "fisher": 0.36, "synflow": 0.74,
                         "jacov": 0.73},
             "cifar100": {"grad_norm": 0.64, "snip": 0.63, "grasp": 0.54, "fisher": 0.39, "synflow": 0.76,
                          "jacov": 0.71}}


def cache_path(args: argparse.Namespace) -> Path:
    return DATA_DIR / (f"proxies_nb201_mnist32x3_b{args.batch_size}_n{args.data_cells_per_stage}"
                       f"_seed{args.seed}.npz")


def load_cache(path: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """arch string -> proxy -> (score, seconds)."""
    if not path.exists():
        return {}
    z = np.load(path, allow_pickle=False)
    strings, names = list(z["strings"]), list(z["names"])
    return {s: {n: (float(z["scores"][i, j]), float(z["seconds"][i, j])) for j, n in enumerate(names)
                if not np.isnan(z["seconds"][i, j])} for i, s in enumerate(strings)}


def save_cache(path: Path, cache: dict[str, dict[str, tuple[float, float]]]) -> None:
    names = zero_cost.names()
    strings = sorted(cache)
    scores = np.full((len(strings), len(names)), np.nan)
    seconds = np.full_like(scores, np.nan)
    for i, s in enumerate(strings):
        for j, n in enumerate(names):
            if n in cache[s]:
                scores[i, j], seconds[i, j] = cache[s][n]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, strings=np.array(strings), names=np.array(names), scores=scores, seconds=seconds)
    tmp.replace(path)


def proxy_batch(batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First batch of a seeded MNIST loader, 32x32, 3 channels: images (B,3,32,32), labels (B,)."""
    train, _ = image_loaders("mnist", batch_size=batch_size, size=32, channels=3, seed=seed)
    return next(iter(train))


def fill_cache(space, archs, args, log=print) -> dict[str, dict[str, tuple[float, float]]]:
    """Score every (arch, proxy) missing from the cache, saving every 20 architectures."""
    path = cache_path(args)
    cache = load_cache(path)
    batch = proxy_batch(args.batch_size, args.seed)
    todo = [s for s in dict.fromkeys(space.to_string(a) for a in archs)
            if set(args.proxies) - set(cache.get(s, {}))]
    log(f"proxy cache {path.name}: {len(cache)} cells cached, {len(todo)} to score")
    start = time.perf_counter()
    for k, s in enumerate(todo, 1):
        entry = cache.setdefault(s, {})
        for names, options in ((DATA_FREE, {}), (tuple(n for n in zero_cost.names() if n not in DATA_FREE),
                                                 {"cells_per_stage": args.data_cells_per_stage})):
            missing = [n for n in names if n not in entry and n in args.proxies]
            if missing:
                sc, sec = zero_cost.score_many([s], space, missing, batch, build_options=options, seed=args.seed,
                                             with_seconds=True)
                entry.update({n: (float(sc[n][0]), float(sec[n][0])) for n in missing})
        if k % 20 == 0 or k == len(todo):
            save_cache(path, cache)
            rate = (time.perf_counter() - start) / k
            log(f"  scored {k}/{len(todo)} cells, {rate:.2f} s/cell, ~{rate * (len(todo) - k) / 60:.1f} min left")
    return cache


def _rank_scores(v: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(v), v, -np.inf)  # undefined (NaN) ranks last


def correlation_table(space, archs, cache, args) -> str:
    from gennas.evaluators.proxy import ProxyCombination

    bench = gennas.load_benchmark("nb201")
    strings = [space.to_string(a) for a in archs]
    acc = {ds: bench.accuracy_of(strings, ds) for ds in ("cifar10", "cifar100")}
    rows = []
    table = {n: np.array([cache[s][n][0] for s in strings]) for n in args.proxies}
    for n in args.proxies:
        v = _rank_scores(table[n])
        cells = []
        for ds in ("cifar10", "cifar100"):
            cells += [spearmanr(v, acc[ds]).statistic, kendalltau(v, acc[ds]).statistic]
        pub = " / ".join(f"{PUBLISHED[ds][n]:.2f}" if n in PUBLISHED[ds] else "-" for ds in ("cifar10", "cifar100"))
        net = "N=5" if n in DATA_FREE else f"N={args.data_cells_per_stage}"
        rows.append(f"| {n} | {net} | " + " | ".join(f"{c:.3f}" for c in cells)
                    + f" | {pub} | {int((~np.isfinite(table[n])).sum())} |")
    m = args.labelled
    held = slice(m, None)
    cells, weights = [], {}
    for ds in ("cifar10", "cifar100"):
        combo = ProxyCombination.fit({n: table[n][:m] for n in args.proxies}, acc[ds][:m],
                                     n_trials=args.trials, seed=args.seed)
        weights[ds] = combo
        pred = combo.combine({n: table[n][held] for n in args.proxies})
        cells += [spearmanr(pred, acc[ds][held]).statistic, kendalltau(pred, acc[ds][held]).statistic]
    rows.append(f"| combination (fit on {m}, scored on {len(archs) - m}) | mixed | "
                + " | ".join(f"{c:.3f}" for c in cells) + " | - | 0 |")
    head = ("| proxy | network | Spearman c10 | Kendall c10 | Spearman c100 | Kendall c100 "
            "| published Spearman c10 / c100 | NaN |\n|---|---|---|---|---|---|---|---|")
    wtxt = "\n".join(f"- combination weights ({ds}, fit Kendall {c.fit_kendall:.3f}): "
                     + ", ".join(f"{n} {w:+.2f}" for n, w in zip(c.names, c.weights)) for ds, c in weights.items())
    return head + "\n" + "\n".join(rows) + "\n\n" + wtxt


def side_table(space, archs, deep: argparse.Namespace) -> None:
    """Data proxies on the benchmark network (N=5) for the cells of the sample already cached
    by ``verify.py --n K --data-cells-per-stage 5``: separates the effect of depth from data."""
    cache = load_cache(cache_path(deep))
    strings = [space.to_string(a) for a in archs]
    prefix = 0
    while prefix < len(strings) and strings[prefix] in cache:
        prefix += 1
    names = [n for n in zero_cost.names() if n not in DATA_FREE and all(n in cache[s] for s in strings[:prefix])]
    if prefix < 10 or not names:
        return
    deep.proxies, deep.labelled = names, prefix // 2
    print(f"\n### The same data proxies on the benchmark network (N=5), first {prefix} cells of the sample\n")
    print(f"(cached by: python experiments/verify.py --n {prefix} --data-cells-per-stage 5 "
          f"--proxies {','.join(names)} --labelled {prefix // 2} --no-timing)\n")
    print(correlation_table(space, archs[:prefix], cache, deep))


def driver_table(space, archs, cache, args) -> str:
    """Spearman of each proxy (and of cifar10 accuracy) with the number of edges of each op:
    what each proxy rewards, next to what accuracy rewards."""
    strings = [space.to_string(a) for a in archs]
    counts = {op: np.array([space.choices(a).count(op) for a in archs]) for op in space.slot_vocab}
    rows = [("cifar10 accuracy", gennas.load_benchmark("nb201").accuracy_of(strings, "cifar10"))]
    rows += [(n, _rank_scores(np.array([cache[s][n][0] for s in strings]))) for n in args.proxies]
    head = "| score | " + " | ".join(f"# {op}" for op in space.slot_vocab) + " |\n|---|" + "---|" * len(counts)
    lines = [f"| {name} | " + " | ".join(f"{spearmanr(v, c).statistic:+.2f}" for c in counts.values()) + " |"
             for name, v in rows]
    return head + "\n" + "\n".join(lines)


NOTES = """
Where the proxies differ from the published figures, and why:
- synflow, params and flops never see data and are computed on the benchmark network itself,
  so they measure the published quantity; remaining gaps come from the sample (random cells,
  not all 15,625) and the accuracy column (NATS-Bench test accuracy, 200 epochs, mean over seeds).
- The data proxies see MNIST digits (grey, upsampled to 32x32, repeated to 3 channels), not
  CIFAR, and by default run on a network with 1 cell per stage instead of 5 (so that 1,000
  cells fit on a shared 2-core CPU). The N=5 side table (a smaller sample) shows that depth,
  not MNIST, is what moves the loss-gradient proxies: on the benchmark network grad_norm,
  snip, grasp and fisher, still fed MNIST, land near their published CIFAR values, while at
  N=1 they lose most of their ranking power. Proxies that read how the untrained network
  separates images (naswot, jacov, epe_nas) and ZiCo's gradient signal-to-noise rank well on
  either network, with MNIST batches.
- The op table above shows what each proxy rewards. Accuracy rewards 3x3 convolutions and
  penalises average pooling. At N=1, fisher and grasp grow with the number of avg-pool edges
  (the edges that hurt accuracy most), hence their negative correlation; grad_norm and snip
  are pulled down by skip connections, which accuracy hardly cares about.
- Samples under ~100 cells give Spearman values with an uncertainty of about +-0.1.
"""


def timing_table(space, archs, cache, args) -> str:
    from gennas.evaluators import TableEvaluator, TrainEvaluator

    strings = [space.to_string(a) for a in archs]
    rows = []
    bench = gennas.load_benchmark("nb201")
    start = time.perf_counter()
    TableEvaluator(bench, "cifar10").evaluate(archs)
    rows.append(("table (nb201 lookup)", (time.perf_counter() - start) / len(archs), "bundled table"))
    start = time.perf_counter()
    for a in archs[:10]:
        space.build(a, num_classes=10)
    rows.append(("network build (N=5), shared by all proxies", (time.perf_counter() - start) / len(archs[:10]),
                 "paid once per architecture, not in the proxy rows"))
    for n in args.proxies:
        sec = np.array([cache[s][n][1] for s in strings])
        net = "N=5, 1 image" if n in DATA_FREE else f"N={args.data_cells_per_stage}, batch {args.batch_size}"
        if n == "epe_nas" and "jacov" in args.proxies:
            net += " (reuses the input Jacobian jacov computed)"
        rows.append((f"proxy: {n}", float(np.median(sec)), net))
    train, val = image_loaders("mnist", batch_size=64, size=32, channels=3, seed=args.seed, limit=args.train_images)
    ev = TrainEvaluator(space, train, val, epochs=1, lr=0.05, seed=args.seed, progress=False,
                        build_options={"cells_per_stage": 1})
    results = ev.evaluate(archs[:args.train_archs])
    accs = ", ".join(f"{r.score:.1f}%" for r in results)
    rows.append(("train, 1 epoch", float(np.mean([r.cost_s for r in results])),
                 f"N=1, {len(train.dataset)} MNIST images, batch 64, val acc {accs}"))
    out = "| evaluator | seconds / arch | setting |\n|---|---|---|\n"
    return out + "\n".join(f"| {a} | {b:.3g} | {c} |" for a, b, c in rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 cells (the first 100 of the full sample)")
    ap.add_argument("--n", type=int, default=1000, help="cells sampled (full mode)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32, help="images in the proxy batch")
    ap.add_argument("--data-cells-per-stage", type=int, default=1, help="N of the network data proxies use")
    ap.add_argument("--labelled", type=int, default=50, help="labelled cells the combination is fitted on")
    ap.add_argument("--trials", type=int, default=200, help="optuna trials for the combination")
    ap.add_argument("--train-images", type=int, default=1000, help="MNIST images in the training subset")
    ap.add_argument("--train-archs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--proxies", default=",".join(zero_cost.names()), help="comma-separated subset to score")
    ap.add_argument("--no-timing", action="store_true", help="skip the seconds-per-arch table")
    ap.add_argument("--supernet", action="store_true", help="also run experiments/verify_supernet.py")
    args = ap.parse_args(argv)
    args.proxies = [zero_cost.get(n.strip()).name for n in args.proxies.split(",") if n.strip()]
    torch.set_num_threads(args.threads)
    n = 100 if args.quick else args.n
    print("command: " + reproduce_command("experiments/verify.py", argv if argv is not None else sys.argv[1:]))
    space = gennas.load_space("nb201")
    # the quick sample is a prefix of the full one (same generator), so the cache serves both
    archs = space.sample_many(max(n, args.n), rng=args.seed)[:n]
    cache = fill_cache(space, archs, args)
    distinct = len({space.to_string(a) for a in archs})
    print(f"\n## Zero-cost proxies vs NAS-Bench-201 test accuracy ({n} random cells, {distinct} distinct, "
          f"seed {args.seed})\n")
    print(f"Data: first batch ({args.batch_size} images) of the bundled MNIST test set, resized to 32x32, "
          "repeated to 3 channels, seeded loader; networks initialised with torch.manual_seed"
          f"({args.seed}); N = cells per stage of the network scored (the benchmark has N=5).\n")
    print(correlation_table(space, archs, cache, args))
    deep = argparse.Namespace(**{**vars(args), "data_cells_per_stage": 5})
    if args.data_cells_per_stage != 5 and cache_path(deep).exists():
        side_table(space, archs, deep)
    print(f"\n### What each score rewards: Spearman with the number of edges of each op ({n} cells)\n")
    print(driver_table(space, archs, cache, args))
    print(NOTES)
    if not args.no_timing:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"\n## Seconds per evaluated architecture (this machine: {os.cpu_count()} cores, load average "
              f"{load:.1f} now, {args.threads} torch thread(s); proxy rows are medians over the cells, "
              "measured when they were scored)\n")
        print(timing_table(space, archs, cache, args))
    if args.supernet:
        path = Path(__file__).resolve().parent / "verify_supernet.py"
        if not path.exists():
            print("\n(--supernet: experiments/verify_supernet.py does not exist yet)")
        else:
            import importlib.util

            spec = importlib.util.spec_from_file_location("verify_supernet", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
