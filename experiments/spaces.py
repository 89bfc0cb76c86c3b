"""Every space end to end (issue 13): nb201, darts, mbv3 and a user's YAML through each step a
user takes, with the wall and CPU time of each step.

For each space:

1. **load**: ``gennas.load_space`` (a bundled name, or the YAML path the script writes into its
   temporary folder for ``user``: a 4-node cell with separable, dilated and SE/h-swish MBConv ops).
2. **sample**: ``--samples`` uniform samples (``space.sample_many``): share valid
   (``space.is_valid``) and share of distinct canonical hashes.
3. **build + step**: one architecture built at its small size (the spec's ``small_build``; mbv3,
   which declares none: ``width_mult=0.25``), one SGD step on a batch of real bundled MNIST test
   images, resized to the space's input side (mbv3: 64 px, not 224, to keep it a CPU step) and
   repeated to 3 channels; the figure is the cross-entropy of that batch (about ln 10 = 2.30 at
   initialisation).
4. **supernet step**: ``space.build_supernet`` with the same small options, one single-path
   forward/backward (``net(x, space.supernet_path(arch))``) and SGD step on the same batch.
5. **generator**: spaces that ship a diffusion generator (``checkpoints/diffusion_<space>.pt``)
   load it; the others are trained by the command a user runs, ``gennas train --space NAME_OR_YAML
   --steps --samples`` (a subprocess, so its import time counts), writing under ``$GENNAS_HOME``
   (a fresh temporary folder unless ``--home``). The figure: the share of valid and of distinct
   architectures among ``--generator-samples`` unguided samples of the generator the designer loads.
6. **generate (before)**: a fresh ``gennas.Designer(space, task=...)`` and ``generate(--generate)``.
   Without a predictor (a space that ships none, before any search) this is the error a user
   sees; the cell shows its class.
7. **search**: ``designer.search(ProxyEvaluator(space, "synflow", build_options=small), budget)``:
   the designer loop verifying with the data-free synflow proxy on the small network (the figure:
   verified, distinct, failed, the best synflow score). If the designer cannot start, the cell
   shows the error's class.
8. **generate (after)**: ``generate`` of the designer that searched (its predictor refitted on the
   verified results); share of valid and distinct architectures among those returned, and what it
   predicts for the first (``pred``: in the predictor's units, which after a proxy search are the
   proxy's; ``rel``: a rank-only score).
9. **generate (new session)**: a *new* ``Designer``, as in a later session: for a space without a
   shipped predictor it finds the one the search saved under ``$GENNAS_HOME``; a space with a
   shipped predictor starts from that again (a search's results stay with its study).
10. **baseline search**: the same search by ``--baseline`` (random) through
   ``gennas.search.run_search(make_optimizer(...), evaluator, budget)``: the comparison, and the
   search any space gets without a generator.

Each cell of the printed markdown table is ``figure; wall s / CPU s`` (CPU: this process and its
children). A failed step shows the error's class, never hides it; its message is printed under
the table. Run with one thread (the script sets it):

    OMP_NUM_THREADS=1 python experiments/spaces.py
    python experiments/spaces.py --spaces darts user --train-steps 100
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402

import gennas  # noqa: E402
from gennas.checkpoint import reproduce_command  # noqa: E402

SPACES = ("nb201", "darts", "mbv3", "user")
STEPS = ("load", "sample", "build + step", "supernet step", "generator", "generate (before)", "search",
         "generate (after)", "generate (new session)", "baseline search")
#: the user's space: the spec tests/test_space_schema.py checks (under its own name, with 4 nodes instead
#: of 3: 15,625 cells rather than 125, so that 1,000 samples and a search are not a census)
USER_SPACE = """\
# a user's cell space: separable convs and an MBConv with squeeze-excite and h-swish (5^6 cells)
kind: cell
name: {name}
description: four-node cell (experiments/spaces.py)
input_size: 32
cell:
  nodes: 4
  zero_op: none
  identity_op: skip
  ops:
    none: {{type: zero}}
    skip: {{type: identity}}
    sep3: {{type: sep_conv, kernel: 3}}
    dil3: {{type: dil_conv, kernel: 3, dilation: 2}}
    mb5: {{type: mbconv, kernel: 5, expand: 3, se: true, act: hswish}}
