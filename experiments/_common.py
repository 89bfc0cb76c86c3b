"""Shared helpers of the experiment scripts: cost tables (FLOPs, params) and table printing.

``nb201_costs()`` gives the FLOPs and parameter count of every NAS-Bench-201 cell in the
benchmark network (channels 16, 5 cells per stage, 32x32 input), in official-index order,
cached in ``experiments/data/nb201_flops.npz``. Counting FLOPs takes ~0.3 s per network on
CPU, so cells are grouped by what the counts can depend on and one network per group is
counted: parameters depend only on the multiset of edge ops (every edge maps C -> C channels
at one resolution), FLOPs on the multiset of *live* edge ops (the built cell skips an edge
whose source node has no live input). The grouping is checked against direct counts on a
random sample of cells every time the cache is built.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from gennas.checkpoint import reproduce_command

DATA = Path(__file__).resolve().parent / "data"


def command_line() -> str:
    """The command that reproduces this run (:func:`gennas.checkpoint.reproduce_command`)."""
    return reproduce_command()


def seed_span(text: str) -> list[int]:
    """``"0-9"`` -> seeds 0 to 9; ``"5"`` -> seed 5."""
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def no_options(doc: str | None) -> None:
    """For a script that takes no options: ``--help`` prints its docstring ``doc`` and exits, any
    other argument is refused (before, ``--help`` ran the whole experiment, and one rewrote a
    tracked data file)."""
    import argparse

    argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()


def _live_ops(space, choices: tuple[str, ...]) -> tuple[str, ...]:
    """Edge ops with those reading a dead node (no live input) replaced by the zero op."""
    live = [True] + [False] * (space.cell_nodes - 1)
    out = []
    for (src, dst), op in zip(space.cell_edges, choices):
        effective = op if live[src] and op != space.zero_op else space.zero_op
        live[dst] = live[dst] or effective != space.zero_op
        out.append(effective)
    return tuple(out)


def nb201_costs(refresh: bool = False, check: int = 24, verbose: bool = True) -> dict[str, np.ndarray]:
    """``{"flops": int64 (15625,), "params": int64 (15625,), "strings": (15625,)}`` in benchmark row
    order; FLOPs of one forward pass on one 32x32 image (multiply-add = 2), from the cache if present."""
    import torch

    import gennas

    path = DATA / "nb201_flops.npz"
    bench = gennas.load_benchmark("nb201")
    if path.is_file() and not refresh:
        cached = np.load(path)
        if list(cached["strings"]) == bench.strings:
            return {k: cached[k] for k in ("flops", "params", "strings")}
    torch.set_num_threads(1)
    space = bench.space
    archs = bench.archs()
    choices = [space.choices(a) for a in archs]
    flop_keys = [tuple(sorted(_live_ops(space, c))) for c in choices]
    param_keys = [tuple(sorted(c)) for c in choices]
    flop_rep = {k: row for row, k in reversed(list(enumerate(flop_keys)))}  # first row of each group
    param_rep = {k: row for row, k in reversed(list(enumerate(param_keys)))}
    if verbose:
        print(f"counting FLOPs of {len(flop_rep)} and params of {len(param_rep)} representative cells "
              f"(of {len(archs)})", file=sys.stderr, flush=True)
    flop_of = {k: space.count_flops(archs[row]) for k, row in flop_rep.items()}
    param_of = {k: space.count_params(archs[row]) for k, row in param_rep.items()}
    flops = np.array([flop_of[k] for k in flop_keys], dtype=np.int64)
    params = np.array([param_of[k] for k in param_keys], dtype=np.int64)
    rng = np.random.default_rng(0)
    for row in rng.choice(len(archs), size=check, replace=False):
        direct = (space.count_flops(archs[row]), space.count_params(archs[row]))
        if direct != (flops[row], params[row]):
            raise RuntimeError(f"cost grouping is wrong for {bench.strings[row]}: {direct} vs "
                               f"{(flops[row], params[row])}")
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, flops=flops, params=params, strings=np.array(bench.strings))
    return {"flops": flops, "params": params, "strings": np.array(bench.strings)}


def markdown_table(rows: list[dict], columns: list[str] | None = None, digits: int = 3) -> str:
    """A markdown table of dict rows; floats rounded to ``digits``."""
    columns = columns or list(rows[0])
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    costs = nb201_costs(refresh="--refresh" in sys.argv)
    print(f"flops: {costs['flops'].min() / 1e6:.1f}..{costs['flops'].max() / 1e6:.1f} MFLOPs, "
          f"params: {costs['params'].min() / 1e6:.3f}..{costs['params'].max() / 1e6:.3f} M")


def returned_and_unverified(designer, n: int) -> tuple[list, list]:
    """``generate(n)``'s designs as returned (verified ones included), and the ``n`` best-ranked
    designs the designer has not verified (their intervals are what it promises; a verified
    design is stated with its measurement). One ``generate`` call of ``n`` plus the number of
    verified architectures: the same guided pool, and at least ``n`` unverified among them."""
    verified = len({r.arch.to_string() for r in designer.history if not r.failed})
    shown = designer.generate(n + verified)
    return shown[:n], [c for c in shown if c.verified_score is None][:n]
