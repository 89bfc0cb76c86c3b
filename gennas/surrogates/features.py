"""Zero-cost proxy scores of architectures as predictor input features, computed once and cached.

For ``nb201`` every cell's proxies ship precomputed in ``gennas/data/nb201_proxies.npz``
(``experiments/proxy_features.py``: params, FLOPs, synflow, and the data proxies that were
computed); for other spaces, or a proxy the table lacks, they are computed on demand with
:mod:`gennas.evaluators.zero_cost` (data proxies on the first 32 bundled MNIST images at
32x32x3, as the table) and kept in a per-process cache keyed by the architecture string.

Raw scores span orders of magnitude (FLOPs ~1e8, synflow ~1e30), so a feature is
``sign(s) * log1p(|s|)``; a proxy undefined on a degenerate network (NaN, -inf) becomes the
lowest value seen in training (every proxy is higher-is-better). The predictor standardises the
result with statistics of its training rows (:func:`feature_stats`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch

from gennas.errors import GennasError, unknown
from gennas.graph import ArchGraph
from gennas.resources import data_dir
from gennas.spaces import SearchSpace

#: the proxies that need no data, cheapest first: the default feature set
DATA_FREE = ("params", "flops", "synflow")
#: build options of the data proxies in the shipped table (one cell per stage keeps them cheap)
DATA_BUILD = {"nb201": {"cells_per_stage": 1}}

_computed: dict[tuple[str, str], float] = {}  # (space, proxy + arch string) -> raw score


@functools.lru_cache(maxsize=2)
def shipped_table(space_name: str) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """(arch string -> row, proxy -> raw scores (rows,), float64) of the shipped table; empty if none.

    A proxy whose column is not complete (the precompute was cut short) is left out.
    """
    path = data_dir() / f"{space_name}_proxies.npz"
    if not path.is_file():
        return {}, {}
    z = np.load(path, allow_pickle=False)
    rows = {str(s): i for i, s in enumerate(z["strings"])}
    complete = z["complete"] if "complete" in z.files else np.ones(len(z["names"]), bool)
    cols = {str(n): z["scores"][:, j] for j, n in enumerate(z["names"]) if complete[j]}
    return rows, cols


def available(space: SearchSpace) -> list[str]:
    """Proxies whose scores ship for every architecture of ``space`` (no computing needed)."""
    return list(shipped_table(space.name)[1])


@functools.lru_cache(maxsize=1)
def _proxy_batch() -> tuple[torch.Tensor, torch.Tensor]:
    from gennas.datasets import image_loaders

    return next(iter(image_loaders("mnist", batch_size=32, size=32, channels=3, seed=0)[0]))


def _compute(space: SearchSpace, proxy: str, texts: list[str]) -> np.ndarray:
    """Raw scores of ``proxy`` for architectures given by string, through the process cache."""
    from gennas.evaluators import zero_cost

    missing = [t for t in dict.fromkeys(texts) if (space.name, proxy + t) not in _computed]
    if missing:
        needs = zero_cost.get(proxy).needs_data
        options = DATA_BUILD.get(space.name, {}) if needs else {}
        values = zero_cost.score(missing, space, proxy, _proxy_batch() if needs else None,
                                 build_options=options, seed=0)
        _computed.update({(space.name, proxy + t): float(v) for t, v in zip(missing, values)})
    return np.array([_computed[(space.name, proxy + t)] for t in texts])


def raw_proxies(space: SearchSpace, archs: Sequence[ArchGraph], proxies: Sequence[str]) -> np.ndarray:
    """Raw proxy scores, float64 ``(len(archs), len(proxies))``: shipped table first, else computed."""
    from gennas.evaluators import zero_cost

    for p in proxies:
        if p not in zero_cost.names():
            raise GennasError(unknown("proxy feature", p, zero_cost.names()))
    rows, cols = shipped_table(space.name)
    texts = [space.to_string(a) for a in archs]
    out = np.empty((len(texts), len(proxies)))
    for j, p in enumerate(proxies):
        if p in cols and all(t in rows for t in texts):
            out[:, j] = cols[p][[rows[t] for t in texts]]
        else:
            out[:, j] = _compute(space, p, texts)
    return out


def squash(raw: np.ndarray) -> np.ndarray:
    """``sign(s) * log1p(|s|)``, float64, non-finite entries kept as NaN."""
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.sign(raw) * np.log1p(np.abs(raw))
    out[~np.isfinite(out)] = np.nan
    return out


def feature_stats(squashed: np.ndarray) -> torch.Tensor:
    """``(3, P)`` float32: mean, std and minimum of each column over its finite entries."""
    stats = []
    for col in squashed.T:
        ok = col[np.isfinite(col)]
        ok = ok if len(ok) else np.zeros(1)
        stats.append([ok.mean(), max(ok.std(), 1e-6), ok.min()])
    return torch.tensor(np.array(stats).T, dtype=torch.float32)


def standardise(squashed: np.ndarray, stats: torch.Tensor) -> torch.Tensor:
    """Standardised features ``(B, P)`` float32; undefined entries take the training minimum."""
    mean, std, low = (s.double().numpy() for s in stats)
    x = np.where(np.isfinite(squashed), squashed, low[None, :])
    return torch.tensor((x - mean) / std, dtype=torch.float32)
