"""Does `Designer("nb201", device=<this machine>, max_latency_ms=...)` keep its budget here, measured?

A user registers this machine for nb201 with ``gennas latency measure --space nb201 --name
<name>`` (it times the estimator's 10 reference cells and writes
``$GENNAS_HOME/devices/nb201/<name>.json``); a budget on that device is then judged by the
latency estimator's calibrated 95 % upper bound (``gennas/design/budget.py``,
``gennas/surrogates/latency_bound.py``). This script does exactly that and checks it:

1. the device is registered by the CLI itself (``python -m gennas latency measure``, in a
   subprocess) into a temporary ``GENNAS_HOME`` (nothing is written into the user's home);
   a refusal as noisy is retried (``--register-tries``), as a user would rerun it;
2. ``--cells`` seeded uniform random nb201 cells are timed here with the function and settings
   the CLI timed the references with (:func:`gennas.surrogates.measure.measure_timing`, batch 1,
   1 torch thread, the CLI's warm-up / repeats / spread target / time limit, ``--clock``):
   this machine's latency distribution; the budgets are its ``--percentiles``;
3. per budget and seed, ``Designer("nb201", task=--task, device=<name>, max_latency_ms=budget,
   seed=seed).generate(--n)``; every design is timed the same way. The table gives the designs
   returned, the share truly over the budget (the project's target: at most 5 %), measured /
   budget (median, max), measured / estimated (the point estimate, median) and measured / bound;
4. the bound itself on this device: of the random cells (those whose output can depend on the
   input: the only ones a design can be) the bound admits under each budget, the share truly
   over; and the bound's coverage over all of them.

The machine's speed drifts within and between sittings: the 10 reference cells are timed
again after the random sample and at the end (their median ratio to the registered timings is
printed), and "over at registration's clock" divides each design's time by the end drift.

The CLI's default clock is ``wall``; on this project's shared 2-core VM it is refused as noisy
(spreads of 0.14-0.49 on 5 of the 10 references, 2026-12-03), so ``--clock cpu`` (the thread's
CPU time, which the CLI's own refusal recommends) is this script's default.

    nice -n 10 .venv/bin/python experiments/nb201_budgets_here.py            # ~2-3 min on 2 cores
    nice -n 10 .venv/bin/python experiments/nb201_budgets_here.py --seeds 3 --cells 400
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import gennas  # noqa: E402
from gennas.errors import GennasError  # noqa: E402
from gennas.surrogates import measure  # noqa: E402
from gennas.surrogates.latency_bound import load_calibration  # noqa: E402

from _common import command_line  # noqa: E402

#: `gennas latency measure`'s defaults (gennas/cli/latency.py); passed to it explicitly and used
#: for every timing here (the device file records them too)
CLI = {"batch_size": 1, "repeats": 10, "max_repeats": 50, "target_spread": 0.05, "max_seconds": 20.0, "warmup": 5}
#: bundled CPU devices of the nb201 latency table, for comparison
BUNDLED_CPUS = ("gold_6240", "silver_4114", "silver_4210r")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="here_cpu", help="device name registered (in the temporary GENNAS_HOME)")
    p.add_argument("--clock", default="cpu", choices=measure.CLOCKS, help="the CLI's --clock")
    p.add_argument("--register-tries", type=int, default=5,
                   help="runs of the CLI while it refuses the timings as noisy (a user reruns it)")
    p.add_argument("--accept-noisy-at-last", action=argparse.BooleanOptionalAction, default=True,
                   help="after those, one more run with --accept-noisy (the designer then warns UncalibratedBound)")
    p.add_argument("--cells", type=int, default=200, help="random cells timed for the budgets and the bound check")
    p.add_argument("--cell-seed", type=int, default=0)
    p.add_argument("--percentiles", default="10,25,50")
    p.add_argument("--n", type=int, default=10, help="designs generated per budget")
    p.add_argument("--task", default="cifar10")
    p.add_argument("--seed", type=int, default=0, help="first designer seed")
    p.add_argument("--seeds", type=int, default=1, help="designer seeds seed..seed+seeds-1")
    args = p.parse_args(argv)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    print(command_line())
    with tempfile.TemporaryDirectory(prefix="gennas-home-") as home:
        os.environ["GENNAS_HOME"] = home
        run(args, Path(home))
    children = os.times()
    cpu = time.process_time() - cpu0 + children.children_user + children.children_system
    print(f"\nrun time: {time.perf_counter() - wall0:.0f} s wall, {cpu:.0f} s CPU (this process and the CLI's)")


def run(args: argparse.Namespace, home: Path) -> None:
    record, tries, noisy = register(args, home)
    space = gennas.load_space("nb201")
    bench = gennas.load_benchmark("nb201")
    refs = [space.parse(a) for a, _ in record["samples"]]
    registered = np.array([ms for _, ms in record["samples"]])
    how = (f"registered with --accept-noisy after {tries - 1} refusals as noisy" if noisy else
           f"registered on run {tries} of the CLI ({tries - 1} refused as noisy)")
    print(f"\n{args.name!r}: {how} (`gennas latency measure`; clock {record['clock']}, "
          f"{record['torch_threads']} torch thread, batch {record['batch_size']}, build {record['build'] or 'defaults'})")

    def timed(arch) -> measure.Timing:
        return measure.measure_timing(arch, space, torch_device="cpu", batch_size=CLI["batch_size"],
                                      repeats=CLI["repeats"], warmup=CLI["warmup"], max_repeats=CLI["max_repeats"],
                                      target_spread=CLI["target_spread"], max_seconds=CLI["max_seconds"],
                                      basis=args.clock, **record["build"])

    def drift(when: str) -> float:
        now = np.array([timed(a).ms for a in refs])
        ratio = now / registered
        print(f"  references timed again {when}: now / registered median {np.median(ratio):.2f} "
              f"(range {ratio.min():.2f}-{ratio.max():.2f})", file=sys.stderr, flush=True)
        return float(np.median(ratio))

    # 2. this machine's latency distribution
    rng = np.random.default_rng(args.cell_seed)
    rows = rng.choice(len(bench.strings), size=args.cells, replace=False)
    cells = [space.parse(bench.strings[int(i)]) for i in rows]
    start = time.perf_counter()
    cell_t = []
    for k, arch in enumerate(cells):
        cell_t.append(timed(arch))
        if (k + 1) % 50 == 0:
            print(f"  {k + 1}/{len(cells)} random cells timed ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)
    cell_ms = np.array([t.ms for t in cell_t])
    drift_sample = drift("after the random cells")
    percentiles = [int(v) for v in args.percentiles.split(",")]
    budgets = [(q, float(np.percentile(cell_ms, q))) for q in percentiles]

    # 3. designs under each budget, timed
    results = []
    for q, budget in budgets:
        for seed in range(args.seed, args.seed + args.seeds):
            began = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script's, not the designer's
                try:
                    designer = gennas.Designer("nb201", task=args.task, device=args.name, max_latency_ms=budget,
                                               seed=seed)
                    designs = designer.generate(args.n)
                except GennasError as exc:
                    results.append({"q": q, "budget": budget, "seed": seed, "error": str(exc).splitlines()[0]})
                    continue
            generate_s = time.perf_counter() - began
            for w in caught:
                print(f"  p{q} seed {seed}: {w.category.__name__}: {str(w.message)[:160]}", file=sys.stderr)
            measured, spread = [], []
            for c in designs:
                t = timed(c.arch)
                measured.append(t.ms)
                spread.append(t.spread)
                print(f"  p{q} seed {seed}: #{c.rank} {c.arch.to_string()} estimated {c.predicted_latency_ms:.2f} "
                      f"(bound {c.latency_bound_ms or float('nan'):.2f}{', own timing' if c.latency_measured else ''}) "
                      f"measured {measured[-1]:.2f} ms, budget {budget:.2f}", file=sys.stderr, flush=True)
            results.append({"q": q, "budget": budget, "seed": seed, "designer": designer, "designs": designs,
                            "measured": np.array(measured), "spread": np.array(spread), "generate_s": generate_s,
                            "warnings": sorted({w.category.__name__ for w in caught})})
    drift_end = drift("at the end")

    # tables
    print("\n### The 10 reference cells: ms here (registered) and on the bundled CPUs of the nb201 table\n")
    print("| reference cell | here | spread here | " + " | ".join(BUNDLED_CPUS) + " |")
    print("|---|---|---|" + "---|" * len(BUNDLED_CPUS))
    for arch, ms, sp in zip(refs, registered, record["spreads"]):
        print(f"| `{arch.to_string()}` | {ms:.2f} | {sp:.3f} | "
              + " | ".join(f"{float(bench.latency_of([arch], d)[0]):.2f}" for d in BUNDLED_CPUS) + " |")
    est = next((r["designer"].estimator for r in results if "designer" in r), None)
    if est is not None:
        cal = load_calibration("nb201")
        print(f"\nleave-one-out spread of {args.name} on its references: {est.device_spread[args.name]:.3f} "
              f"(bundled CPUs in the calibration: "
              + ", ".join(f"{d} {cal.device_spreads.get(d, float('nan')):.3f}" for d in BUNDLED_CPUS) + ")")

    print(f"\n### This machine's latency distribution ({len(cells)} random nb201 cells, seed {args.cell_seed})\n")
    print("| device | p10 | p25 | p50 | p90 | max | Spearman with here |")
    print("|---|---|---|---|---|---|---|")
    from scipy.stats import spearmanr

    print(f"| here ({args.clock} clock) | " + " | ".join(f"{np.percentile(cell_ms, q):.2f}" for q in (10, 25, 50, 90))
          + f" | {cell_ms.max():.2f} | 1 |")
    for d in BUNDLED_CPUS:
        other = np.asarray(bench.latency_of(cells, d), dtype=float)
        print(f"| {d} (table) | " + " | ".join(f"{np.percentile(other, q):.2f}" for q in (10, 25, 50, 90))
              + f" | {other.max():.2f} | {spearmanr(cell_ms, other).statistic:.3f} |")
    spreads = np.array([t.spread for t in cell_t])
    print(f"\ntiming spread (IQR / median) of the random cells: median {np.median(spreads):.3f}, 90th pct "
          f"{np.percentile(spreads, 90):.3f}, over 0.10 (the CLI's noise limit): {int((spreads > 0.10).sum())}; "
          f"references again now / registered: {drift_sample:.2f} after the random cells, {drift_end:.2f} at the end")

    seeds = f"seed {args.seed}" if args.seeds == 1 else f"seeds {args.seed}-{args.seed + args.seeds - 1}"
    print(f"\n### nb201 designs on {args.name} (registered here), timed as the references were "
          f"(task {args.task}, {args.n} designs per budget, {seeds})\n")
    print("| budget (percentile) | seed | designs | truly over | over at registration's clock "
          "| measured / budget (median, max) | measured / estimated (median) | measured / bound (median, max) "
          "| own timings | timing spread (median) | generate s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        head = f"| {r['budget']:.2f} ms (p{r['q']}) | {r['seed']} |"
        if "error" in r:
            print(f"{head} none: {r['error'][:100]} | | | | | | | | |")
            continue
        m, designs, budget = r["measured"], r["designs"], r["budget"]
        if not len(m):
            print(f"{head} 0 | | | | | | | | {r['generate_s']:.1f} |")
            continue
        est_ms = np.array([c.predicted_latency_ms for c in designs], dtype=float)
        bound = np.array([np.nan if c.latency_bound_ms is None else c.latency_bound_ms for c in designs])
        has_bound = ~np.isnan(bound)
        share = lambda k: f"{k} ({100 * k / len(m):.0f} %)"  # noqa: E731
        mb = f"{np.median(m[has_bound] / bound[has_bound]):.2f}, {np.max(m[has_bound] / bound[has_bound]):.2f}" \
            if has_bound.any() else "-"
        print(f"{head} {len(m)} | {share(int((m > budget).sum()))} | {share(int((m / drift_end > budget).sum()))} | "
              f"{np.median(m / budget):.2f}, {np.max(m / budget):.2f} | {np.median(m / est_ms):.2f} | {mb} | "
              f"{int(sum(c.latency_measured for c in designs))} | {np.median(r['spread']):.3f} | {r['generate_s']:.1f} |")
    done = [r for r in results if "measured" in r]
    total = sum(len(r["measured"]) for r in done)
    over = sum(int((r["measured"] > r["budget"]).sum()) for r in done)
    print(f"\nall budgets: {over} of {total} designs truly over ({100 * over / max(total, 1):.1f} %; target at most 5 %)")
    notes = sorted({w for r in done for w in r["warnings"]})
    if notes:
        print(f"warnings raised by the designer: {', '.join(notes)}")

    # 4. the bound on this device, over the random cells
    if done:
        budget_of = done[0]["designer"].budget
        live = np.array([not space.output_is_constant(a) for a in cells])
        live_cells = [a for a, ok in zip(cells, live) if ok]
        truth = cell_ms[live]
        judged = budget_of.judged_ms(live_cells)  # the bound (a reference cell: its own timing)
        bound = np.asarray(est.upper_bound(live_cells, args.name, confidence=budget_of.confidence))
        pred = np.asarray(est.predict(live_cells, args.name))
        print(f"\n### The {budget_of.confidence:.0%} bound on {args.name}, checked on the {len(live_cells)} random cells "
              f"whose output can depend on the input\n")
        print(f"coverage (measured <= bound): {100 * np.mean(truth <= bound):.1f} %; bound / measured median "
              f"{np.median(bound / truth):.2f} (10th-90th pct {np.percentile(bound / truth, 10):.2f}-"
              f"{np.percentile(bound / truth, 90):.2f}); estimate / measured median {np.median(pred / truth):.2f}; "
              f"Spearman(estimate, measured) {spearmanr(pred, truth).statistic:.3f}\n")
        print("| budget (percentile) | cells truly within | cells the bound admits | of those truly over |")
        print("|---|---|---|---|")
        for q, budget in budgets:
            admitted = judged <= budget
            k = int((truth[admitted] > budget).sum())
            print(f"| {budget:.2f} ms (p{q}) | {int((truth <= budget).sum())} | {int(admitted.sum())} | "
                  f"{k} ({100 * k / max(int(admitted.sum()), 1):.1f} %) |")
        spread_live = spreads[live]
        missed = [i for i in np.argsort(truth) if judged[i] <= budgets[-1][1] < truth[i]]
        if missed:
            print(f"\nrandom cells the bound admits under the largest budget ({budgets[-1][1]:.2f} ms) that are truly "
                  "over it:\n")
            print("| cell | estimate | judged by | measured | timing spread |")
            print("|---|---|---|---|---|")
            for i in missed:
                print(f"| `{live_cells[i].to_string()}` | {pred[i]:.2f} | {judged[i]:.2f} | {truth[i]:.2f} | "
                      f"{spread_live[i]:.3f} |")


def register(args: argparse.Namespace, home: Path) -> tuple[dict, int, bool]:
    """Run `gennas latency measure --space nb201` up to ``--register-tries`` times while it refuses
    noisy timings (a user reruns it), then, with ``--accept-noisy-at-last``, once more with
    ``--accept-noisy``; returns the device file's record, the number of runs and whether the
    registration is the accepted noisy one."""
    command = [sys.executable, "-m", "gennas", "latency", "measure", "--space", "nb201", "--name", args.name,
               "--clock", args.clock, "--threads", "1", "--batch-size", str(CLI["batch_size"]),
               "--repeats", str(CLI["repeats"]), "--max-repeats", str(CLI["max_repeats"]),
               "--target-spread", str(CLI["target_spread"]), "--max-seconds", str(CLI["max_seconds"]),
               "--warmup", str(CLI["warmup"])]
    print("registering: GENNAS_HOME=<temporary> " + " ".join(["python"] + command[1:]), file=sys.stderr, flush=True)
    # the CLI imports the gennas this process imported (a worktree's on PYTHONPATH, or the installed one)
    source = str(Path(gennas.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    tries = max(1, args.register_tries)
    for attempt in range(1, tries + 1 + int(args.accept_noisy_at_last)):
        noisy = attempt > tries
        done = subprocess.run(command + (["--accept-noisy"] if noisy else []), capture_output=True, text=True,
                              env=env)
        path = measure.device_path(args.name, "nb201")
        if done.returncode == 0 and path.is_file():
            return json.loads(path.read_text()), attempt, noisy
        reason = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        print(f"  run {attempt} of the CLI refused: {reason[:300]}", file=sys.stderr, flush=True)
        saved = done.stderr.split("saved in ", 1)[1].split()[0] if "saved in " in done.stderr else None
        if saved and Path(saved).is_file() and Path(saved).parent == Path(tempfile.gettempdir()):
            Path(saved).unlink()  # the CLI keeps refused measurements in the temporary folder
    raise SystemExit(f"`gennas latency measure` refused this machine's timings {tries} times (noisy): rerun on "
                     "a quieter machine, or with --accept-noisy-at-last")


if __name__ == "__main__":
    main()
