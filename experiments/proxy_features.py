"""Precompute zero-cost proxy features of every NAS-Bench-201 cell for the predictor.

Writes ``gennas/data/nb201_proxies.npz`` (compressed): ``strings (15625,)`` in benchmark row
order, ``names (P,)`` and ``scores float64 (15625, P)`` (-inf where a proxy is undefined on the
network, NaN where not computed yet). ``params`` and ``flops`` come from
``experiments/_common.nb201_costs`` (exact, every cell). The other proxies are computed once
per *functional equivalence class* (5,390 classes; cells of a class compute the same function,
see ``gennas.surrogates.equivalence``) on the class representative and shared by its members:

- ``synflow`` (data-free) on the benchmark network (16 channels, 5 cells per stage, 32x32);
- ``naswot`` / ``jacov`` (data) on a 1-cell-per-stage network with the first batch (32 images)
  of the seeded bundled MNIST loader at 32x32x3, the setting of ``experiments/verify.py``.

One proxy at a time over all classes (a feature must cover every cell to be usable), saving
every 200 classes, so an interrupted run resumes. ``--measure 100`` only times 100 classes.

    nice -n 10 python experiments/proxy_features.py --proxies synflow,naswot,jacov --minutes 90

The shipped table: synflow in 27 min, naswot 16 min, jacov 22 min on one core (0.18 / 0.24 s
per class for naswot / jacov).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gennas  # noqa: E402
from gennas.datasets import image_loaders  # noqa: E402
from gennas.evaluators import zero_cost  # noqa: E402
from gennas.surrogates.equivalence import equivalence_classes  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, nb201_costs  # noqa: E402

OUT = Path(gennas.__file__).resolve().parent / "data" / "nb201_proxies.npz"
DATA_FREE_OPTIONS: dict = {}
DATA_OPTIONS = {"cells_per_stage": 1}


def load_table(path: Path, strings: list[str]) -> dict[str, np.ndarray]:
    """proxy name -> float64 (15625,) already computed (NaN rows: not yet). +inf is a value that
    overflowed an earlier float32 table (synflow of the largest cells passes 3.4e38): not yet."""
    if not path.is_file():
        return {}
    z = np.load(path, allow_pickle=False)
    if list(z["strings"]) != strings:
        raise RuntimeError(f"{path}: cell order differs from the benchmark's")
    cols = {str(n): z["scores"][:, j].astype(np.float64) for j, n in enumerate(z["names"])}
    for col in cols.values():
        col[col == np.inf] = np.nan
    return cols


def save_table(path: Path, strings: list[str], table: dict[str, np.ndarray], done: dict[str, np.ndarray]) -> None:
    names = list(table)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, strings=np.array(strings), names=np.array(names),
                        scores=np.stack([table[n] for n in names], 1).astype(np.float64),
                        complete=np.array([bool(done[n].all()) for n in names]),
                        command=np.array(command_line()))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--proxies", default="synflow,naswot,jacov")
    p.add_argument("--minutes", type=float, default=60.0, help="stop starting new classes after this")
    p.add_argument("--measure", type=int, default=0, help="only time this many classes per proxy")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    bench = gennas.load_benchmark("nb201")
    space = bench.space
    strings = list(bench.strings)
    ids, members = equivalence_classes("nb201")
    cls = np.array([ids[s] for s in strings])
    out = Path(args.out)
    table = load_table(out, strings)
    costs = nb201_costs(verbose=False)
    table["params"] = costs["params"].astype(np.float64)
    table["flops"] = costs["flops"].astype(np.float64)
    # proxies already in the table (an earlier run's) keep their rows and their completeness
    done = {n: ~np.isnan(col) for n, col in table.items()}
    batch = next(iter(image_loaders("mnist", batch_size=32, size=32, channels=3, seed=0)[0]))
    start = time.perf_counter()
    for name in args.proxies.split(","):
        col = table.setdefault(name, np.full(len(strings), np.nan, np.float64))
        # a class is done when its rows hold a value (NaN: not computed yet)
        todo = [c for c in range(len(members)) if np.isnan(col[cls == c]).all()]
        todo = todo[:args.measure] if args.measure else todo
        needs = zero_cost.get(name).needs_data
        options = DATA_OPTIONS if needs else DATA_FREE_OPTIONS
        t0 = time.perf_counter()
        for k, c in enumerate(todo, 1):
            if (time.perf_counter() - start) / 60 > args.minutes:
                print(f"time is up: {name} stopped at {k - 1}/{len(todo)} classes", flush=True)
                break
            value = zero_cost.score([members[c][0]], space, name, batch if needs else None,
                                    build_options=options, seed=0)[0]
            # undefined on this network (jacov of a constant one): -inf, the lowest, as the
            # features treat it; NaN stays "not computed yet", so a resumed run skips it
            col[cls == c] = -np.inf if np.isnan(value) else value
            if k % 200 == 0 or k == len(todo):
                done[name] = ~np.isnan(col)
                if not args.measure:
                    save_table(out, strings, table, done)
                rate = (time.perf_counter() - t0) / k
                print(f"{name}: {k}/{len(todo)} classes, {rate:.3f} s/class, "
                      f"~{rate * (len(todo) - k) / 60:.1f} min left", flush=True)
        if args.measure:
            print(f"{name}: {(time.perf_counter() - t0) / max(1, len(todo)):.3f} s/class over {len(todo)} classes")
        done[name] = ~np.isnan(col)
    if not args.measure:
        save_table(out, strings, table, done)
        print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB): " +
              ", ".join(f"{n} {int(done.get(n, ~np.isnan(table[n])).sum())}/{len(strings)}" for n in table))


if __name__ == "__main__":
    main()
