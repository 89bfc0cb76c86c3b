"""What a predictor learned from scratch leaves unstated: designs it predicts above every result
(:func:`unstated_above_results`) and designs unlike every result (:func:`unstated_unlike_results`).

Unlike every result. A network trained from scratch on a search's results knows the space only
through them. A search that homes in on the best cells tells it nothing of designs built
otherwise, and it states those at the results' level: after 20 verifications from scratch on
nb201 (cifar100 named as a new dataset, seed 103), cells with three to five 3x3 average poolings
(true 10-43 %) read 71.4-71.5 % beside results none of which held more than two. A design that
holds some operation more or fewer times than every result did lies outside what the results
span. Of ``generate(20)``'s unverified designs after such searches (development seeds 100-109,
``python experiments/scratch_likeness.py --seeds 100,101,102,103,104,105,106,107,108,109``),
those like the results were over-stated +1.2 / +1.0 (cifar10, 20 / 50 results) and +1.9 / +2.2
points (cifar100), those unlike +4.7 / +3.2 and +10.8 / +8.2 points, 18-59 % of the top 20.
Stating nothing of them, and ranking them after the stated designs, moved the top 20's bias
+2.47 / +1.42 / +7.10 / +4.88 -> +1.40 / +1.17 / +1.12 / +1.77 and the true mean of what
``generate(20)`` returns 92.57 / 94.09 / 68.78 / 72.76 -> 93.19 / 94.09 / 70.96 / 72.76 %.

Further from every result than they lie from one another. A search moves by single changes, so
every result lies one change from another (development seeds 100-104, cifar100, 50 results: 250 of
250), and the results' out-of-fold errors describe designs one change from a result. Of
``generate(20)``'s unverified designs there, those one change from a result were over-stated
+0.57 points, those two or more +2.76 (98 designs; a throwaway diagnostic). Stating nothing of a
design further from every result than :data:`NEAR_SHARE` of the results lie from their nearest
other one (:func:`far_from_results`; positions' labels and edges: an op changed is one change)
moved the top 20's bias +0.99 / +0.80 / +1.03 / +1.44 -> +0.77 / +0.48 / +0.57 /
+0.63 and their 90 % coverage 92.5 / 79.5 / 98.4 / 78.5 -> 93.5 / 89.1 / 98.8 / 91.1 %, the true
mean of what ``generate(20)`` returns 93.66 / 94.15 / 71.28 / 72.80 -> 93.66 / 94.15 / 71.44 /
72.81; 31-64 % of the top 20 then state no value (1-8 % before): ``python
experiments/calibration.py --seeds 100,101,102,103,104,105,106,107,108,109 --predictors scratch``.
A predictor a search saved records its results' op-count ranges and architectures, so a later
designer states nothing unlike them either way (:func:`unlike_saved`; a manifest saved before
the architectures were recorded: the op-count rule only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gennas.graph import ArchGraph
from gennas.surrogates.calibration import Predictions

#: a design is stated from scratch only as near to some result as this share of the distinct
#: results lie to their nearest other one (a search moving by one change: every result 1 change
#: from another, so a design 2 changes from every result states nothing; see the module doc)
NEAR_SHARE = 0.9

__all__ = ["CountRanges", "changes_to_nearest", "count_ranges", "far_from_results", "merged_ranges", "op_counts",
           "unlike_ranges", "unlike_results", "unlike_saved",
           "unstated_above_results", "unstated_unlike_results"]


def op_counts(archs: Sequence[ArchGraph]) -> np.ndarray:
    """How many nodes of each label of the space's vocabulary each architecture holds, int ``(n, K)``
    (``K`` the vocabulary's size; the architectures share one space)."""
    if not archs:
        return np.zeros((0, 0), dtype=np.int64)
    size = len(archs[0].search_space.node_vocab)
    return np.stack([np.bincount(a.op_indices(), minlength=size) for a in archs])


#: per label of the space's vocabulary, the fewest and most nodes of it an architecture held
CountRanges = dict[str, list[int]]


def count_ranges(archs: Sequence[ArchGraph]) -> CountRanges:
    """The per-label ``[min, max]`` of :func:`op_counts` over ``archs`` (empty for none): what a
    saved predictor's manifest records of the results it learned from (JSON)."""
    if not archs:
        return {}
    counts = op_counts(archs)
    labels = archs[0].search_space.node_vocab
    return {label: [int(counts[:, k].min()), int(counts[:, k].max())] for k, label in enumerate(labels)}


def merged_ranges(first: CountRanges, second: CountRanges) -> CountRanges:
    """The ranges spanning both ``first`` and ``second`` (a label in one only: its range there)."""
    out = {label: list(span) for label, span in first.items()}
    for label, (low, high) in second.items():
        out[label] = [min(low, out[label][0]), max(high, out[label][1])] if label in out else [low, high]
    return out


def unlike_ranges(archs: Sequence[ArchGraph], ranges: CountRanges) -> np.ndarray:
    """Bool ``(len(archs),)``: True where an architecture holds some label more or fewer times than
    ``ranges`` span (a label they do not name: never held, so any node of it is unlike)."""
    if not archs or not ranges:
        return np.zeros(len(archs), dtype=bool)
    labels = archs[0].search_space.node_vocab
    low = np.array([ranges.get(label, [0, 0])[0] for label in labels])
    high = np.array([ranges.get(label, [0, 0])[1] for label in labels])
    counts = op_counts(archs)
    return np.any((counts < low) | (counts > high), axis=1)


def unlike_results(archs: Sequence[ArchGraph], learned_from: Sequence[ArchGraph]) -> np.ndarray:
    """Bool ``(len(archs),)``: True where an architecture holds some label more or fewer times than
    every architecture in ``learned_from`` did (outside their :func:`count_ranges`), or lies
    further from every one of them than they lie from one another (:func:`far_from_results`)."""
    return unlike_ranges(archs, count_ranges(learned_from)) | far_from_results(archs, learned_from)


def unlike_saved(archs: Sequence[ArchGraph], ranges: CountRanges | None,
                 learned_from: Sequence[ArchGraph] | None) -> np.ndarray:
    """:func:`unlike_results` from what a saved predictor's manifest records of its results: their
    op-count ``ranges`` and their architectures ``learned_from`` (each None where not recorded:
    saved before it was kept, so that rule is not applied), bool ``(len(archs),)``."""
    unlike = np.zeros(len(archs), dtype=bool) if ranges is None else unlike_ranges(archs, ranges)
    return unlike if learned_from is None else unlike | far_from_results(archs, learned_from)


def far_from_results(archs: Sequence[ArchGraph], learned_from: Sequence[ArchGraph]) -> np.ndarray:
    """Bool ``(len(archs),)``: True where an architecture differs from every distinct architecture
    of ``learned_from`` in more node labels and edges (:func:`changes_to_nearest`) than
    :data:`NEAR_SHARE` of those differ from their nearest other one (nothing under 3 distinct)."""
    distinct = list({a.to_string(): a for a in learned_from}.values())
    if len(distinct) < 3 or not archs:
        return np.zeros(len(archs), dtype=bool)
    among = changes_to_nearest(distinct, distinct, others_only=True)
    return changes_to_nearest(archs, distinct) > np.quantile(among, NEAR_SHARE, method="higher")


def changes_to_nearest(archs: Sequence[ArchGraph], to: Sequence[ArchGraph], others_only: bool = False) -> np.ndarray:
    """Per architecture, the fewest node labels (by position) and edges it differs by from any of
    ``to`` (a one-step neighbour: 1 in nb201 and mbv3; in darts 2 where a node takes another input,
    an edge gone and one new), int ``(len(archs),)``; ``others_only``: not counting an identical
    one (each of ``to`` against the others). In blocks of 512, about 0.3 s of CPU for nb201's 15,625
    cells against 300 results (``python -c "import time,gennas;from gennas.design.scratch_statement
    import changes_to_nearest as c;a=gennas.load_benchmark('nb201').archs();t=time.process_time();
    c(a,a[:300]);print(time.process_time()-t)"``: 0.26)."""
    nodes = max(a.num_nodes for a in [*archs, *to])
    upper = np.triu_indices(nodes, 1)
    coded = [_positions(group, nodes, upper) for group in (archs, to)]
    out = np.empty(len(archs), dtype=np.int64)
    for start in range(0, len(archs), 512):
        changes = (coded[0][start:start + 512, None, :] != coded[1][None, :, :]).sum(-1)
        if others_only:
            changes = np.where(changes == 0, np.iinfo(np.int64).max, changes)
        out[start:start + 512] = changes.min(1)
    return out


def _positions(archs: Sequence[ArchGraph], nodes: int, upper: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Each architecture's label index per node (-1 past its last) and its adjacency's upper
    triangle, int ``(len(archs), nodes + nodes (nodes - 1) / 2)``."""
    out = np.full((len(archs), nodes + len(upper[0])), -1, dtype=np.int64)
    for row, arch in zip(out, archs):
        row[:arch.num_nodes] = arch.op_indices()
        adjacency = np.zeros((nodes, nodes), dtype=np.int64)
        if arch.edges:
            adjacency[tuple(np.array(arch.edges).T)] = 1
        row[nodes:] = adjacency[upper]
    return out


def unstated_unlike_results(p: Predictions, unlike: np.ndarray) -> Predictions:
    """``p`` (a from-scratch statement) with nothing stated (NaN) of the designs ``unlike`` (bool
    ``(n,)``: :func:`unlike_results` of the results the predictor learned from), flagged so, and
    ranked after every design it states (their ranking score -inf; among themselves by ``raw``): a
    value there is the results' level, not the design's, and generate's first designs were
    often the ones the network knew least (the module's figures)."""
    if p.mean is None or not unlike.any():
        return replace(p, unlike=unlike) if p.mean is not None else p
    # not flagged above the results too: ranked as a typical result (verified._expected), they
    # would come back before the designs the results do speak for; nor below them: being unlike
    # them is why nothing is known there
    beyond = None if p.beyond is None else p.beyond & ~unlike
    below = None if p.below is None else p.below & ~unlike
    return unstated(p, unlike, beyond=beyond, below=below, score=np.where(unlike, -np.inf, p.score), unlike=unlike)


def unstated_above_results(p: Predictions, reach: tuple[float, float]) -> Predictions:
    """``p`` (a from-scratch statement; ``raw`` the model's value on its scale) with nothing stated
    (NaN) of the designs whose ``raw`` lies above ``reach``'s top, the best verified score, flagged
    ``beyond``: clipped there, they read as good as the best result. A user's
    synflow study in its own space stated 9 designs at the best result, 4.606e8, for truths of
    3.5e7-1.3e8, ranked above verified cells of 4.1e8-4.4e8; from scratch nothing calibrates the
    predictor above its results, where its top picks are the ones it over-rates."""
    above = p.raw > reach[1]
    if p.mean is None or not above.any():
        return p
    return unstated(p, above, beyond=above)


def unstated(p: Predictions, where: np.ndarray, **changes: np.ndarray | None) -> Predictions:
    """``p`` with its mean, std and interval NaN (nothing stated) ``where`` (bool ``(n,)``), and
    ``changes`` to its other fields."""
    nan = lambda v: None if v is None else np.where(where, np.nan, v)  # noqa: E731
    other: dict[str, Any] = dict(changes)  # the flags (beyond, unlike): raw and score are not changed here
    return replace(p, mean=nan(p.mean), std=nan(p.std), low=nan(p.low), high=nan(p.high), **other)
