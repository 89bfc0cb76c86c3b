"""Does a search slow down when another process shares the CPU? Wall and CPU time of one
``gennas search`` (default settings: the designer, the table evaluator, batch 1) alone and next
to a competing process, with the CLI's default of one torch thread and with more.

The competitor is a torch matrix-multiply loop using every core (``os.cpu_count()`` threads),
as another user's training job would. Each search runs in its own process (``python -m
gennas.cli --threads T search ...``) with a fresh SQLite study, so imports and checkpoint
loading are included; CPU time is that child's (``resource.getrusage(RUSAGE_CHILDREN)``).
The slowdown is the loaded run's wall time over the idle one's. ``--work predictor`` times a
plain ``gennas.Predictor(space, threads=T)`` instead: fitted from scratch on 200 seeded nb201
cells' cifar10 accuracies (its default steps), then predicting all 15,625 cells; ``--work train``
/ ``train-full`` a ``TrainEvaluator(threads=T)`` used on its own (:data:`TRAIN_WORK`).

    python experiments/thread_contention.py --repeats 2     # budget 50, threads 1 and 2, ~2.5 min
    python experiments/thread_contention.py --threads 1,2,4
    python experiments/thread_contention.py --work predictor
    python experiments/thread_contention.py --work train        # also train-full (TRAIN_WORK)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402

#: every core busy with float32 matrix products until killed
COMPETITOR = ("import torch, os\n"
              "torch.set_num_threads(os.cpu_count())\n"
              "a = torch.randn(768, 768)\n"
              "while True:\n"
              "    a = torch.tanh(a @ a)\n")


#: a plain predictor's fit and prediction, with the threads and seed given as arguments
PREDICTOR_WORK = ("import sys, gennas\n"
                  "threads, seed = int(sys.argv[1]), int(sys.argv[2])\n"
                  "space, bench = gennas.load_space('nb201'), gennas.load_benchmark('nb201')\n"
                  "archs = space.sample_many(200, seed)\n"
                  "predictor = gennas.Predictor(space, threads=threads, seed=seed)\n"
                  "predictor.fit(archs, bench.accuracy_of(archs, 'cifar10'), 'cifar10')\n"
                  "predictor.predict(list(space.enumerate()), 'cifar10')\n")


#: one TrainEvaluator used on its own (no designer around it), training one nb201 cell for one
#: epoch: ``train`` the README's cheap variant (small build, 16-pixel grey MNIST, 600 images: 480 to
#: train on), ``train-full`` its full example's network (full build, 32-pixel RGB, 500 images: 400)
TRAIN_WORK = ("import sys, gennas\n"
              "threads, seed = int(sys.argv[1]), int(sys.argv[2])\n"
              "space = gennas.load_space('nb201')\n"
              "size, channels, limit, build = {setup}\n"
              "train, val = gennas.datasets.image_loaders('mnist', size=size, channels=channels, limit=limit, "
              "seed=seed)\n"
              "ev = gennas.TrainEvaluator(space, train, val, epochs=1, build_options=build, progress=False, "
              "threads=threads, seed=seed)\n"
              "ev.evaluate([space.sample(seed)])\n")
WORKS = {"predictor": PREDICTOR_WORK,
         "train": TRAIN_WORK.format(setup="16, 1, 600, space.small_build_options"),
         "train-full": TRAIN_WORK.format(setup="32, 3, 500, {}")}


def one_run(work: str, threads: int, budget: int, seed: int) -> tuple[float, float]:
    """(wall s, CPU s) of one ``gennas search`` (or the predictor's work) in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ([sys.executable, "-m", "gennas.cli", "--threads", str(threads), "search", "--space", "nb201",
                "--task", "cifar10", "--budget", str(budget), "--seed", str(seed), "--quiet",
                "--storage", f"sqlite:///{tmp}/run.db"] if work == "search"
               else [sys.executable, "-c", WORKS[work], str(threads), str(seed)])
        # the child's OpenMP pool follows --threads, not an inherited OMP_NUM_THREADS
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"the search failed ({' '.join(cmd)}):\n{done.stderr}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2", help="torch threads of the search (1: the CLI default)")
    p.add_argument("--budget", type=int, default=50)
    p.add_argument("--repeats", type=int, default=1, help="runs per setting (seeds 0..repeats-1), mean shown")
    p.add_argument("--work", choices=("search", *WORKS), default="search",
                   help="what is timed: a `gennas search`, a plain Predictor's fit and prediction, or a "
                        "TrainEvaluator's one-epoch training of one cell (train: small build, 16 px grey; "
                        "train-full: full build, 32 px RGB)")
    args = p.parse_args(argv)
    print(command_line())
    print(f"{os.cpu_count()} cores; competitor: a torch matmul loop on {os.cpu_count()} threads")
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        timings: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for loaded in (False, True):
            competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR]) if loaded else None
            try:
                if competitor is not None:
                    time.sleep(2.0)  # let it reach full speed
                for seed in range(args.repeats):
                    timings[loaded].append(one_run(args.work, threads, args.budget, seed))
                    print(f"  threads {threads}, {'loaded' if loaded else 'idle'}, seed {seed}: "
                          f"{timings[loaded][-1][0]:.1f} s wall, {timings[loaded][-1][1]:.1f} s CPU",
                          file=sys.stderr, flush=True)
            finally:
                if competitor is not None:
                    competitor.kill()
                    competitor.wait()
        idle_wall = sum(w for w, _ in timings[False]) / args.repeats
        loaded_wall = sum(w for w, _ in timings[True]) / args.repeats
        rows.append({"torch threads": threads, "wall idle s": idle_wall, "wall loaded s": loaded_wall,
                     "slowdown": loaded_wall / idle_wall,
                     "CPU idle s": sum(c for _, c in timings[False]) / args.repeats,
                     "CPU loaded s": sum(c for _, c in timings[True]) / args.repeats})
    what = {"search": f"`gennas search` (designer, table, budget {args.budget})",
            "predictor": "a plain `gennas.Predictor` (fit on 200 nb201 cells, predict all 15,625)",
            "train": "a `TrainEvaluator` alone: one nb201 cell, small build, 1 epoch on 480 16-pixel grey images",
            "train-full": "a `TrainEvaluator` alone: one nb201 cell, full build, 1 epoch on 400 32-pixel RGB images"
            }[args.work]
    print(f"\n### {what} alone and next to a busy process\n")
    print(markdown_table(rows, digits=2))


if __name__ == "__main__":
    main()
