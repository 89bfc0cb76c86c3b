"""How well does the GNN predictor rank NAS-Bench-201 cells? Tables of Kendall tau and Spearman.

1. Sample efficiency: train on n random cells (n = 50..1000), test on *all* other cells, for
   cifar10 and cifar100, 5 seeds; in the same run the baselines xgboost and an MLP (sklearn) on
   one-hot slot encodings, and the training-free params and FLOPs of each cell.
2. Cross-task: the shipped predictor pretrained *without* the target dataset's labels
   (``load_predictor("nb201", holdout=target)``), tested on the target with 0/10/20 verified
   target samples (a task embedding fitted to them), against xgboost fitted on those samples.
3. Proxy features and the self-supervised encoder (``--parts features``): for 50 and 100
   labelled cifar10 cells, the GNN as before, with zero-cost proxy features
   (``gennas/data/nb201_proxies.npz``), starting from the pretrained encoder
   (``checkpoints/encoder_nb201.pt``), and both; xgboost on the encoding with and without proxies;
   a blend of the best GNN variant with xgboost on the proxies (not a gennas model: how much
   the trees add).
4. The self-supervised encoder on mbv3 (``--parts mbv3``): a fresh ``Predictor("mbv3")`` fitted
   on 50 / 100 of the 2,000 subnets of the bundled mbv3 latency table, starting from
   ``checkpoints/encoder_mbv3.pt`` (the default) or not, ranks the other subnets by their measured
   latency on each of the table's two CPU back-ends (the only measured labels of mbv3 in this
   repository; no accuracy table exists), against xgboost on the one-hot encoding and FLOPs alone.
6. The shipped predictor on unseen functions (``--parts shipped``): ``predictor_nb201``'s Kendall
   tau on the 13,625 cells it did not train on (``default_rng(0).permutation(15625)[2000:]``, the
   manifest's figure), split by whether the cell's functional class (``canonical_hash(functional=
   True)``) holds one of its 2,000 training cells: the predictor reads every cell through its
   class representative and trains on equivalents, so a test cell of a trained class is predicted
   from an input it was trained on; and one cell per unseen class.
5. Image conditioning: on the meta-dataset (``experiments/meta_dataset.py``), leave tasks out,
   and compare the predictor conditioned on the held-out task's images with the same predictor
   trained and tested with one constant descriptor (no task information).

    python experiments/predictor.py --quick   # a few minutes: n=100, 2 seeds, 2 meta folds
    python experiments/predictor.py           # the full tables
    python experiments/predictor.py --parts features   # proxy features / pretrained encoder, n=50,100, 5 seeds
    python experiments/predictor.py --parts mbv3       # the mbv3 encoder on measured latency, 5 seeds
    python experiments/predictor.py --parts shipped    # the shipped predictor on unseen functions (seconds)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr, zscore

import gennas
from gennas.surrogates.predictor import Predictor, PredictorConfig
from gennas.surrogates.shipped_predictor import checkpoint_path, load_predictor
from gennas.surrogates.task import Task

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import nb201_costs  # noqa: E402  (shared FLOPs/params cache of experiments/)
from train_predictor import load_meta  # noqa: E402

DATASETS = ("cifar10", "cifar100")


def corr(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return float(kendalltau(pred, truth)[0]), float(spearmanr(pred, truth)[0])


def fmt(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def xgb_fit_predict(x_train, y_train, x_test, seed: int) -> np.ndarray:
    from xgboost import XGBRegressor

    model = XGBRegressor(n_estimators=300, max_depth=4, learning_rate=0.05, subsample=0.8,
                         colsample_bytree=0.8, random_state=seed, n_jobs=1)
    return model.fit(x_train, y_train).predict(x_test)


def mlp_fit_predict(x_train, y_train, x_test, seed: int) -> np.ndarray:
    from sklearn.neural_network import MLPRegressor

    mu, sd = y_train.mean(), y_train.std() + 1e-9
    model = MLPRegressor(hidden_layer_sizes=(128, 128), alpha=1e-3, max_iter=1000, random_state=seed)
    return model.fit(x_train, (y_train - mu) / sd).predict(x_test)


def sample_efficiency(sizes, seeds, config: PredictorConfig) -> None:
    bench = gennas.load_benchmark("nb201")
    space = bench.space
    archs = bench.archs()
    onehot = space.encode(archs)
    costs = nb201_costs()
    scores: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    gnn_seconds = []
    methods = ["GNN (ours)", "xgboost", "MLP", "params", "FLOPs"]
    for n in sizes:
        for ds in DATASETS:
            acc = bench.accuracy_of(None, ds)
            for seed in seeds:
                order = np.random.default_rng(seed).permutation(len(archs))
                tr, te = order[:n], order[n:]
                start = time.perf_counter()
                steps = config.steps if n <= 200 else 2 * config.steps  # more rows, more steps
                pred = Predictor(space, config, seed=seed).fit([archs[i] for i in tr], acc[tr], task=ds, steps=steps)
                gnn_seconds.append(time.perf_counter() - start)
                results = {
                    "GNN (ours)": pred.predict([archs[i] for i in te], task=ds)[0],
                    "xgboost": xgb_fit_predict(onehot[tr], acc[tr], onehot[te], seed),
                    "MLP": mlp_fit_predict(onehot[tr], acc[tr], onehot[te], seed),
                    "params": costs["params"][te].astype(float),
                    "FLOPs": costs["flops"][te].astype(float),
                }
                for name, p in results.items():
                    tau, rho = corr(p, acc[te])
                    scores[(ds, n)][name + " tau"].append(tau)
                    scores[(ds, n)][name + " rho"].append(rho)
            row = scores[(ds, n)]  # progress, so that a long run shows its rows as they finish
            print(f"  done {ds} n={n}: " + ", ".join(f"{m} {fmt(row[m + ' tau'])}" for m in methods),
                  file=sys.stderr, flush=True)
    for stat, title in (("tau", "Kendall tau"), ("rho", "Spearman")):
        print(f"\n### {title} on all held-out NB201 cells (mean ± std over {len(seeds)} seeds)\n")
        print("| dataset | train cells | " + " | ".join(methods) + " |")
        print("|---|---|" + "---|" * len(methods))
        for (ds, n), row in sorted(scores.items()):
            print(f"| {ds} | {n} | " + " | ".join(fmt(row[f'{m} {stat}']) for m in methods) + " |")
    print(f"\nGNN fit time: {np.mean(gnn_seconds):.1f} s mean per fit ({config.members} members, CPU)")


def with_features(sizes, seeds, config: PredictorConfig, proxies: tuple[str, ...], dataset: str = "cifar10") -> None:
    """Proxy features and the pretrained encoder: four GNN variants and xgboost with/without proxies.

    Settings (which proxies, proxy_weight, the pretext) were chosen on cifar100 with seeds 10, 11
    (``--dataset cifar100 --seeds-from 10``); the table reports cifar10 with seeds 0-4.
    """
    from gennas.surrogates.features import raw_proxies, squash

    bench = gennas.load_benchmark("nb201")
    space = bench.space
    archs = bench.archs()
    acc = bench.accuracy_of(None, dataset)
    onehot = space.encode(archs)
    # trees need no scaling; squash only tames synflow's 1e30 range. NaN (a constant network) stays NaN:
    # xgboost routes missing values itself
    with_proxies = np.concatenate([onehot, squash(raw_proxies(space, archs, proxies))], axis=1)
    plain = replace(config, pretrained=False, proxies=())
    variants = {
        "GNN (as before)": plain,
        "+ proxy features": replace(plain, proxies=proxies),
        "+ pretrained encoder": replace(plain, pretrained=True),
        "+ both": replace(plain, proxies=proxies, pretrained=True),
        # 600 steps: chosen on cifar100, seeds 10-11, n=100 (tau 0.813 vs 0.793 at 300 steps)
        f"+ both, {2 * plain.steps} steps": replace(plain, proxies=proxies, pretrained=True, steps=2 * plain.steps),
    }
    best_gnn = list(variants)[-1]
    blend = f"blend (not a gennas model): z-score mean of '{best_gnn}' and xgboost + proxies"
    names = [*variants, "xgboost, encoding", "xgboost, encoding + proxies", blend]
    rows: dict[tuple[int, str], list[float]] = defaultdict(list)
    cost: dict[str, list[float]] = defaultdict(list)
    for n in sizes:
        for seed in seeds:
            order = np.random.default_rng(seed).permutation(len(archs))
            tr, te = order[:n], order[n:]
            preds = {}
            for name, cfg in variants.items():
                cpu = time.process_time()
                pred = Predictor(space, cfg, seed=seed).fit([archs[i] for i in tr], acc[tr], task=dataset)
                preds[name] = pred.predict([archs[i] for i in te], task=dataset)[0]
                cost[name].append(time.process_time() - cpu)
                rows[(n, name)].append(corr(preds[name], acc[te])[0])
            for name, x in (("xgboost, encoding", onehot), ("xgboost, encoding + proxies", with_proxies)):
                cpu = time.process_time()
                preds[name] = xgb_fit_predict(x[tr], acc[tr], x[te], seed)
                rows[(n, name)].append(corr(preds[name], acc[te])[0])
                cost[name].append(time.process_time() - cpu)
            # not a gennas model: how much a tree model on the proxies adds to the best GNN variant
            trees = "xgboost, encoding + proxies"
            rows[(n, blend)].append(corr(zscore(preds[best_gnn]) + zscore(preds[trees]), acc[te])[0])
            cost[blend].append(cost[best_gnn][-1] + cost[trees][-1])
            print(f"  done n={n} seed={seed}: " + ", ".join(f"{k} {rows[(n, k)][-1]:.3f}" for k in names),
                  file=sys.stderr, flush=True)
    print(f"\n### Kendall tau on all held-out NB201 cells, {dataset}, proxies {list(proxies)} "
          f"(mean ± std over seeds {seeds})\n")
    print("| method | " + " | ".join(f"{n} labelled" for n in sizes) + " | CPU s per fit+predict |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for name in names:
        print(f"| {name} | " + " | ".join(fmt(rows[(n, name)]) for n in sizes) + f" | {np.mean(cost[name]):.1f} |")


def mbv3_encoder(sizes, seeds, config: PredictorConfig) -> None:
    """A fresh mbv3 predictor with and without the shipped self-supervised encoder, ranking the
    bundled latency table's subnets by measured latency (log ms, each device of the table) from
    ``sizes`` labelled ones."""
    from gennas.bench import load_latency_table
    from latency import mbv3_flops  # experiments/latency.py: the FLOPs cache of the table's subnets

    table = load_latency_table("mbv3")
    space, archs = table.space, table.archs()
    onehot = space.encode(archs)
    flops = mbv3_flops(space, table.strings)
    variants = {"GNN from scratch (pretrained=False)": replace(config, pretrained=False),
                "GNN from the encoder (default)": replace(config, pretrained=True)}
    names = [*variants, "xgboost, one-hot encoding", "FLOPs alone"]
    rows: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    for device, latency in table.latencies.items():
        y = np.log(latency)
        for n in sizes:
            for seed in seeds:
                order = np.random.default_rng(seed).permutation(len(archs))
                tr, te = order[:n], order[n:]
                for name, cfg in variants.items():
                    pred = Predictor(space, cfg, seed=seed).fit([archs[i] for i in tr], y[tr], task=device)
                    rows[(device, n, name)].append(corr(pred.predict([archs[i] for i in te], task=device)[0], y[te])[0])
                rows[(device, n, names[2])].append(corr(xgb_fit_predict(onehot[tr], y[tr], onehot[te], seed), y[te])[0])
                rows[(device, n, names[3])].append(corr(flops[te], y[te])[0])
                print(f"  done {device} n={n} seed={seed}: "
                      + ", ".join(f"{k} {rows[(device, n, k)][-1]:.3f}" for k in names), file=sys.stderr, flush=True)
    print(f"\n### Kendall tau on the other mbv3 subnets of the latency table, log ms (mean ± std over seeds {seeds})\n")
    print("| device | method | " + " | ".join(f"{n} labelled" for n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for device in table.latencies:
        for name in names:
            print(f"| {device} | {name} | " + " | ".join(fmt(rows[(device, n, name)]) for n in sizes) + " |")


def cross_task(seeds, shots=(0, 10, 20, 100)) -> None:
    bench = gennas.load_benchmark("nb201")
    space = bench.space
    archs = bench.archs()
    onehot = space.encode(archs)
    print("\n### Cross-task: pretrained without the target's labels, then k target samples "
          f"(Kendall tau on all other target cells, {len(seeds)} seeds)\n")
    print("| source -> target | k | GNN + task fitted to k samples | GNN + update() on k | xgboost on k | "
          "the source table itself (no model) | true acc of the GNN's top cell (k = 0: zero-shot; else after "
          "update()) |")
    print("|---|---|---|---|---|---|---|")
    for target in DATASETS:
        if not checkpoint_path("nb201", target).is_file():
            print(f"| (no checkpoint predictor_nb201_no-{target}.pt: run experiments/train_predictor.py) | | | | | |")
            continue
        source = [d for d in DATASETS if d != target][0]
        acc, source_acc = bench.accuracy_of(None, target), bench.accuracy_of(None, source)
        for k in shots:
            emb, upd, xgb, table, top = [], [], [], [], []
            for seed in seeds:
                pred = load_predictor("nb201", holdout=target)
                pick = np.random.default_rng(seed).choice(len(archs), k, replace=False) if k else np.array([], int)
                rest = np.setdiff1d(np.arange(len(archs)), pick)
                test = [archs[i] for i in rest]
                # what transfer-topk ranks by: the other dataset's measured accuracies
                table.append(corr(source_acc[rest], acc[rest])[0])
                if k == 0:
                    zero_shot = pred.predict(test, task=source)[0]
                    emb.append(corr(zero_shot, acc[rest])[0])
                    top.append(acc[rest][int(np.argmax(zero_shot))])
                    continue
                task = Task.from_samples([(archs[i], acc[i]) for i in pick])
                emb.append(corr(pred.predict(test, task=task)[0], acc[rest])[0])
                pred.update([archs[i] for i in pick], acc[pick], task=target)
                updated = pred.predict(test, task=target)[0]
                upd.append(corr(updated, acc[rest])[0])
                top.append(acc[rest][int(np.argmax(updated))])  # a user walk: the top cell fell with update()
                xgb.append(corr(xgb_fit_predict(onehot[pick], acc[pick], onehot[rest], seed), acc[rest])[0])
            cells = [fmt(emb)] + [fmt(v) if v else "-" for v in (upd, xgb)] + [fmt(table), fmt(top)]
            print(f"| {source} -> {target} | {k} | " + " | ".join(cells) + " |")


def image_conditioning(folds: int, config: PredictorConfig, steps: int) -> None:
    meta = load_meta()
    if len(meta) < 4:
        print("\n(image conditioning: no meta-dataset; run experiments/meta_dataset.py)")
        return
    constant = torch.stack([t.descriptor for t, _, _, _ in meta]).mean(0)
    blind = lambda i: Task("images", f"blind:{i}", descriptor=constant)  # noqa: E731 (no task information)
    order = np.random.default_rng(0).permutation(len(meta))
    res = defaultdict(list)
    for f in range(folds):
        held = set(order[f::folds].tolist())
        train = [m for i, m in enumerate(meta) if i not in held]
        cond = Predictor("nb201", config, seed=f).fit_tasks([(t, a, s) for t, a, s, _ in train], steps=steps)
        unc = Predictor("nb201", config, seed=f).fit_tasks(
            [(blind(i), a, s) for i, (_, a, s, _) in enumerate(train)], steps=steps)
        for i in sorted(held):
            task, a, s, _ = meta[i]
            res["conditioned"].append(corr(cond.predict(a, task=task)[0], s)[0])
            res["blind"].append(corr(unc.predict(a, task=blind(-1))[0], s)[0])
            res["mae_conditioned"].append(float(np.abs(cond.predict(a, task=task)[0] - s).mean()))
            res["mae_blind"].append(float(np.abs(unc.predict(a, task=blind(-1))[0] - s).mean()))
    rows = sum(len(a) for _, a, _, _ in meta)
    print(f"\n### Image conditioning on held-out meta-tasks ({len(meta)} tasks, {rows} rows, {folds} folds)\n")
    print("| predictor | Kendall tau on held-out task | MAE (accuracy points) |\n|---|---|---|")
    print(f"| conditioned on the task's images | {fmt(res['conditioned'])} | {fmt(res['mae_conditioned'])} |")
    print(f"| same, no task information | {fmt(res['blind'])} | {fmt(res['mae_blind'])} |")


def shipped_on_unseen_functions(train_cells: int = 2000) -> None:
    """Kendall tau of the shipped predictor on its held-out cells: all, those of a functional class
    holding a training cell, those of one holding none, and one cell per unseen class."""
    bench = gennas.load_benchmark("nb201")
    archs = [bench.space.from_string(s) for s in bench.strings]
    order = np.random.default_rng(0).permutation(len(archs))  # train_predictor.py's split
    train, test = order[:train_cells], order[train_cells:]
    classes = [a.canonical_hash(functional=True) for a in archs]
    trained = {classes[i] for i in train}
    unseen = [i for i in test if classes[i] not in trained]
    first: dict[str, int] = {}
    for i in unseen:
        first.setdefault(classes[i], i)
    groups = {"all held-out cells": list(test), "of a trained class": [i for i in test if classes[i] in trained],
              "of an unseen class": unseen, "one per unseen class": list(first.values())}
    predictor = gennas.load_predictor("nb201")
    print("\n### The shipped predictor on cells of unseen functions\n")
    print("| dataset | cells | n | Kendall tau |\n|---|---|---|---|")
    for ds in ("cifar10", "cifar100"):
        mean = predictor.predict(archs, task=ds)[0]
        truth = bench.accuracy_of(None, ds)
        for name, rows in groups.items():
            print(f"| {ds} | {name} | {len(rows)} | {kendalltau(mean[rows], truth[rows])[0]:.4f} |")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--sizes", default=None, help="comma list of training-set sizes")
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--parts", default="efficiency,features,cross,images",
                   help="comma list of: efficiency, features (proxy features / pretrained encoder), cross, images, "
                   "mbv3 (the mbv3 encoder), shipped (the shipped predictor on unseen functions)")
    p.add_argument("--proxies", default="params,flops", help="proxy features of the features part")
    p.add_argument("--dataset", default="cifar10", help="dataset of the features part")
    p.add_argument("--seeds-from", type=int, default=0, help="first seed (the features part was tuned on 10, 11)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print("reproduce with: python experiments/predictor.py " + " ".join(sys.argv[1:] if argv is None else argv))
    sizes = [int(s) for s in (args.sizes or ("100" if args.quick else "50,100,200,500,1000")).split(",")]
    seeds = list(range(args.seeds_from, args.seeds_from + (args.seeds or (2 if args.quick else 5))))
    config = PredictorConfig()
    parts = args.parts.split(",")
    if "efficiency" in parts:
        sample_efficiency(sizes, seeds, config)
    if "features" in parts:
        start, cpu = time.perf_counter(), time.process_time()
        with_features([int(s) for s in (args.sizes or "50,100").split(",")] if "efficiency" not in parts else [50, 100],
                      seeds, config, tuple(args.proxies.split(",")), args.dataset)
        print(f"\nfeatures part: {time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU")
    if "mbv3" in parts:
        mbv3_encoder([int(s) for s in (args.sizes or "50,100").split(",")], seeds, config)
    if "cross" in parts:
        cross_task(seeds)
    if "shipped" in parts:
        shipped_on_unseen_functions()
    if "images" in parts:
        image_conditioning(2 if args.quick else 4, config, 150 if args.quick else 300)


if __name__ == "__main__":
    main()
