"""Measure the latency of sampled MobileNetV3 (mbv3) subnets on this machine's CPU.

Each subnet (``gennas.load_space("mbv3")``, seeded sample, distinct) is built at 224 x 224 px,
batch 1, 1000 classes (ImageNet, as in Once-for-All), eval mode, and timed

* with torch (``cpu_torch_1t``: 1 intra-op thread, inference mode), and
* with onnxruntime (``cpu_ort_1t``: exported by ``torch.onnx.export``, 1 intra-op and 1 inter-op
  thread, all graph optimisations),

each with warm-up passes, then repeats until the spread (IQR / median) is small or a limit
(:func:`gennas.surrogates.measure.time_calls`). A pass is timed by the thread's CPU time by
default (``--clock cpu``): with one thread that is the pass's compute, and this 2-core machine is
shared, where wall time came out 3-6x longer under load; the wall time of the same passes is kept
too. Rows are appended to a gzipped CSV as they are measured (``index, arch``, then per device
``<device>_ms, <device>_spread, <device>_repeats, <device>_wall_ms``), so a rerun continues
where a killed run stopped; a JSON manifest beside it records the command, the hardware and the
library versions. Progress lines go to stderr.

    nice -n 10 .venv/bin/python experiments/measure_mbv3.py --n 2000
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: one thread everywhere

import argparse
import csv
import gzip
import io
import json
import platform
import subprocess
import sys
import time
import warnings
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

import gennas
from gennas.graph import ArchGraph
from gennas.resources import data_dir
from gennas.surrogates.measure import Timing, time_calls

DEVICES = ("cpu_torch_1t", "cpu_ort_1t")
FIELDS = ["index", "arch"] + [f"{d}_{k}" for d in DEVICES for k in ("ms", "spread", "repeats", "wall_ms")]


def sample_subnets(space: gennas.SearchSpace, n: int, seed: int) -> list[ArchGraph]:
    """``n`` distinct subnets drawn from the space's sampler, in draw order (a prefix of a larger
    draw with the same seed is the same list, so ``--n`` can grow between runs)."""
    rng = np.random.default_rng(seed)
    out: dict[ArchGraph, None] = {}
    while len(out) < n:
        out.setdefault(space.sample(rng), None)
    return list(out)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows already measured; a torn tail (a run killed while appending) is dropped and the file
    rewritten without it."""
    if not path.exists():
        return []
    rows: list[dict[str, str]] = []
    torn = False
    try:
        with gzip.open(path, "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                if None in row.values() or len(row) != len(FIELDS):
                    torn = True
                    break
                rows.append(row)
    except (EOFError, OSError, zlib.error, csv.Error):
        torn = True
    if torn:
        print(f"{path}: dropping a torn tail, keeping {len(rows)} rows", file=sys.stderr)
        write_rows(path, rows, mode="wt")
    return rows


def write_rows(path: Path, rows: list[dict[str, object]], mode: str = "at") -> None:
    """Append ``rows`` as one gzip member (concatenated members read as one file); header first
    when the file is new."""
    new = mode == "wt" or not path.exists()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, FIELDS, lineterminator="\n")
    if new:
        writer.writeheader()
    writer.writerows(rows)
    with gzip.open(path, "wt" if new else "at", newline="") as fh:
        fh.write(buf.getvalue())


def time_torch(model: torch.nn.Module, x: torch.Tensor, args: argparse.Namespace) -> Timing:
    with torch.inference_mode():
        return time_calls(lambda: model(x), warmup=args.warmup, min_repeats=args.repeats,
                          max_repeats=args.max_repeats, target_spread=args.target_spread,
                          max_seconds=args.max_seconds, basis=args.clock)


def time_ort(model: torch.nn.Module, x: torch.Tensor, args: argparse.Namespace) -> Timing:
    import onnxruntime as ort

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice, per subnet
        # dynamo=False: the TorchScript-based exporter handles these plain conv nets in < 1 s,
        # the dynamo one takes several seconds per subnet for the same graph.
        torch.onnx.export(model, (x,), buf, dynamo=False, opset_version=17, input_names=["x"])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    return time_calls(lambda: session.run(None, feed), warmup=args.warmup, min_repeats=args.repeats,
                      max_repeats=args.max_repeats, target_spread=args.target_spread,
                      max_seconds=args.max_seconds, basis=args.clock)


