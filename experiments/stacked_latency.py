"""A device timed at random in a space with an estimator: the slot choices alone, or as the estimator's correction?

``gennas latency measure --space nb201 --cells N`` describes a machine whose estimator bound fails
by N random cells timed on it (:mod:`gennas.surrogates.slot_latency`). It times the estimator's 10
references as well, and the model fits the random cells' slot choices both alone and to the
ratios measured / the estimator adapted from those references, keeping the form that
cross-validates better. Compared here, each 95 % bound judged on cells that were not timed (its
coverage; at budgets at the 10th / 25th / 50th percentile of the true latencies, the share of the
cells the bound keeps that are truly over, and the share of the truly-under cells it keeps; the
RMS and the median of the point prediction's log error ``log(measured / predicted)``):

- ``estimator``: adapted from its 10 references alone (what `gennas latency measure` registers;
  here, predicting the networks gennas builds, as a device that command registers does);
- ``slots alone``: the slot choices fitted on the N random cells (what ``--cells N`` registered
  before the correction form was offered);
- ``--cells N``: the model the command registers now (references + N random cells).

1. By default, **the 19 devices of the NAS-Bench-201 latency tables**, each held out: the
   estimator trained without it (``experiments/calibrate_latency.py``'s cached leave-one-device-out
   checkpoints; about a minute each to train where missing), ``--draws`` seeded sets of N random
   working cells per device, judged on every other working cell of the table.
2. ``--here``: nb201's benchmark network timed on this machine (one thread, CPU clock): the 10
   references, the 60 random cells ``--cells 60`` times and ``--held-out`` others; the shipped
   estimator, and the models fitted on the first 30 and all 60 random cells.

    python experiments/stacked_latency.py            # the tables (about 3 minutes)
    python experiments/stacked_latency.py --here     # this machine (about 1 minute)
    python experiments/stacked_latency.py --here --seed 4 --timings /tmp/here4.npz   # saved, or judged again
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import copy  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate_latency import lodo_estimator  # noqa: E402
from slot_latency import CONFIDENCE, PERCENTILES, judged  # noqa: E402

import gennas  # noqa: E402
from gennas.surrogates.slot_latency import SlotLatencyModel  # noqa: E402

MODELS = ("estimator", "slots alone", "--cells N")


def judge_all(estimator, device: str, refs: list, ref_ms: np.ndarray, cells: list, cell_ms: np.ndarray,
              others: list, other_ms: np.ndarray, computed: bool = False) -> tuple[dict[str, dict[str, float]], bool]:
    """Each of :data:`MODELS` on ``device`` (``estimator`` not yet adapted to it), judged on ``others``
    (true ``other_ms`` ``(m,)``); and whether the ``--cells`` model chose the correction form.
    ``computed``: the timings are of gennas' networks (``gennas latency measure`` registers such a
    device for the estimator to predict those networks)."""
    # the stacked model adapts a base of its own: the estimator's row adapts as registered
    stacked = SlotLatencyModel(estimator.space, base=copy.deepcopy(estimator)).adapt(
        device, list(zip(refs, ref_ms)) + list(zip(cells, cell_ms)))
    estimator.adapt(device, list(zip(refs, ref_ms)), computed=computed)
    alone = SlotLatencyModel(estimator.space).adapt(device, list(zip(cells, cell_ms)))
    rows = {}
    for name, model in zip(MODELS, (estimator, alone, stacked)):
        row = judged(model.upper_bound(others, device, CONFIDENCE), other_ms)
        log_ratio = np.log(other_ms / model.predict(others, device))
        row["rms"], row["bias"] = float(np.sqrt(np.mean(log_ratio ** 2))), float(np.median(log_ratio))
        rows[name] = row
    return rows, stacked.fits[device].stacked


def print_rows(title: str, rows: dict[str, list[dict[str, float]]]) -> None:
    """A markdown table: per model the mean (and min) coverage, the budgets' shares, the RMS log error."""
    print(f"\n{title}\n")
    print("| model | coverage mean | coverage min | " + " | ".join(f"kept over, p{p}" for p in PERCENTILES) + " | "
          + " | ".join(f"under kept, p{p}" for p in PERCENTILES) + " | RMS log error | median log error |")
    print("|---|---|---|" + "---|" * (2 * len(PERCENTILES) + 2))
    for name, judged_rows in rows.items():
        mean = {key: float(np.nanmean([r[key] for r in judged_rows])) for key in judged_rows[0]}
        low = min(r["coverage"] for r in judged_rows)
        print(f"| {name} | {100 * mean['coverage']:.1f} % | {100 * low:.1f} % | "
              + " | ".join(f"{100 * mean[f'over{p}']:.1f} %" for p in PERCENTILES) + " | "
              + " | ".join(f"{100 * mean[f'kept{p}']:.0f} %" for p in PERCENTILES) + f" | {mean['rms']:.3f} | "
              f"{mean['bias']:+.3f} |")


