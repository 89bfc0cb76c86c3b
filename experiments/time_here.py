"""Do designs under a budget on a device registered here keep it when timed again? With and without ``--time-here``.

Registers this machine as a device (``gennas latency measure --clock cpu --accept-noisy``, in a
temporary ``$GENNAS_HOME``), takes budgets at percentiles of the latency model's predictions over
the space's cells (every cell of an enumerable space, else 2,000 seeded samples), and for each
budget asks ``gennas design -n N --json`` twice: judged by the latency model's 95 % bound (the
default), and with ``--time-here`` (each design timed here, kept if its timing times the
registration's re-timing margin is within the budget). Every returned design is then timed
again with the registration's settings, as a user checking them would. Printed per budget and
mode: designs returned, share truly over the budget when timed again, median timing / budget,
and the designs timed to find them. A space that ships no predictor (a user's YAML) first gets
what a user would make in a fresh home: its generator (``gennas train``) and a predictor saved
by a 12-result designer search verified by synflow (task ``cifar10-synflow``, designed for).
``--space walk`` is the space of a user walk (2026-12-05) in which 3 of 20 designs stated
under 1.2 ms at 95 % ran over their bound: 4 nodes, ops none/skip/conv1/conv3/max-pool 3, 12
channels.

    python experiments/time_here.py                          # nb201, budgets at the 10th/25th/50th percentile
    python experiments/time_here.py --space walk             # the walk's space (~5 min)
    python experiments/time_here.py --space my_space.yaml --n 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, markdown_table  # noqa: E402


#: the user walk's space (``--space walk``)
WALK_SPACE = """\
kind: cell
name: walkspace
description: a user walk's four-node cell (2026-12-05)
input_size: 32
cell:
  nodes: 4
  zero_op: none
  identity_op: skip
  ops:
    none: {type: zero}
    skip: {type: identity}
    c1: {type: relu_conv_bn, kernel: 1}
    c3: {type: relu_conv_bn, kernel: 3}
    mp3: {type: max_pool, kernel: 3}
macro: {channels: 12, cells_per_stage: 1, stages: 3}
"""


def gennas_cli(args: list[str], home: str) -> subprocess.CompletedProcess:
    """One ``gennas`` command in a child process with ``home`` as ``$GENNAS_HOME`` (one torch thread)."""
    env = {**os.environ, "GENNAS_HOME": home}
    done = subprocess.run([sys.executable, "-m", "gennas.cli", "--threads", "1", *args], capture_output=True,
                          text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"`gennas {' '.join(args)}` failed:\n{done.stderr}")
    return done


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", default="nb201", help="bundled name or YAML file")
    p.add_argument("--percentiles", default="10,25,50", help="budgets: percentiles of the predicted latencies")
    p.add_argument("--n", type=int, default=10, help="designs per budget and mode")
    args = p.parse_args(argv)
    import torch

    import gennas
    from gennas.design.timed_here import local_registration, registered_timer
    from gennas.surrogates.latency import load_latency_estimator

    from gennas.design.pretrained import ships_predictor

    torch.set_num_threads(1)
    print(command_line())
    with tempfile.TemporaryDirectory() as home:
        os.environ["GENNAS_HOME"] = home  # this process reads the registration from there too
        space_arg = args.space
        if space_arg == "walk":
            space_arg = str(Path(home) / "walkspace.yaml")
            Path(space_arg).write_text(WALK_SPACE)
        space = gennas.load_space(space_arg)
        task = []
        if not ships_predictor(space):  # what a user makes first in a fresh home
            gennas_cli(["train", "--space", space_arg, "--quiet"], home)
            gennas_cli(["search", "--space", space_arg, "--method", "designer", "--evaluator", "proxy:synflow",
                        "-b", "12", "--quiet", "--storage", f"sqlite:///{home}/runs.db"], home)
            task = ["--task", "cifar10-synflow"]
        gennas_cli(["latency", "measure", "--space", space_arg, "--name", "here", "--clock", "cpu",
                    "--accept-noisy"], home)
        record = local_registration("here", space)
        time_one = registered_timer(record, space)
        estimator = load_latency_estimator(space)
        cells = list(space.enumerate()) if space.is_finite_enumerable() else space.sample_many(2000, 0)
        predicted = estimator.predict(cells, "here")
        rows = []
        for pct in (float(x) for x in args.percentiles.split(",")):
            budget = float(np.percentile(predicted, pct))
            for mode, extra in (("95 % bound", []), ("--time-here", ["--time-here"])):
                done = gennas_cli(["design", "--space", space_arg, *task, "--device", "here", "--max-latency-ms",
                                   f"{budget:.6g}", "-n", str(args.n), "--json", *extra], home)
                designs = json.loads(done.stdout)
                again = np.array([time_one(space.from_string(d["arch"])) for d in designs])
                timed = sum(line.count("/") and line.startswith("[") for line in done.stderr.splitlines())
                rows.append({"budget pct": pct, "budget ms": budget, "mode": mode, "designs": len(designs),
                             "over when timed again %": 100 * float(np.mean(again > budget)) if len(again) else None,
                             "median timing / budget": float(np.median(again / budget)) if len(again) else None,
                             "designs timed": timed if extra else 0})
                print(f"  {pct:g}th pct, {mode}: {len(designs)} designs", file=sys.stderr, flush=True)
    print(f"\n### {space.name}: designs under budgets on this machine, timed again\n")
    print(markdown_table(rows, digits=3))


if __name__ == "__main__":
    main()