macro: {{channels: 8, cells_per_stage: 1, stages: 2}}
"""
#: task the designer is asked for (the proxy stands in for its accuracy); None: the predictor's default
TASKS = {"nb201": "cifar10"}
#: mbv3 declares no small_build: a quarter-width network on 64 px images is a CPU step
MBV3_SMALL = {"width_mult": 0.25}
MBV3_SIDE = 64


@dataclass
class Cell:
    """One step of one space: what it showed, how long it took, or why it failed."""

    figure: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    error: str | None = None  # the exception's class
    message: str = ""

    def text(self) -> str:
        if self.error is not None:
            return f"**{self.error}**; {self.wall_s:.1f} s"
        if not self.figure and self.wall_s == 0.0:
            return "-"
        return f"{self.figure}; {self.wall_s:.1f} / {self.cpu_s:.1f} s"


@dataclass
class SpaceRun:
    """The state one space's steps share."""

    name: str
    spec: str  # what load_space and `gennas train --space` are given: a name or a YAML path
    cells: dict[str, Cell] = field(default_factory=dict)
    space: Any = None
    designer: Any = None


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the `gennas train` subprocess)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(run: SpaceRun, step: str, fn: Callable[[], str]) -> bool:
    """Run ``fn`` (it returns the step's figure) and record it in ``run.cells[step]``; True if it worked."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    cell = Cell()
    try:
        cell.figure = fn()
    except Exception as exc:  # noqa: BLE001  (every failure is reported in the table, by class)
        cell.error, cell.message = type(exc).__name__, (str(exc).splitlines() or [""])[0][:300]
    cell.wall_s, cell.cpu_s = time.perf_counter() - wall, cpu_seconds() - cpu
    run.cells[step] = cell
    print(f"  {run.name} {step}: {cell.text()}" + (f" ({cell.message})" if cell.error else ""),
          file=sys.stderr, flush=True)
    return cell.error is None


def small_options(space: Any) -> dict[str, Any]:
    """Build options of the small network every step uses."""
    return dict(MBV3_SMALL) if space.name == "mbv3" else space.small_build_options


def mnist_batch(n: int, side: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` seeded bundled MNIST test images ``(n, 3, side, side)`` and labels ``(n,)``."""
    from gennas.datasets import load_images

    x, y = load_images("mnist")  # native 28 px, 1 channel: resizing all 10,000 would waste memory
    rows = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
    x = torch.nn.functional.interpolate(x[rows], size=(side, side), mode="bilinear", align_corners=False)
    return x.repeat(1, 3, 1, 1).contiguous(), y[rows]


def sgd_step(net: torch.nn.Module, forward: Callable[[torch.Tensor], torch.Tensor],
             batch: tuple[torch.Tensor, torch.Tensor]) -> float:
    """One SGD step (lr 0.05, momentum 0.9) of ``forward`` on ``batch``; the loss before it."""
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss = torch.nn.functional.cross_entropy(forward(batch[0]), batch[1])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if not math.isfinite(loss.item()):
        raise FloatingPointError(f"loss is {loss.item()}")
    return loss.item()


def share(archs: list[Any], space: Any) -> str:
    """``"V % valid, D distinct"`` of ``archs``: valid by ``space.is_valid``, distinct valid ones by
    canonical hash (a space smaller than the sample caps D: its size is shown then)."""
    valid = [a for a in archs if space.is_valid(a)]
    distinct = len({a.canonical_hash() for a in valid})
    cap = f" of {space.size()}" if space.size() < len(archs) else ""
    return f"{100.0 * len(valid) / max(len(archs), 1):.1f} % valid, {distinct}{cap} distinct"


# ------------------------------------------------------------------ the steps
def step_load(run: SpaceRun) -> str:
    run.space = gennas.load_space(run.spec)
    return f"{run.space.kind}, {float(run.space.size()):.3g} archs"


def step_sample(run: SpaceRun, n: int, seed: int) -> str:
    return share(run.space.sample_many(n, seed), run.space)


