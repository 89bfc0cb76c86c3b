"""Latency budgets in a space without a pretrained latency estimator: does the bound hold?

A space of the user's own (or darts) has no estimator meta-trained on many devices, so a device
is described by the architectures `gennas latency measure` times on it
(:func:`gennas.surrogates.slot_latency.reference_count`: 60 for a cell like nb201's) and the rest
are predicted additively from their slot choices, with a conformal upper bound
(:mod:`gennas.surrogates.slot_latency`). Checked here where the truth is known:

1. **The 19 devices of the NAS-Bench-201 latency tables**, each as if it were a new device of a
   space without an estimator: ``--draws`` times (default 20) a fresh seeded set of that many
   working cells is "timed" (their table latencies), the model fitted on them alone, and judged
   on every working cell of the table: the 95 % bound's coverage; and for budgets at the 10th /
   25th / 50th percentile of the device's latencies, the share of the cells the bound keeps that
   are truly over (what a designer's designs can be; target at most 5 %) and the share of the
   cells truly under that it keeps. The first draw is the model's own reference cells.
2. ``--here``: a space of the script's own (a 4-node cell of convolutions, separable
   convolutions and pooling, written to a temporary YAML) timed on this machine, one thread, CPU
   clock: the reference cells, then ``--held-out`` (300) other random cells; the bound's coverage of
   those, and the same budget shares among them; then 20 random sets of as many cells from all
   timed, each fitted three ways (the model, which chooses by cross-validation between the ops as
   listed and as the built cells compute them, and each of the two) and judged on the rest.

3. ``--darts``: darts (no estimator either) on this machine end to end: its reference
   architectures timed (CPU clock), a designer's 6-verification synflow search and ``generate(5)``
   under the 25th percentile of those timings, and each design timed against the budget.
4. ``--nb201-here``: nb201, which has a pretrained estimator, on this machine: its 10 reference
   cells, the slot model's 60 random ones and ``--held-out`` others timed (one thread, CPU clock,
   the benchmark's network); the estimator adapted from the references (what `gennas latency
   measure` registers) and the slot choices alone fitted on the random cells (what `--cells 60`
   registered before it also timed the references and offered the estimator's correction:
   ``experiments/stacked_latency.py --here``), each 95 % bound judged on the others.
5. ``--compare``: the model's two choices against the simpler ones, pooled over the devices and
   draws of 1: the fit in log ms against one in ms, and the bound's quantile within three groups by
   predicted latency against one over every timed cell.
6. ``--mbv3``: mbv3's bundled table (2,000 subnets, two back-ends of this VM) as devices registered
   with ``--cells 30 / 60 / 200``: fitted on that many subnets' timings, judged on the others, the
   slot model's bound alone and as a budget judges it (the larger of it and the FLOPs line's).
7. ``--mbv3-here``: mbv3 registered on this machine by the command a user runs (``gennas latency
   measure --space mbv3 --cells N --clock cpu``, in a temporary ``GENNAS_HOME``; it times 20 of
   the subnets twice, :mod:`gennas.surrogates.retiming`), ``--held-out`` other subnets timed to
   judge both bounds, then ``--designs`` designs per budget at the 10th / 25th / 50th percentile
   of the subnets timed, each timed again in the same sitting.

    python experiments/slot_latency.py                  # the tables (about 15 s)
    python experiments/slot_latency.py --here           # and this machine (about 1 minute)
    python experiments/slot_latency.py --compare        # and the simpler fits (about 30 s)
    python experiments/slot_latency.py --darts          # and darts end to end (about 4 minutes)
    python experiments/slot_latency.py --nb201-here     # and nb201 here, both models (about 2 minutes)
    python experiments/slot_latency.py --mbv3           # and mbv3's table at random (seconds)
    python experiments/slot_latency.py --mbv3-here --cells 60 --held-out 100   # mbv3 here (about 2 minutes)
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import gennas  # noqa: E402
from gennas.surrogates.retiming import recorded_margin  # noqa: E402
from gennas.surrogates.slot_latency import SlotLatencyModel, fit_device, one_hot, reference_count  # noqa: E402

CONFIDENCE = 0.95
PERCENTILES = (10, 25, 50)
HERE_SPACE = """kind: cell
name: slot_latency_here
input_size: 32
cell:
  nodes: 4
  zero_op: none
  identity_op: skip
  ops:
    none: {type: zero}
    skip: {type: identity}
    conv3: {type: relu_conv_bn, kernel: 3}
    sep5: {type: sep_conv, kernel: 5}
    pool3: {type: max_pool, kernel: 3}