def tables(counts: list[int], draws: int) -> None:
    space, bench = gennas.load_space("nb201"), gennas.load_benchmark("nb201")
    cells = [a for a in space.enumerate() if not space.output_is_constant(a)]
    index = {space.to_string(a): i for i, a in enumerate(cells)}
    print(f"`python experiments/stacked_latency.py --cells {','.join(map(str, counts))} --draws {draws}`: "
          f"{len(bench.devices)} NAS-Bench-201 devices, each held out of the estimator's training; per device "
          f"{draws} seeded sets of N random working cells besides the 10 references, judged on every other "
          f"working cell ({CONFIDENCE:.0%} bound)")
    for n in counts:
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in MODELS}
        chosen = 0
        for device in bench.devices:
            ms = np.asarray(bench.latency_of(cells, device), dtype=np.float64)
            estimator = lodo_estimator(device)
            refs = estimator.reference_archs()
            ref_rows = [index[space.to_string(a)] for a in refs]
            for draw in range(draws):
                pool = np.setdiff1d(np.arange(len(cells)), ref_rows)
                picked = np.random.default_rng(draw).choice(pool, n, replace=False)
                others = np.setdiff1d(pool, picked)
                judged_rows, stacked = judge_all(estimator, device, refs, ms[ref_rows], [cells[i] for i in picked],
                                                 ms[picked], [cells[i] for i in others], ms[others])
                for name, row in judged_rows.items():
                    rows[name].append(row)
                chosen += stacked
        print_rows(f"N = {n}: the correction form chosen in {chosen} of {len(bench.devices) * draws} fits", rows)


def here(held_out: int, seed: int, timings: Path | None) -> None:
    """Time nb201 here (or read the ``timings`` a run saved; else save them there) and print the tables."""
    import torch

    from gennas.surrogates import measure
    from gennas.surrogates.latency import load_latency_estimator

    torch.set_num_threads(1)
    space = gennas.load_space("nb201")
    command = f"python experiments/stacked_latency.py --here --held-out {held_out} --seed {seed}"
    if timings is not None and timings.is_file():  # a sitting judged again, by another fit
        saved = np.load(timings)
        refs, cells, others = ([space.parse(str(a)) for a in saved[key]] for key in ("refs", "cells", "others"))
        ref_ms, cell_ms, other_ms, drift = saved["ref_ms"], saved["cell_ms"], saved["other_ms"], float(saved["drift"])
        print(f"\n`{command} --timings {timings}`: the timings that run saved ({saved['when']})", end="")
    else:
        refs = load_latency_estimator(space, with_registered=False).reference_archs()
        cells = SlotLatencyModel(space).reference_archs(60)
        seen = {space.to_string(a) for a in refs + cells}
        others = [a for a in space.sample_many(8 * held_out, seed) if not space.output_is_constant(a)]
        others = [a for label, a in {space.to_string(a): a for a in others}.items() if label not in seen][:held_out]
        build = measure.table_build_options(space)
        start, cpu = time.perf_counter(), time.process_time()
        measure.warm_up(refs[0], space, basis="cpu", **build)

        def timed(archs: list) -> np.ndarray:
            return np.array([measure.measure_timing(a, space, basis="cpu", **build).ms for a in archs])

        ref_ms, cell_ms, other_ms = timed(refs), timed(cells), timed(others)
        # the machine's speed can move within a sitting: the first cells timed again after all the others
        drift = float(np.median(timed(cells[:20]) / cell_ms[:20]))
        print(f"\n`{command}`: timed here ({time.perf_counter() - start:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} s CPU)", end="")
        if timings is not None:
            np.savez_compressed(timings, refs=[space.to_string(a) for a in refs], ref_ms=ref_ms, drift=drift,
                                cells=[space.to_string(a) for a in cells], cell_ms=cell_ms, other_ms=other_ms,
                                others=[space.to_string(a) for a in others], when=time.strftime("%Y-%m-%d %H:%M"))
    print(f": nb201's benchmark network, one thread, CPU clock, {len(refs) + len(cells) + len(others)} cells "
          f"({other_ms.min():.2f}-{other_ms.max():.2f} ms); each {CONFIDENCE:.0%} bound judged on the {len(others)} "
          f"others. The first 20 random cells timed again at the end: median {drift:.2f}x their first timing")
    for n in (30, 60):
        rows, stacked = judge_all(load_latency_estimator(space, with_registered=False), "here", refs, ref_ms,
                                  cells[:n], cell_ms[:n], others, other_ms, computed=True)
        print_rows(f"N = {n} random cells (the correction form {'chosen' if stacked else 'not chosen'})",
                   {name: [row] for name, row in rows.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="30,60", help="random cells per device (comma-separated counts)")
    parser.add_argument("--draws", type=int, default=3, help="seeded sets of random cells per device and count")
    parser.add_argument("--here", action="store_true", help="this machine instead of the tables")
    parser.add_argument("--held-out", type=int, default=400, help="with --here: other random cells timed to judge")
    parser.add_argument("--seed", type=int, default=1, help="with --here: the seed those other cells are drawn with")
    parser.add_argument("--timings", type=Path, help="with --here: an .npz file the timings are saved to, or read "
                                                     "from where it exists (the same sitting judged again)")
    args = parser.parse_args()
    if args.here:
        here(args.held_out, args.seed, args.timings)
    else:
        tables([int(n) for n in args.cells.split(",")], args.draws)


if __name__ == "__main__":
    main()