def batch_for(space: Any, args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    side = MBV3_SIDE if space.name == "mbv3" else space.default_input_size
    return mnist_batch(args.batch, side, args.seed)


def step_build(run: SpaceRun, args: argparse.Namespace) -> str:
    torch.manual_seed(args.seed)
    arch = run.space.sample(args.seed)
    net = run.space.build(arch, num_classes=10, **small_options(run.space))
    loss = sgd_step(net, net, batch_for(run.space, args))
    params = sum(p.numel() for p in net.parameters())
    return f"loss {loss:.2f}, {params / 1e3:.0f}k params"


def step_supernet(run: SpaceRun, args: argparse.Namespace) -> str:
    torch.manual_seed(args.seed)
    arch = run.space.sample(args.seed)
    net = run.space.build_supernet(num_classes=10, **small_options(run.space))
    path = run.space.supernet_path(arch)
    loss = sgd_step(net, lambda x: net(x, path), batch_for(run.space, args))
    params = sum(p.numel() for p in net.parameters())
    return f"loss {loss:.2f}, {params / 1e3:.0f}k params"


def step_generator(run: SpaceRun, args: argparse.Namespace) -> str:
    """Load the shipped diffusion generator, else train one with `gennas train`."""
    from gennas.checkpoint import find_checkpoint
    from gennas.resources import checkpoints_dir

    shipped = (checkpoints_dir() / f"diffusion_{run.space.name}.pt").is_file()
    how = "shipped"
    if not shipped:
        cmd = [sys.executable, "-m", "gennas.cli", "train", "--space", run.spec, "--kind", "diffusion",
               "--steps", str(args.train_steps), "--samples", str(args.train_samples),
               "--seed", str(args.seed), "--json", "--quiet", "--force"]  # retrained on purpose
        done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode != 0:
            raise RuntimeError(f"gennas train exited {done.returncode}: {done.stderr.strip()[-300:]}")
        row = json.loads(done.stdout)[0]
        how = f"trained {row['steps']} steps, val loss {row['val_loss']:.3f}"
        if find_checkpoint(f"diffusion_{run.space.name}.pt") is None:
            raise FileNotFoundError(f"gennas train wrote {row['file']} but the designer does not find it")
    model = gennas.load_generator(run.space, "diffusion")
    # unique=False: the raw draws, so repeats show (sample() deduplicates by default)
    draws = model.sample(args.generator_samples, seed=args.seed, unique=False)
    return f"{how}; {len(draws)} draws: {share(draws, run.space)}"


def designer(run: SpaceRun, args: argparse.Namespace) -> Any:
    return gennas.Designer(run.space, task=TASKS.get(run.space.name), seed=args.seed)


def step_generate(run: SpaceRun, args: argparse.Namespace, fresh: bool = True) -> str:
    """``generate`` of a new designer (``fresh``) or of the one that searched; what it states of the best."""
    if not fresh and run.designer is None:
        raise RuntimeError("the designer did not search (see the search cell)")
    found = (designer(run, args) if fresh else run.designer).generate(args.generate)
    best = found[0]
    said = (f"pred {best.predicted_accuracy:.3g}" if best.predicted_accuracy is not None
            else f"rel {best.relative_score:+.2f}")
    return f"{len(found)} returned: {share([c.arch for c in found], run.space)}; #1 {said}"


def proxy_evaluator(run: SpaceRun, args: argparse.Namespace) -> Any:
    """The data-free synflow proxy on the small network (the same for every search of a space)."""
    from gennas.evaluators.proxy import ProxyEvaluator

    return ProxyEvaluator(run.space, "synflow", build_options=small_options(run.space), seed=args.seed)


def searched(how: str, result: Any) -> str:
    distinct = len({r.arch.canonical_hash() for r in result.history})
    best = "-" if result.best is None else f"{result.best.score:.3g}"
    return (f"{how}: {len(result.history)} verified ({distinct} distinct, {len(result.failures)} failed), "
            f"best {best}")


def step_search(run: SpaceRun, args: argparse.Namespace) -> str:
    """A designer search (``Designer.search``) verifying with the synflow proxy."""
    d = designer(run, args)  # a designer that cannot start fails here: the cell shows the error's class
    result = d.search(proxy_evaluator(run, args), budget=args.budget, progress=False)
    run.designer = d
    return searched("designer", result)


def step_baseline(run: SpaceRun, args: argparse.Namespace) -> str:
    """The same search by a baseline method (``gennas.search.run_search``): what the designer is
    compared with, and what a user can run on any space."""
    from gennas.search import run_search
    from gennas.search.registry import make_optimizer

    result = run_search(make_optimizer(args.baseline, run.space, seed=args.seed), proxy_evaluator(run, args),
                        budget=args.budget, progress=False)
    return searched(args.baseline, result)


def run_space(name: str, spec: str, args: argparse.Namespace, steps: tuple[str, ...] = STEPS) -> SpaceRun:
    """All ``steps`` of one space, in order; a step that needs a failed one is skipped ("-")."""
    run = SpaceRun(name, spec)
    print(f"{name}:", file=sys.stderr, flush=True)
    actions: dict[str, Callable[[], str]] = {
        "load": lambda: step_load(run),
        "sample": lambda: step_sample(run, args.samples, args.seed),
        "build + step": lambda: step_build(run, args),
        "supernet step": lambda: step_supernet(run, args),
        "generator": lambda: step_generator(run, args),
        "generate (before)": lambda: step_generate(run, args),
        "search": lambda: step_search(run, args),
        "generate (after)": lambda: step_generate(run, args, fresh=False),
        "generate (new session)": lambda: step_generate(run, args),
        "baseline search": lambda: step_baseline(run, args),
    }
    for step in steps:
        if step != "load" and run.space is None:
            break  # nothing to run the rest on
        timed(run, step, actions[step])
    return run


def table(runs: list[SpaceRun], steps: tuple[str, ...] = STEPS) -> str:
    """The markdown table: one row per space, one column per step; then every failure's message."""
    lines = ["| space | " + " | ".join(steps) + " |", "|---|" + "---|" * len(steps)]
    for run in runs:
        lines.append(f"| {run.name} | " + " | ".join(run.cells.get(s, Cell()).text() for s in steps) + " |")
    notes = [f"- {run.name}, {step}: {cell.error}: {cell.message}"
             for run in runs for step, cell in run.cells.items() if cell.error is not None]
    return "\n".join(lines + ([""] + notes if notes else []))


def write_user_space(folder: Path) -> Path:
    """Write the user's space spec (:data:`USER_SPACE`, named ``my_cells``) into ``folder``; its path."""
    path = folder / "my_cells.yaml"
    path.write_text(USER_SPACE.format(name="my_cells"))
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spaces", nargs="+", default=list(SPACES), choices=SPACES)
    p.add_argument("--samples", type=int, default=1000, help="uniform samples checked for validity")
    p.add_argument("--batch", type=int, default=16, help="MNIST images in the training steps")
    p.add_argument("--train-steps", type=int, default=300, help="`gennas train --steps` (spaces without a shipped generator)")
    p.add_argument("--train-samples", type=int, default=2000, help="`gennas train --samples`")
    p.add_argument("--generator-samples", type=int, default=200, help="unguided samples to check the generator")
    p.add_argument("--budget", type=int, default=20, help="verifications of the search")
    p.add_argument("--generate", type=int, default=10, help="architectures asked of generate")
    p.add_argument("--baseline", default="random", help="the baseline search method (gennas.search.registry)")
    p.add_argument("--home", type=Path, default=None, help="$GENNAS_HOME (default: a fresh temporary folder)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> str:
    args = parse_args(argv)
    torch.set_num_threads(1)
    before = os.environ.get("GENNAS_HOME")
    with tempfile.TemporaryDirectory(prefix="gennas-spaces-") as tmp:
        # a fresh home: checkpoints of an earlier run (or of the user) must not stand in for this one's
        os.environ["GENNAS_HOME"] = str(args.home or Path(tmp) / "home")
        try:
            specs = {name: (str(write_user_space(Path(tmp))) if name == "user" else name) for name in args.spaces}
            runs = [run_space(name, spec, args) for name, spec in specs.items()]
        finally:
            if before is None:
                os.environ.pop("GENNAS_HOME", None)
            else:
                os.environ["GENNAS_HOME"] = before
    out = table(runs)
    print(out)
    print(f"\n{reproduce_command()} ({torch.get_num_threads()} thread; cells: figure; wall s / CPU s)")
    return out


if __name__ == "__main__":
    main()
