"""Generators: validity / uniqueness / novelty, sampling cost, and guidance quality on NB201.

Three markdown tables:

1. Validity, uniqueness and novelty of 1,000 raw samples (before projection and deduplication)
   per generator and space. Validity: rows the space accepts as they are. Uniqueness: distinct
   graphs, and distinct canonical hashes (isomorphism classes), among valid rows; ``sample()``
   then deduplicates by canonical hash (100 % by construction). For i.i.d. draws the birthday
   bound caps raw uniqueness: 1,000 uniform draws from 15,625 cells repeat ~3 %.
   Prior fit: how far each slot's share of choices among the raw draws is from the training
   distribution's (total-variation distance per slot, mean / max over slots; against n draws of
   that distribution, so about 0.03 is sampling noise at n = 1,000): a reconstruction rate does not
   show a VAE whose prior samples miss its data.
   Novelty: valid draws that are not a row the generator trained on (as graphs): nb201's generators
   trained on the whole space less a seeded 5 % held out (781 cells), so a uniform sampler's
   novelty there is about 5 %; mbv3's on its manifest's prior samples. Uniform random sampling is
   shown for reference. nb201's unguided diffusion is a uniform sampler by construction: its
   training rows are every op assignment, a uniform product distribution (its loss is ln 5 nats
   per slot, the manifest's uniform_slot_nll).
2. Wall time and peak memory (resident set, fresh process) for 1,000 valid samples (within the
   budget where there is one; duplicates allowed, distinct ones counted), guided (predictor for
   cifar10 + a latency budget on pixel3: soft penalty + hard filter) and unguided.
3. Guidance quality with the bundled tables: each method yields a pool of 1,000 distinct cells,
   ranked by the predictor; true test accuracy of the top 1 / mean of top 10 / mean of top 100
   and the best cell in the pool (oracle), mean over seeds, and how often the top-1 is the
   benchmark optimum. Then latency budgets (the space's median latency on each device): fraction
   of raw guided samples truly within budget, and the top-1's true accuracy vs the optimum
   under that budget.

    python experiments/generators.py --quick      # minutes on 2 cores
    python experiments/generators.py              # full: more seeds
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line  # noqa: E402

import gennas  # noqa: E402
from gennas.generators import load_generator  # noqa: E402
from gennas.generators.guidance import Guidance, LinearSlotModel  # noqa: E402
from gennas.generators.training import generator_dataset, split  # noqa: E402

KINDS = ("diffusion", "vae")


class ZeroShot:
    """A predictor asked for a task it was not trained on answers for its default task (the
    designer's zero-shot, before results): the holdout predictor has no cifar10 and was asked for it."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor

    def _task(self, task):
        return task if task is None or task in self.predictor.tasks else None

    def predict(self, archs, task=None):
        return self.predictor.predict(archs, self._task(task))

    def predict_soft(self, probs, task=None):
        return self.predictor.predict_soft(probs, self._task(task))


def value_models(space: str, source: str, seed: int = 0):
    """(predictor-like object, description). ``pretrained``: gennas.load_predictor; ``linear``: a
    linear surrogate fitted on 500 labelled random cells (used where no pretrained one exists)."""
    if source == "pretrained":
        return gennas.load_predictor(space), "pretrained predictor (checkpoints/predictor_nb201.pt)"
    if source.endswith(".pt"):
        from gennas.surrogates.predictor import Predictor
        return Predictor.load(source, space), f"predictor {source}"
    if source == "pretrained-holdout":
        return (ZeroShot(gennas.load_predictor(space, holdout="cifar10")),
                "pretrained predictor without cifar10 labels (cifar10 guided by its default task, zero-shot)")
    bench = gennas.load_benchmark(space)
    rows = np.random.default_rng(seed).choice(len(bench), 500, replace=False)
    archs = [bench.space.from_string(bench.strings[r]) for r in rows]
    models = {d: LinearSlotModel.fit(space, archs, bench.accuracy_of(None, d)[rows]) for d in bench.datasets}

    class Linear:
        def predict_soft(self, probs, task=None):
            m = models[task or "cifar10"](probs)
            return m, torch.zeros_like(m)

        def predict(self, archs, task=None):
            sp = bench.space
            x = torch.from_numpy(sp.encode(archs).reshape(len(archs), sp.num_slots, -1))
            m = models[task or "cifar10"](x).double().numpy()
            return m, np.zeros_like(m)
    return Linear(), "linear surrogate fitted on 500 labelled random cells"


# ---------------------------------------------------------------- 1. validity, uniqueness, novelty
def quality_table(n: int, seed: int) -> list[str]:
    lines = ["| space | generator | validity % | uniqueness % (distinct graphs) | uniqueness % (canonical) | "
             "slot shares' distance to the training data (mean / max) | novelty % |",
             "|---|---|---|---|---|---|---|"]
    for space_name in ("nb201", "mbv3"):
        space = gennas.load_space(space_name)
        gen = load_generator(space_name, "diffusion")
        if space_name == "mbv3":
            samples = int(gen.manifest["data"].split(" ")[0].replace(",", ""))
            trained_on = {a.to_string() for a in space.sample_many(samples, 0)}
        else:  # the whole space less the seeded split's held-out rows (manifest: train_size, val_size)
            every, _ = generator_dataset(gen, 0, 0)
            rows_trained, _ = split(every, 0, whole=True)
            trained_on = {a.to_string() for a in gen.to_archs(rows_trained)}
            assert len(rows_trained) == gen.manifest["metrics"]["train_size"], "not the shipped training split"
        rng = np.random.default_rng(seed)
        uniform = _uniform_rows(space, n, rng)
        rows = {"uniform random (reference)": [[space.slot_vocab[i] for i in r] for r in uniform]}
        indices = {}
        for kind in KINDS:
            indices[kind] = load_generator(space_name, kind).sample_choices(n, seed=seed)
            rows[kind] = [[space.slot_vocab[i] for i in r] for r in indices[kind]]
        # what the generators were trained to draw: every op assignment (nb201), the prior's samples (mbv3)
        data = uniform if space_name == "nb201" else gen.to_indices(space.sample_many(n, seed + 1)).numpy()
        for name, choice_rows in rows.items():
            valid = []
            for c in choice_rows:
                try:
                    valid.append(space.from_choices(c))
                except gennas.InvalidArchitecture:
                    pass
            hashes = {a.canonical_hash() for a in valid}
            novel = 100.0 * np.mean([a.to_string() not in trained_on for a in valid])
            fit = "" if name not in indices else "{:.3f} / {:.3f}".format(*slot_distance(indices[name], data,
                                                                                     len(space.slot_vocab)))
            lines.append(f"| {space_name} | {name} | {100 * len(valid) / n:.2f} | "
                         f"{100 * len(set(valid)) / max(len(valid), 1):.2f} | "
                         f"{100 * len(hashes) / max(len(valid), 1):.2f} | {fit} | {novel:.2f} |")
    return lines


def slot_distance(drawn: np.ndarray, data: np.ndarray, vocab: int) -> tuple[float, float]:
    """Mean and max over slots of the total-variation distance between the shares of each choice
    in ``drawn`` and in ``data`` (rows of slot indices, ``(n, S)`` each)."""
    tv = [0.5 * np.abs(np.bincount(drawn[:, j], minlength=vocab) / len(drawn)
                       - np.bincount(data[:, j], minlength=vocab) / len(data)).sum() for j in range(drawn.shape[1])]
    return float(np.mean(tv)), float(np.max(tv))


def _uniform_rows(space, n: int, rng) -> np.ndarray:
    """Uniform over the slot grid (mbv3: over each slot's allowed ops, so some rows are invalid)."""
    mask = space.slot_mask()
    return np.array([[rng.choice(np.flatnonzero(m)) for m in mask] for _ in range(n)])


# ---------------------------------------------------------------- 2. time and memory
def _timed(args: tuple) -> tuple[float, float, float, int, int]:
    space_name, kind, guided, n, threads, value_source = args
    torch.set_num_threads(threads)
    gen = load_generator(space_name, kind)
    guidance = None
    if guided:
        predictor, _ = value_models(space_name, value_source)
        estimator = gennas.load_latency_estimator(space_name)
        guidance = Guidance.for_task(space_name, "cifar10", "pixel3", 15.0, predictor=predictor, estimator=estimator)
    gen.sample(8, seed=1, guidance=guidance)  # warm-up: lazy imports, first-call allocations
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    start = time.perf_counter()
    archs = gen.sample(n, seed=0, guidance=guidance, unique=False, max_draws=20 * n)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    return seconds, peak, before, len(archs), len({a.canonical_hash() for a in archs})


def cost_table(n: int, threads: int, value_source: str, spaces: tuple[str, ...]) -> list[str]:
    lines = [f"| space | generator | guidance | seconds for {n:,} | samples (distinct) | peak RSS MiB | "
             "RSS before MiB |", "|---|---|---|---|---|---|---|"]
    ctx = mp.get_context("spawn")  # a fresh process per row: peak memory is that row's own
    for space_name in spaces:
        for kind in KINDS:
            for guided in (False, True):
                if guided and space_name != "nb201":
                    continue  # no predictor / latency estimator is shipped for mbv3
                with ctx.Pool(1) as pool:
                    sec, peak, before, got, distinct = pool.apply(
                        _timed, ((space_name, kind, guided, n, threads, value_source),))
                value = "linear surrogate" if value_source == "linear" else "predictor"
                label = f"cifar10 {value} + pixel3 <= 15 ms" if guided else "none"
                lines.append(f"| {space_name} | {kind} | {label} | {sec:.2f} | {got} ({distinct}) | {peak:.0f} | "
                             f"{before:.0f} |")
    return lines


# ---------------------------------------------------------------- 3. guidance quality
def pool_of(method: str, kind: str | None, n: int, seed: int, guidance: Guidance | None, space) -> list:
    if method == "uniform random":
        seen: dict[str, gennas.ArchGraph] = {}
        rng = np.random.default_rng(seed)
        while len(seen) < n:
            a = space.sample(rng)
            seen.setdefault(a.canonical_hash(), a)
        return list(seen.values())
    return load_generator(space.name, kind).sample(n, seed=seed, guidance=guidance)


def guidance_table(n: int, seeds: list[int], predictor, scale: float, num_candidates: int) -> list[str]:
    bench = gennas.load_benchmark("nb201")
    space = bench.space
    lines = ["| dataset | method | top-1 % | top-10 mean % | top-100 mean % | best in pool % | top-1 = optimum | "
             "seconds |", "|---|---|---|---|---|---|---|---|"]
    for ds in bench.datasets:
        optimum = bench.accuracy_of(None, ds).max()
        value = _soft(predictor, ds)
        methods = [("uniform random", None, None)]
        for kind in KINDS:
            methods += [(f"{kind} unguided", kind, None),
                        (f"{kind} guided (gradient, scale {scale:g})", kind, Guidance(value=value, scale=scale))]
            if num_candidates > 1:
                methods.append((f"{kind} guided (gradient + {num_candidates} candidates)", kind,
                                Guidance(value=value, scale=scale, num_candidates=num_candidates)))
        for name, kind, guidance in methods:
            res, secs = [], []
            for seed in seeds:
                start = time.perf_counter()
                archs = pool_of(name, kind, n, seed, guidance, space)
                secs.append(time.perf_counter() - start)
                mean, _ = predictor.predict(archs, ds)
                true = bench.accuracy_of(archs, ds)[np.argsort(-mean, kind="stable")]
                res.append([true[0], true[:10].mean(), true[:100].mean(), true.max(), true[0] >= optimum - 1e-9])
            r = np.array(res, dtype=float)
            lines.append(f"| {ds} | {name} | {r[:, 0].mean():.2f} ± {r[:, 0].std():.2f} | {r[:, 1].mean():.2f} | "
                         f"{r[:, 2].mean():.2f} | {r[:, 3].mean():.2f} | {int(r[:, 4].sum())}/{len(seeds)} | "
                         f"{np.mean(secs):.2f} |")
        lines.append(f"| {ds} | (benchmark optimum) | {optimum:.2f} | | | | | |")
    return lines


def _soft(predictor, task):
    def value(probs):
        return predictor.predict_soft(probs, task)[0]
    return value


def budget_table(n: int, seeds: list[int], predictor, devices: list[str], scale: float) -> list[str]:
    bench = gennas.load_benchmark("nb201")
    estimator = gennas.load_latency_estimator("nb201")
    lines = ["| device | budget ms (median) | generator | raw within budget %, unguided | raw within budget %, "
             "guided | returned truly within % | top-1 cifar10 % | optimum within budget % |",
             "|---|---|---|---|---|---|---|---|"]
    for device in devices:
        budget = float(np.median(bench.latency_of(None, device)))
        _, best = bench.best("cifar10", budget, device)
        for kind in KINDS:
            gen = load_generator("nb201", kind)
            g = Guidance.for_task("nb201", "cifar10", device, budget, predictor=predictor, estimator=estimator,
                                  scale=scale)
            r = []
            for seed in seeds:
                plain = gen.to_archs(gen.sample_choices(n, seed=seed))
                raw = gen.to_archs(gen.sample_choices(n, seed=seed, guidance=g))
                kept = gen.sample(n // 10, seed=seed, guidance=g)
                mean, _ = predictor.predict(kept, "cifar10")
                top = kept[int(np.argmax(mean))]
                r.append([(bench.latency_of(plain, device) <= budget).mean(), (bench.latency_of(raw, device) <= budget).mean(),
                          (bench.latency_of(kept, device) <= budget).mean(), bench.accuracy(top, "cifar10")])
            r = 100 * np.array(r)
            lines.append(f"| {device} | {budget:.2f} | {kind} | {r[:, 0].mean():.1f} | {r[:, 1].mean():.1f} | "
                         f"{r[:, 2].mean():.1f} | {r[:, 3].mean() / 100:.2f} | {best:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer seeds")
    p.add_argument("--seeds", type=int, default=None, help="default 10 (quick: 3)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: on a shared, oversubscribed machine more threads ran slower)")
    p.add_argument("--scale", type=float, default=0.3, help="gradient guidance scale")
    p.add_argument("--candidates", type=int, default=4, help="derivative-free continuations per step")
    p.add_argument("--value", default="pretrained",
                   help="pretrained | pretrained-holdout (no cifar10 labels) | linear | a predictor .pt file")
    p.add_argument("--tables", default="1,2,3,4")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds or (3 if args.quick else 10)))
    tables = set(args.tables.split(","))
    print(f"# {command_line()}\n")
    predictor, desc = value_models("nb201", args.value)
    if "1" in tables:
        print("## Validity, uniqueness, novelty of 1,000 raw samples\n")
        print("\n".join(quality_table(1000, 0)) + "\n")
    if "2" in tables:
        print(f"## Sampling cost ({args.threads} threads)\n")
        print("\n".join(cost_table(1000, args.threads, args.value, ("nb201", "mbv3"))) + "\n")
    if "3" in tables:
        print(f"## Guidance quality on nb201 ({len(seeds)} seeds; pools of 1,000 ranked by the {desc})\n")
        print("\n".join(guidance_table(1000, seeds, predictor, args.scale, args.candidates)) + "\n")
    if "4" in tables:
        print(f"## Latency budgets ({len(seeds)} seeds, 1,000 raw samples; cifar10 predictor guidance, scale "
              f"{args.scale:g}, + estimator budget guidance and filter)\n")
        print("\n".join(budget_table(1000, seeds, predictor, ["pixel3", "1080ti_1", "gold_6240", "samsung_a50"],
                                     args.scale)) + "\n")


if __name__ == "__main__":
    main()