macro: {channels: 16, cells_per_stage: 2, stages: 3}
"""


def judge(model: SlotLatencyModel, device: str, archs: list, ms: np.ndarray) -> dict[str, float]:
    """Coverage of the bound over ``archs`` (true ``ms`` ``(n,)``) and, per budget percentile, the
    share of kept cells truly over and of truly-under cells kept."""
    return judged(model.upper_bound(archs, device, CONFIDENCE), ms)


def judged(bound: np.ndarray, ms: np.ndarray) -> dict[str, float]:
    """:func:`judge` of an upper ``bound`` (ms ``(n,)``) against the true ``ms`` ``(n,)``."""
    row = {"coverage": float(np.mean(ms <= bound))}
    for pct in PERCENTILES:
        budget = float(np.percentile(ms, pct))
        kept, under = bound <= budget, ms <= budget
        row[f"over{pct}"] = float(np.mean(ms[kept] > budget)) if kept.any() else float("nan")
        row[f"kept{pct}"] = float(np.mean(kept[under])) if under.any() else float("nan")
    return row


def print_judged(what: str, rows: dict[str, dict[str, float]]) -> None:
    """A markdown table of :func:`judge` rows, one per named fit or model."""
    print(f"| {what} | coverage | " + " | ".join(f"kept over, p{p}" for p in PERCENTILES) + " | "
          + " | ".join(f"under kept, p{p}" for p in PERCENTILES) + " |")
    print("|---|---|" + "---|" * (2 * len(PERCENTILES)))
    for name, row in rows.items():
        print(f"| {name} | {100 * row['coverage']:.1f} % | "
              + " | ".join("- (none kept)" if np.isnan(row[f"over{p}"]) else f"{100 * row[f'over{p}']:.1f} %"
                           for p in PERCENTILES) + " | "
              + " | ".join(f"{100 * row[f'kept{p}']:.0f} %" for p in PERCENTILES) + " |")


def tables(draws: int) -> None:
    space, bench = gennas.load_space("nb201"), gennas.load_benchmark("nb201")
    cells = [a for a in space.enumerate() if not space.output_is_constant(a)]
    n = reference_count(space)
    references = SlotLatencyModel(space).reference_archs()
    print(f"`python experiments/slot_latency.py --draws {draws}`: {len(bench.devices)} NAS-Bench-201 devices, "
          f"each fitted from {n} working cells' table latencies ({draws} draws, the first the model's reference "
          f"cells), judged on all {len(cells)} working cells; {CONFIDENCE:.0%} bound\n")
    header = ("| device | coverage mean | coverage min | " +
              " | ".join(f"kept over, p{p} (mean / max)" for p in PERCENTILES) + " | " +
              " | ".join(f"under kept, p{p}" for p in PERCENTILES) + " |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    pooled: list[dict[str, float]] = []
    for device in bench.devices:
        ms_all = np.asarray(bench.latency_of(cells, device), dtype=np.float64)
        index = {space.to_string(a): i for i, a in enumerate(cells)}
        rows = []
        for draw in range(draws):
            rng = np.random.default_rng(draw)
            picked = ([index[space.to_string(a)] for a in references] if draw == 0
                      else rng.choice(len(cells), n, replace=False))
            model = SlotLatencyModel(space).adapt(device, [(cells[i], ms_all[i]) for i in picked])
            rows.append(judge(model, device, cells, ms_all))
        pooled += rows
        cov = [r["coverage"] for r in rows]
        over = [f"{100 * np.nanmean([r[f'over{p}'] for r in rows]):.1f} / {100 * np.nanmax([r[f'over{p}'] for r in rows]):.1f} %"
                for p in PERCENTILES]
        kept = [f"{100 * np.nanmean([r[f'kept{p}'] for r in rows]):.0f} %" for p in PERCENTILES]
        print(f"| {device} | {100 * np.mean(cov):.1f} % | {100 * np.min(cov):.1f} % | " + " | ".join(over) + " | "
              + " | ".join(kept) + " |", flush=True)
    over = [f"{100 * np.nanmean([r[f'over{p}'] for r in pooled]):.1f} / {100 * np.nanmax([r[f'over{p}'] for r in pooled]):.1f} %"
            for p in PERCENTILES]
    kept = [f"{100 * np.nanmean([r[f'kept{p}'] for r in pooled]):.0f} %" for p in PERCENTILES]
    cov = [r["coverage"] for r in pooled]
    print(f"| **all** | {100 * np.mean(cov):.1f} % | {100 * np.min(cov):.1f} % | " + " | ".join(over) + " | "
          + " | ".join(kept) + " |")


def _simple_bound(x: np.ndarray, ms: np.ndarray, x_all: np.ndarray, log: bool) -> np.ndarray:
    """A simpler model's 95 % bound ``(len(x_all),)`` from timed cells (one-hot ``x`` ``(n, d)``, ``ms``
    ``(n,)``): ridge of ms (``log=False``: floored at half the fastest timing) or of log ms, one
    conformal quantile of the 10-fold log ratios over every timed cell."""
    def fit(xs: np.ndarray, ys: np.ndarray):
        design = np.hstack([np.ones((len(xs), 1)), xs])
        penalty = 1e-3 * len(xs) * np.eye(design.shape[1])
        penalty[0, 0] = 0.0
        coef = np.linalg.solve(design.T @ design + penalty, design.T @ (np.log(ys) if log else ys))
        return lambda xx: np.exp(coef[0] + xx @ coef[1:]) if log else np.maximum(coef[0] + xx @ coef[1:],
                                                                               0.5 * ys.min())
    folds = np.arange(len(ms)) % 10
    np.random.default_rng(0).shuffle(folds)
    ratios = np.empty(len(ms))
    for fold in range(10):
        held = folds == fold
        ratios[held] = np.log(ms[held]) - np.log(fit(x[~held], ms[~held])(x[held]))
    quantile = np.sort(ratios)[int(np.ceil((len(ms) + 1) * CONFIDENCE)) - 1]
    return fit(x, ms)(x_all) * np.exp(quantile)


def compare(draws: int) -> None:
    space, bench = gennas.load_space("nb201"), gennas.load_benchmark("nb201")
    cells = [a for a in space.enumerate() if not space.output_is_constant(a)]
    x_all = space.encode(cells).astype(np.float64)
    n = reference_count(space)
    variants = {"log ms, three groups (the model)": None, "log ms, one group": True, "ms, one group": False}
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for device in bench.devices:
        ms_all = np.asarray(bench.latency_of(cells, device), dtype=np.float64)
        for draw in range(draws):
            picked = np.random.default_rng(draw).choice(len(cells), n, replace=False)
            for name, log in variants.items():
                if log is None:
                    model = SlotLatencyModel(space).adapt(device, [(cells[i], ms_all[i]) for i in picked])
                    bound = model.upper_bound(cells, device, CONFIDENCE)
                else:
                    bound = _simple_bound(x_all[picked], ms_all[picked], x_all, log)
                rows[name].append(judged(bound, ms_all))
    print(f"\n`python experiments/slot_latency.py --compare --draws {draws}`: the {len(bench.devices)} devices' draws "
          "pooled (draw d: the same cells for every fit)\n")
    print("| fit | coverage mean | " + " | ".join(f"kept over, p{p} (mean / max)" for p in PERCENTILES) + " | "
          + " | ".join(f"under kept, p{p}" for p in PERCENTILES) + " |")
    print("|---|" + "---|" * (1 + 2 * len(PERCENTILES)))
    for name, got in rows.items():
        print(f"| {name} | {100 * np.mean([r['coverage'] for r in got]):.1f} % | "
              + " | ".join(f"{100 * np.nanmean([r[f'over{p}'] for r in got]):.1f} / "
                           f"{100 * np.nanmax([r[f'over{p}'] for r in got]):.1f} %" for p in PERCENTILES) + " | "
              + " | ".join(f"{100 * np.mean([r[f'kept{p}'] for r in got]):.0f} %" for p in PERCENTILES) + " |")


def here(held_out: int) -> None:
    import torch

    from gennas.surrogates import measure

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "slot_latency_here.yaml"
        path.write_text(HERE_SPACE)
        space = gennas.load_space(str(path))
        model = SlotLatencyModel(space)
        references = model.reference_archs()
        seen = {space.to_string(a) for a in references}
        others = [a for a in space.sample_many(8 * held_out, 1)
                  if not space.output_is_constant(a) and space.to_string(a) not in seen]
        others = list({space.to_string(a): a for a in others}.values())[:held_out]
        start, cpu = time.perf_counter(), time.process_time()

        def timed(arch) -> float:
            return measure.measure_timing(arch, space, basis="cpu").ms

        reference_ms = np.array([timed(a) for a in references])
        other_ms = np.array([timed(a) for a in others])
        wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        model.adapt("here", list(zip(references, reference_ms)))
        chose = "computed" if model.fits["here"].computed else "as listed"
        rows = {f"the reference cells: the model (chose the ops {chose})": judge(model, "here", others, other_ms)}
        # then `draws` other sets of as many cells from everything timed, each fit judged on the rest
        pool, pool_ms = references + others, np.concatenate([reference_ms, other_ms])
        fits = {"the model": None, "the ops as listed": False, "the ops computed": True}
        pooled: dict[str, list[dict[str, float]]] = {name: [] for name in fits}
        chosen = 0
        for draw in range(20):
            picked = np.random.default_rng(draw).permutation(len(pool))
            train, test = picked[:len(references)], picked[len(references):]
            for name, computed in fits.items():
                fitted = SlotLatencyModel(space)
                if computed is None:
                    fitted.adapt("here", [(pool[i], pool_ms[i]) for i in train])
                    chosen += fitted.fits["here"].computed
                else:
                    fitted.fits["here"] = replace(fit_device(one_hot(space, [pool[i] for i in train], computed),
                                                             pool_ms[train], len(space.slot_vocab)), computed=computed)
                pooled[name].append(judge(fitted, "here", [pool[i] for i in test], pool_ms[test]))
        for name, got in pooled.items():
            label = f"20 random sets: {name}" + (f" (chose the ops computed in {chosen})" if name == "the model" else "")
            rows[label] = {key: float(np.nanmean([r[key] for r in got])) for key in got[0]}
        print(f"\n`python experiments/slot_latency.py --here --held-out {held_out}`: a 4-node cell space (conv 3x3, "
              f"separable 5x5, max pool 3x3, skip, none; 16 channels, 3 stages of 2 cells) timed on this machine "
              f"(one thread, CPU clock; {wall:.0f} s wall, {cpu_s:.0f} s CPU): fitted from its {len(references)} "
              f"reference cells ({reference_ms.min():.2f}-{reference_ms.max():.2f} ms) and judged on {len(others)} "
              f"other random cells; then fitted from 20 random sets of {len(references)} of all "
              f"{len(pool)} timed, each judged on the rest (means over the sets)\n")
        print_judged("fit", rows)


def darts() -> None:
    import torch

    from gennas.surrogates import measure

    torch.set_num_threads(1)
    space = gennas.load_space("darts")
    model = SlotLatencyModel(space)
    references = model.reference_archs()
    start, cpu = time.perf_counter(), time.process_time()
    timings = [measure.measure_timing(a, space, basis="cpu").ms for a in references]
    model.adapt("here", list(zip(references, timings)))
    budget = float(np.percentile(timings, 25))
    designer = gennas.Designer(space, task="cifar10-synflow", device="here", max_latency_ms=budget, seed=0,
                               estimator=model)
    designer.search(gennas.ProxyEvaluator(space, "synflow"), budget=6, progress=False)
    designs = designer.generate(5)
    measured = [measure.measure_timing(d.arch, space, basis="cpu").ms for d in designs]
    print(f"\n`python experiments/slot_latency.py --darts`: {len(references)} darts reference architectures timed "
          f"here ({min(timings):.1f}-{max(timings):.1f} ms, one thread, CPU clock), a designer's 6-verification synflow "
          f"search and generate(5) under their 25th percentile, {budget:.1f} ms, each design timed "
          f"({time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU)\n")
    print("| design | predicted ms | 95 % bound ms | measured ms | within the budget |")
    print("|---|---|---|---|---|")
    for rank, (design, ms) in enumerate(zip(designs, measured), 1):
        bound = design.latency_bound_ms
        print(f"| {rank} | {design.predicted_latency_ms:.1f} | {'-' if bound is None else f'{bound:.1f}'} | {ms:.1f} | "
              f"{'yes' if ms <= budget else '**no**'} |")


def nb201_here(held_out: int) -> None:
    import torch

    from gennas.surrogates import measure
    from gennas.surrogates.latency import load_latency_estimator

    torch.set_num_threads(1)
    space = gennas.load_space("nb201")
    estimator = load_latency_estimator(space, with_registered=False)
    slots = SlotLatencyModel(space)
    references, cells = estimator.reference_archs(), slots.reference_archs(60)
    seen = {space.to_string(a) for a in references + cells}
    others = [a for a in space.sample_many(8 * held_out, 2) if not space.output_is_constant(a)]
    others = [a for a in {space.to_string(a): a for a in others}.values() if space.to_string(a) not in seen]
    others = others[:held_out]
    build = measure.table_build_options(space)
    start, cpu = time.perf_counter(), time.process_time()

    def timed(archs: list) -> np.ndarray:
        return np.array([measure.measure_timing(a, space, basis="cpu", **build).ms for a in archs])

    reference_ms, cell_ms, other_ms = timed(references), timed(cells), timed(others)
    estimator.adapt("here", list(zip(references, reference_ms)))
    slots.adapt("here", list(zip(cells, cell_ms)))
    print(f"\n`python experiments/slot_latency.py --nb201-here --held-out {held_out}`: nb201's benchmark network "
          f"timed on this machine (one thread, CPU clock; {len(references) + len(cells) + len(others)} cells, "
          f"{time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU, "
          f"{other_ms.min():.2f}-{other_ms.max():.2f} ms); each model's 95 % bound judged on the {len(others)} others\n")
    print_judged("model", {
        f"the estimator, adapted from its {len(references)} references": judge(estimator, "here", others, other_ms),
        f"the slot choices alone, {len(cells)} random cells": judge(slots, "here", others, other_ms)})


def mbv3_tables(draws: int, lowest: int = 50) -> None:
    """mbv3's bundled table (2,000 subnets timed on two back-ends of this VM) as if each back-end
    were a device registered with ``--cells n``: the slot model fitted on ``n`` random subnets'
    table timings and judged on the others: its 95 % bound's coverage of all of them and of the
    ``lowest`` with the lowest bound (what a budget keeps first: the subnets the model thinks
    fastest are where its errors gather), alone and as a budget judges it (the larger of it and
    the FLOPs line's bound, :mod:`gennas.surrogates.cost_bound`), and the RMS error of its log
    prediction; fitted as now (the penalty cross-validated, op counts shared) and as before."""
    from gennas.bench import sampled_timings
    from gennas.surrogates.cost_bound import cost_bounds

    space = gennas.load_space("mbv3")
    vocab = len(space.slot_vocab)
    fits = {"now": {}, "before (penalty 1e-3, no op counts)": {"ridges": (1e-3,), "shared": False}}
    print(f"\n`python experiments/slot_latency.py --mbv3 --draws {draws}`: mbv3's bundled table, each back-end fitted "
          f"from n random subnets' timings ({draws} draws), judged on the other subnets: coverage of the 95 % bound "
          f"over all and over the {lowest} with the lowest bound; the budget's judge is the larger of it and the FLOPs "
          "line's; means over the draws\n")
    print(f"| back-end | subnets | fit | coverage | coverage, {lowest} lowest | budget's judge: coverage, {lowest} lowest "
          "| RMS log error | penalty (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for device in ("cpu_ort_1t", "cpu_torch_1t"):
        table = sampled_timings("mbv3", device)
        archs, ms = [space.from_string(a) for a in table], np.array(list(table.values()))
        x = one_hot(space, archs)
        for n in (30, 60, reference_count(space)):
            for name, options in fits.items():
                got = []
                for draw in range(draws):
                    order = np.random.default_rng(draw).permutation(len(archs))
                    fitted, held = order[:n], order[n:]
                    model = SlotLatencyModel(space)
                    model.fits["new"] = fit_device(x[fitted], ms[fitted], vocab, **options)
                    held_archs = [archs[i] for i in held]
                    slot = model.upper_bound(held_archs, "new", CONFIDENCE)
                    judge_ms = np.maximum(slot, cost_bounds(space, "new", CONFIDENCE,
                                                            [(archs[i], ms[i]) for i in fitted])[0](held_archs))
                    low, low_judged = np.argsort(slot)[:lowest], np.argsort(judge_ms)[:lowest]
                    got.append((np.mean(ms[held] <= slot), np.mean(ms[held][low] <= slot[low]),
                                np.mean(ms[held][low_judged] <= judge_ms[low_judged]),
                                np.sqrt(np.mean((np.log(model.predict(held_archs, "new")) - np.log(ms[held])) ** 2)),
                                model.fits["new"].ridge))
                cov, low_cov, judged_cov, rms, ridge = np.array(got).T
                print(f"| {device} | {n} | {name} | {100 * cov.mean():.1f} % | {100 * low_cov.mean():.1f} % | "
                      f"{100 * judged_cov.mean():.1f} % | {rms.mean():.3f} | {np.median(ridge):g} |", flush=True)


def mbv3_here(cells: int, held_out: int, designs: int) -> None:
    """mbv3 on this machine as a user registers it with ``gennas latency measure --cells``: the
    command run whole (in a temporary ``GENNAS_HOME``), ``held_out`` other random subnets timed to
    judge the slot model's bound and the budget's judge (the larger of it and the FLOPs line's),
    then ``designs`` designs under budgets at the 10th / 25th / 50th percentile of the timed
    subnets, each timed in the same sitting."""
    import subprocess
    import sys

    import torch

    from gennas.surrogates import measure
    from gennas.surrogates.cost_bound import cost_bounds
    from gennas.surrogates.latency import load_latency_estimator

    torch.set_num_threads(1)
    space = gennas.load_space("mbv3")
    timing = {"repeats": 5, "max_repeats": 15, "max_seconds": 3.0, "warmup": 3}  # the bundled table's settings
    build = measure.table_build_options(space)
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as home:
        os.environ["GENNAS_HOME"] = home
        command = [sys.executable, "-m", "gennas", "latency", "measure", "--space", "mbv3", "--name", "here",
                   "--cells", str(cells), "--clock", "cpu", "--accept-noisy",
                   *(f"--{k.replace('_', '-')}={v}" for k, v in timing.items())]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        registered = dict(measure.registered_devices("mbv3")["here"])
        timed_ms = np.array(list(registered.values()))
        others = [a for a in space.sample_many(4 * held_out, 3) if space.to_string(a) not in registered]
        others = list({space.to_string(a): a for a in others}.values())[:held_out]

        def timed(archs: list) -> np.ndarray:
            return np.array([measure.measure_timing(a, space, basis="cpu", **timing, **build).ms for a in archs])

        other_ms = timed(others)
        model = load_latency_estimator(space)
        slot = model.upper_bound(others, "here", CONFIDENCE)
        flops = cost_bounds(space, "here", CONFIDENCE, list(registered.items()))[0](others)
        rows = {f"the slot model ({cells} subnets)": judged(slot, other_ms),
                "the budget's judge (the larger of it and the FLOPs line's)": judged(np.maximum(slot, flops), other_ms)}
        print(f"\n`python experiments/slot_latency.py --mbv3-here --cells {cells} --held-out {held_out}`: "
              f"`gennas latency measure --space mbv3 --cells {cells} --clock cpu` run here (224 px, 1000 classes, "
              f"one thread; {timed_ms.min():.1f}-{timed_ms.max():.1f} ms), its 95 % bound judged on {held_out} "
              f"other random subnets ({other_ms.min():.1f}-{other_ms.max():.1f} ms)\n")
        print_judged("model", rows)
        record = measure.registered_record("here", "mbv3")
        second = np.array([ms for _, ms in record["retimed"]]) / np.array([registered[a] for a, _ in record["retimed"]])
        print(f"\nThe second timings of {len(second)} subnets (second / first: median {np.median(second):.3f}, "
              f"{second.min():.3f}-{second.max():.3f}) give a timed subnet the margin "
              f"{recorded_margin(record, CONFIDENCE):.3f}; each budget's designs timed again (\"timed before\": "
              "designs `latency measure` had timed, judged by their timing times the margin)\n")
        print("| judged by | budget | designs | timed before | bound ms (min-max) | measured ms (min-max) | truly over "
              "| measured / budget (max) | drift now / registered | over at the drift |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        # the same timings in a model of their own, under another name: no FLOPs line and no timings
        # of its own judge it, as in a space without an exact cost table (a user's blocks space)
        alone = SlotLatencyModel(space).adapt("slots_alone", list(registered.items()))
        # this VM's speed drifts by 10-20 % within minutes (shared cores): after each budget's designs,
        # 10 registered subnets are timed again, and "over at the drift" compares each design with
        # the budget scaled by how much slower (or faster) the machine now times what it registered
        again = list(registered)[:10]
        for judge_name, device, estimator in (("the registered device", "here", None),
                                              ("the slot model alone", "slots_alone", alone)):
            for pct in PERCENTILES:
                budget = float(np.percentile(np.concatenate([timed_ms, other_ms]), pct))
                try:
                    got = gennas.Designer("mbv3", task="mnist-synflow-log10", device=device, max_latency_ms=budget,
                                          seed=0, estimator=estimator).generate(designs)
                except gennas.GennasError as exc:
                    print(f"| {judge_name} | {budget:.1f} ms (p{pct}) | none: {str(exc).splitlines()[0][:90]} "
                          "| | | | | | | |")
                    continue
                bound = np.array([c.latency_bound_ms or c.predicted_latency_ms for c in got])
                ms = timed([c.arch for c in got])
                drift = float(np.median(timed(again) / np.array([registered[a] for a in again])))
                print(f"| {judge_name} | {budget:.1f} ms (p{pct}) | {len(got)} | {sum(c.latency_measured for c in got)} "
                      f"| {bound.min():.1f}-{bound.max():.1f} | {ms.min():.1f}-{ms.max():.1f} | "
                      f"{int((ms > budget).sum())} | {(ms / budget).max():.2f} | {drift:.3f} | "
                      f"{int((ms > budget * drift).sum())} |", flush=True)
        del os.environ["GENNAS_HOME"]
    print(f"\n({time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU in this process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=20, help="seeded sets of timed cells per device")
    parser.add_argument("--here", action="store_true", help="also time a space of the script's own on this machine")
    parser.add_argument("--held-out", type=int, default=300, help="with --here: other random cells timed to judge")
    parser.add_argument("--compare", action="store_true", help="also the simpler fits on the tables")
    parser.add_argument("--darts", action="store_true", help="also darts end to end on this machine")
    parser.add_argument("--nb201-here", action="store_true", help="also nb201 on this machine, both models")
    parser.add_argument("--mbv3", action="store_true", help="also mbv3's bundled table as devices timed at random")
    parser.add_argument("--mbv3-here", action="store_true", help="also mbv3 registered here with --cells, and designs")
    parser.add_argument("--cells", type=int, default=60, help="with --mbv3-here: subnets `latency measure` times")
    parser.add_argument("--designs", type=int, default=10, help="with --mbv3-here: designs per budget")
    args = parser.parse_args()
    tables(args.draws)
    if args.compare:
        compare(args.draws)
    if args.here:
        here(args.held_out)
    if args.darts:
        darts()
    if args.nb201_here:
        nb201_here(args.held_out)
    if args.mbv3:
        mbv3_tables(args.draws)
    if args.mbv3_here:
        mbv3_here(args.cells, args.held_out, args.designs)


if __name__ == "__main__":
    main()
