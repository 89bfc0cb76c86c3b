"""Functional equivalence classes of a finite space's architectures.

Cells that compute the same function (``canonical_hash(functional=True)``) must score the same,
so the predictor augments training rows with their equivalents and predicts through one
representative per class.
"""

from __future__ import annotations

import functools

import numpy as np

from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace


@functools.lru_cache(maxsize=4)
def equivalence_classes(space_name: str) -> tuple[dict[str, int], list[list[str]]]:
    """string -> class id, and class id -> its strings (the first is the representative).

    About 0.4 s once for nb201's 15,625 cells (``python experiments/refit_speed.py``).
    """
    from gennas.spaces import load_space

    space = load_space(space_name)
    ids: dict[str, int] = {}
    members: list[list[str]] = []
    by_hash: dict[str, int] = {}
    for arch in space.enumerate():
        key = arch.canonical_hash(functional=True)
        cid = by_hash.setdefault(key, len(members))
        if cid == len(members):
            members.append([])
        text = space.to_string(arch)
        ids[text] = cid
        members[cid].append(text)
    return ids, members


@functools.lru_cache(maxsize=1 << 16)
def cell_of(space: SearchSpace, text: str) -> ArchGraph:
    """``space.from_string(text)``, one graph per text: every refit parses the task's results
    and their equivalents again, and the graph (immutable) keeps its hashes between refits."""
    return space.from_string(text)


def class_ids(space: SearchSpace, archs: list[ArchGraph]) -> np.ndarray:
    """Equivalence class id of each architecture, int ``(len(archs),)``."""
    ids, _ = equivalence_classes(space.name)
    return np.array([ids[cell_text(space, a)] for a in archs])


def cell_text(space: SearchSpace, arch: ArchGraph) -> str:
    """``space.to_string(arch)``, cached on the (immutable) graph: the loop classifies the same
    pool cells at every prediction, and keys the same training rows at every refit."""
    text = arch.__dict__.get("_text")
    if text is None:
        text = arch.__dict__["_text"] = space.to_string(arch)
    return text


def representatives(space: SearchSpace, classes: np.ndarray | list[int]) -> list[ArchGraph]:
    """The representative architecture of each class id."""
    _, members = equivalence_classes(space.name)
    return [cell_of(space, members[c][0]) for c in classes]


def augment_equivalents(space: SearchSpace, archs: list[ArchGraph], y: np.ndarray, k: int,
                        seed: int) -> tuple[list[ArchGraph], np.ndarray]:
    """``archs`` and their scores ``y`` plus up to ``k`` random functional equivalents of each
    (with the same score), appended after the originals."""
    ids, members = equivalence_classes(space.name)
    rng = np.random.default_rng(seed)
    out, scores = list(archs), list(y)
    for arch, score in zip(archs, y):
        text = space.to_string(arch)
        others = [m for m in members[ids[text]] if m != text]
        for j in rng.permutation(len(others))[:k]:
            out.append(cell_of(space, others[j]))
            scores.append(score)
    return out, np.asarray(scores)
