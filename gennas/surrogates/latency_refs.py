"""Choosing the reference architectures a new device is asked to measure.

A device is known to the latency estimator through the latencies of ``k`` fixed reference
architectures, so they should differ in the ways devices differ: where the training table has
many devices, in the directions along which those devices' latencies disagree; where it has
few (mbv3 ships two measured devices), also in the architecture itself (its one-hot encoding),
so the references spread over the space instead of bunching where two devices happen to agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace

__all__ = ["select_references"]


def _principal(x: np.ndarray, pool: np.ndarray, dims: int) -> np.ndarray:
    """The rows of ``x`` ``(n, f)`` on the top ``dims`` principal directions of its ``pool`` rows,
    whitened (unit variance over the pool), ``(n, dims)``."""
    centred = x - x[pool].mean(0)
    _, s, vt = np.linalg.svd(centred[pool], full_matrices=False)
    dims = min(dims, int(np.sum(s > 1e-9 * max(s[0], 1e-300))))
    return centred @ vt[:dims].T / s[:dims] * math.sqrt(pool.sum())


def select_references(space: SearchSpace, archs: Sequence[ArchGraph], table: dict[str, np.ndarray],
                      k: int) -> list[int]:
    """Indices into ``archs`` of ``k`` reference architectures, chosen greedily for D-optimality.

    Each arch is described by its standardised log-latency on every device of ``table``
    (device -> ms ``(len(archs),)``), projected on the top ``k-1`` principal directions; with
    fewer devices than that, the remaining directions are the top principal directions of the
    architectures' one-hot encoding (``space.encode``). Picking rows that maximise
    ``det(F^T F)`` makes the references pin down how a device differs from the others.
    Archs whose output is functionally zero are excluded: graph-pruning runtimes
    (pixel3's TFLite) report ~0 ms for them, which says nothing about the device.
    Deterministic: same inputs, same references.
    """
    logs = np.log(np.stack([table[d] for d in sorted(table)]))                # (D, n)
    z = ((logs - logs.mean(1, keepdims=True)) / logs.std(1, keepdims=True)).T  # (n, D)
    pool = np.array([not space.canonical_form(a, functional=True).endswith(":#") for a in archs])
    parts = [np.ones((len(archs), 1)), _principal(z, pool, k - 1)]
    spare = k - sum(p.shape[1] for p in parts)
    if spare > 0:  # few devices: spread the rest of the design over the architectures themselves
        parts.append(_principal(space.encode(list(archs)).astype(np.float64), pool, spare))
    feats = np.hstack(parts)
    info = 1e-6 * np.eye(feats.shape[1])
    chosen: list[int] = []
    for _ in range(k):
        gain = np.einsum("ij,jk,ik->i", feats, np.linalg.inv(info), feats)
        gain[~pool] = -np.inf
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        info += np.outer(feats[best], feats[best])
    return chosen
