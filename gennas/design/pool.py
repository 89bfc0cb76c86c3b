"""Building the loop's candidate pool (:class:`~gennas.design.loop.DesignLoop`): what is new,
in which order the warm-up takes it, how many picks come from around the best verified."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from gennas.design.loop_settings import WARMUP_COMPUTED
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace


def proxy_order(space: SearchSpace, archs: list[ArchGraph], proxy: str) -> np.ndarray:
    """Indices of ``archs`` by the zero-cost ``proxy``, best first (undefined scores last); where
    the space ships no scores for it only the first :data:`WARMUP_COMPUTED` are scored (they are in
    random order), the rest follow unscored."""
    from gennas.surrogates.features import available, raw_proxies

    scored = len(archs) if proxy in available(space) else min(len(archs), WARMUP_COMPUTED)
    scores = raw_proxies(space, archs[:scored], (proxy,))[:, 0]
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf, posinf=np.inf), kind="stable")
    return np.r_[order, np.arange(scored, len(archs))].astype(int)


@functools.lru_cache(maxsize=8)
def proxy_top(space: SearchSpace, proxy: str, n: int) -> tuple[ArchGraph, ...]:
    """The ``n`` cells of highest ``proxy`` score in ``space`` where it ships the proxy for every cell
    (a finite space: nb201), constant-output cells left out; none elsewhere, where ranking the
    space would cost a network build per cell."""
    from gennas.surrogates.features import available

    if n <= 0 or not space.is_finite_enumerable() or proxy not in available(space):
        return ()
    cells = [a for a in space.enumerate() if not space.output_is_constant(a)]
    return tuple(cells[int(i)] for i in proxy_order(space, cells, proxy)[:n])


def local_count(share: float, asked: int, k: int) -> int:
    """How many of the next ``k`` picks come from around the best verified, after ``asked`` so far:
    the share holds over all asks (batches of one at 0.5 alternate, at 0.75 three of four)."""
    return int(np.floor(share * (asked + k)) - np.floor(share * asked))


def unseen(archs: Sequence[ArchGraph], seen: set[str]) -> list[ArchGraph]:
    """``archs`` minus those whose canonical hash is in ``seen``, and minus repeats."""
    out, hashes = [], set(seen)
    for a in archs:
        h = a.canonical_hash()
        if h not in hashes:
            hashes.add(h)
            out.append(a)
    return out


def random_within(archs: list[ArchGraph], n: int, seed: int | None) -> list[ArchGraph]:
    """``n`` of ``archs`` in a seeded random order (all of them, shuffled, if there are fewer):
    never the enumeration's order, which the acquisition of an untrained loop would keep."""
    order = np.random.default_rng(seed).permutation(len(archs))[:n]
    return [archs[int(i)] for i in order]