def hardware() -> dict[str, object]:
    """CPU model and core count (lscpu), OS, Python and library versions."""
    info: dict[str, object] = {"machine": platform.machine(), "os": platform.platform(),
                               "python": platform.python_version(), "cpu_count": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        for key in ("Model name", "Vendor ID", "CPU(s)", "Thread(s) per core", "Core(s) per socket",
                    "Hypervisor vendor", "L2 cache", "L3 cache", "Flags"):
            if key in fields:
                value = fields[key].strip()
                info[key] = " ".join(f for f in value.split() if f.startswith("avx")) if key == "Flags" else value
    except (OSError, subprocess.SubprocessError):
        pass
    import onnx
    import onnxruntime

    info.update(torch=torch.__version__, onnx=onnx.__version__, onnxruntime=onnxruntime.__version__)
    return info


def code_version() -> str:
    """The git commit of the gennas code that built the networks (``+changes`` if modified)."""
    root = Path(gennas.__file__).resolve().parent.parent
    marker = root / "COMMIT"  # a snapshot exported with `git archive` carries its commit here
    if marker.is_file():
        return marker.read_text().strip()
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "gennas/models", "gennas/spaces",
                                "spaces"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="subnets to measure (distinct)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=data_dir() / "mbv3_latency.csv.gz")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=7, help="timed passes at least")
    ap.add_argument("--max-repeats", type=int, default=25)
    ap.add_argument("--target-spread", type=float, default=0.05, help="stop repeating below this IQR/median")
    ap.add_argument("--max-seconds", type=float, default=3.0, help="stop repeating after this long (per backend)")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="cpu: the thread's CPU time (default: this 2-core machine is shared, and wall "
                         "time there measured the other processes as much as the network); wall: elapsed")
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--input-size", type=int, default=224)
    ap.add_argument("--summarise", action="store_true",
                    help="measure nothing: record the rows measured so far in the manifest (after a stopped run)")
    args = ap.parse_args()
    manifest = args.out.with_name(args.out.name.removesuffix(".csv.gz") + ".json")
    if args.summarise:
        record = json.loads(manifest.read_text())
        record.update(rows=len(read_rows(args.out)), updated=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        manifest.write_text(json.dumps(record, indent=2) + "\n")
        print(f"{record['rows']} subnets in {args.out} (planned {record['settings']['n']})", file=sys.stderr)
        return

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    space = gennas.load_space("mbv3")
    archs = sample_subnets(space, args.n, args.seed)
    done = {r["arch"] for r in read_rows(args.out)}
    todo = [(i, a) for i, a in enumerate(archs) if space.to_string(a) not in done]
    record = {"data": args.out.name, "space": "mbv3", "devices": list(DEVICES),
              "command": "nice -n 10 .venv/bin/python experiments/measure_mbv3.py " + " ".join(sys.argv[1:]),
              "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "input": [1, 3, args.input_size, args.input_size], "threads": 1,
              "clock": args.clock,
              "columns": {"<device>_ms": f"median latency of the timed passes (ms, {args.clock} clock)",
                          "<device>_spread": "interquartile range / median of the timed passes (same clock)",
                          "<device>_repeats": "timed passes",
                          "<device>_wall_ms": "median wall time of the same passes (ms)"},
              "hardware": hardware(), "code": code_version(),
              "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{len(archs) - len(todo)} of {len(archs)} subnets measured already; {len(todo)} to go",
          file=sys.stderr, flush=True)
    x = torch.randn(1, 3, args.input_size, args.input_size)
    began = time.monotonic()
    for count, (index, arch) in enumerate(todo, 1):
        model = space.build(arch, num_classes=args.num_classes).eval()
        timings = {"cpu_torch_1t": time_torch(model, x, args), "cpu_ort_1t": time_ort(model, x, args)}
        row: dict[str, object] = {"index": index, "arch": space.to_string(arch)}
        for dev, t in timings.items():
            row.update({f"{dev}_ms": f"{t.ms:.4f}", f"{dev}_spread": f"{t.spread:.4f}", f"{dev}_repeats": t.repeats,
                        f"{dev}_wall_ms": f"{t.wall_ms:.4f}"})
        write_rows(args.out, [row])
        elapsed = time.monotonic() - began
        print(f"[{count}/{len(todo)}] #{index} torch {timings['cpu_torch_1t'].ms:.2f} ms "
              f"(spread {timings['cpu_torch_1t'].spread:.3f}), ort {timings['cpu_ort_1t'].ms:.2f} ms "
              f"(spread {timings['cpu_ort_1t'].spread:.3f}); {elapsed / count:.2f} s/subnet, "
              f"eta {elapsed / count * (len(todo) - count) / 60:.1f} min", file=sys.stderr, flush=True)
    rows = read_rows(args.out)
    record.update(rows=len(rows), finished=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    manifest.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{len(rows)} subnets in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
