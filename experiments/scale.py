"""Scale: verifications per second on Ray workers, storage overhead per trial, and whether a search
keeps its quality when verified asynchronously by several workers.

1. Throughput: ``run_search`` with ``executor="ray"`` and 1, 2, 4 workers (and the in-process
   default) on an evaluator that burns a fixed CPU time per architecture (``--cost`` s of busy
   work, measured with ``time.thread_time``, so a busy machine stretches the wall time, not the work),
   and on a small NB201 supernet (BN recalibration and evaluation of each subnet on bundled MNIST).
2. Storage overhead per trial: a search whose evaluator costs nothing (the bundled NB201 table),
   on SQLite and, when ``GENNAS_TEST_POSTGRES_URL`` is set (``scripts/postgres.sh start``), on
   PostgreSQL; beside it, one ``add_trial`` per result alone (the write path without claims).
3. Quality: regularized evolution on the NB201 CIFAR-10 table with 1 and 4 Ray workers (each
   verification sleeps ``--delay`` s so that results do arrive out of order), best test accuracy
   after the budget, over seeds.

    python experiments/scale.py                # ~4 min on 2 cores
    python experiments/scale.py --quick        # ~1.5 min
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)

from gennas.baselines import RandomSearch  # noqa: E402
from gennas.evaluators import TableEvaluator  # noqa: E402
from gennas.evaluators.base import Result  # noqa: E402
from gennas.search import make_optimizer, run_search  # noqa: E402
from gennas.search.storage import ResultStore  # noqa: E402

from _common import command_line  # noqa: E402


class BusyEvaluator:
    """Scores an architecture after ``cost_s`` seconds of CPU work in this thread (the score is the
    table's, so the search is a real one)."""

    kind = "busy"

    def __init__(self, cost_s: float) -> None:
        self.cost_s, self.table = cost_s, TableEvaluator("nb201", "cifar10")

    def evaluate(self, archs):
        out = []
        for arch in archs:
            start = time.thread_time()
            x = 0
            while time.thread_time() - start < self.cost_s:
                x += 1
            out.append(Result(arch, self.table.evaluate([arch])[0].score, self.kind, cost_s=self.cost_s))
        return out


class SlowTable:
    """The table, after ``delay_s`` seconds of sleep (a verification that takes time, not CPU)."""

    kind = "table"

    def __init__(self, delay_s: float) -> None:
        self.delay_s, self.table = delay_s, TableEvaluator("nb201", "cifar10")

    def evaluate(self, archs):
        time.sleep(self.delay_s * len(archs))
        return self.table.evaluate(archs)


class SupernetEvaluator:
    """A small NB201 weight-sharing supernet (8 channels, 1 cell per stage) trained one epoch on 512
    bundled MNIST images; each verification recalibrates BN and scores a subnet on 256 held-out ones."""

    kind = "supernet"

    def __init__(self) -> None:
        from gennas.datasets import image_loaders
        from gennas.evaluators.supernet import Supernet

        train, val = image_loaders("mnist", batch_size=64, size=32, channels=3, limit=768, val_fraction=1 / 3)
        self.supernet = Supernet("nb201", torch_device="cpu", channels=8, cells_per_stage=1)
        self.supernet.fit(train, epochs=1, val_loader=val)

    def evaluate(self, archs):
        return self.supernet.evaluate(archs, calib_batches=4)


def throughput(evaluator, budget: int, folder: str, ideal_s: float | None = None) -> list[dict]:
    """Random search of ``budget`` verifications in-process and on 1, 2, 4 Ray workers."""
    rows = []
    for executor, workers in [("local", None), ("ray", 1), ("ray", 2), ("ray", 4)]:
        url = f"sqlite:///{folder}/tp-{evaluator.kind}-{executor}-{workers}.db"
        start, cpu = time.perf_counter(), time.process_time()
        out = run_search(RandomSearch("nb201", seed=0), evaluator, budget, storage=url, study_name="t",
                         progress=False, executor=executor, workers=workers)
        wall = time.perf_counter() - start
        row = {"executor": executor, "workers": workers or 1, "verified": len(out), "wall_s": wall,
               "per_s": len(out) / wall, "driver_cpu_s": time.process_time() - cpu}
        if ideal_s is not None:
            row["ideal_per_s"] = (workers or 1) / ideal_s
        rows.append(row)
    return rows


def overhead(url: str, budget: int) -> dict:
    table = TableEvaluator("nb201", "cifar10")
    study = f"o-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    run_search(RandomSearch("nb201", seed=0), table, budget, storage=url, study_name=study, progress=False)
    full = (time.perf_counter() - start) / budget
    store = ResultStore.open("nb201", url, study + "-plain")
    results = table.evaluate(RandomSearch("nb201", seed=1).ask(budget))
    start = time.perf_counter()
    for r in results:
        store.add(r)  # one add_trial: the write path alone, no claim
    plain = (time.perf_counter() - start) / budget
    return {"storage": url.split(":")[0], "trials": budget, "search_ms_per_trial": 1000 * full,
            "add_trial_ms": 1000 * plain}


def quality(seeds: int, budget: int, delay: float) -> list[dict]:
    rows = []
    for workers in (1, 4):
        best = []
        for seed in range(seeds):
            out = run_search(make_optimizer("evolution", "nb201", seed, "cifar10"), SlowTable(delay), budget,
                             progress=False, executor="ray", workers=workers)
            best.append(out.best.score)
        rows.append({"workers": workers, "budget": budget, "seeds": seeds, "best_mean": statistics.mean(best),
                     "best_sd": statistics.stdev(best) if len(best) > 1 else 0.0})
    return rows


def show(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    cols = list(rows[0])
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller budgets")
    ap.add_argument("--cost", type=float, default=0.5, help="CPU seconds per verification (throughput)")
    ap.add_argument("--delay", type=float, default=0.05, help="seconds per verification (quality)")
    args = ap.parse_args()
    import ray

    print(command_line())
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)  # 4 worker slots, whatever the cores
    with tempfile.TemporaryDirectory() as folder:
        show(f"throughput ({args.cost} CPU s per verification, random search, SQLite)",
             throughput(BusyEvaluator(args.cost), 8 if args.quick else 16, folder, ideal_s=args.cost))
        show("throughput (supernet evaluator: BN recalibration + 256 images per subnet, random search, SQLite)",
             throughput(SupernetEvaluator(), 8 if args.quick else 16, folder))
        n = 20 if args.quick else 50
        rows = [overhead(f"sqlite:///{folder}/over.db", n)]
        if os.environ.get("GENNAS_TEST_POSTGRES_URL"):
            rows.append(overhead(os.environ["GENNAS_TEST_POSTGRES_URL"], n))
        show("storage overhead per trial (table evaluator, local executor)", rows)
    show(f"quality: regularized evolution, NB201 CIFAR-10 test accuracy, {args.delay} s per verification",
         quality(3 if args.quick else 5, 30 if args.quick else 60, args.delay))
    ray.shutdown()


if __name__ == "__main__":
    main()
