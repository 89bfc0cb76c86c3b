"""Encoder embeddings of hard architectures, kept until the ensemble's weights change.

A task only modulates the head (FiLM), so the encoder's embedding of a cell is the same for
every task. The design loop asks for several tasks on the same cells in one round (the target
and each measured source task of :class:`gennas.design.prior.SourceTablePrior`, and their
reference cells), and before this cache each of those predictions ran the encoder again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch

#: embeddings kept at most (about 0.8 kB each for 3 members of hidden 32); past it the cache
#: starts again, so a long generation without refits cannot grow memory without bound
MAX_ENTRIES = 50_000

#: ``rows (list of positions in the keys) -> (members, len(rows), d)`` embeddings of every member
EmbedFn = Callable[[list[int]], torch.Tensor]


class EmbeddingCache:
    """Per-architecture ``(members, d)`` embeddings keyed by a string (the architecture's
    canonical text), valid while the weights they were computed with are unchanged.

    Every lookup compares a fingerprint of those weights (in float64, their sum, sum of squares
    and a sum weighted by position, so values moved between positions count too: two weights
    swapped had kept stale embeddings), so no owner has to remember to clear it: training,
    ``load_state_dict`` or an edit of ``.data`` start it afresh, and heads-only training keeps it."""

    def __init__(self) -> None:
        self._rows: dict[str, torch.Tensor] = {}
        self._fingerprint: torch.Tensor | None = None

    def __deepcopy__(self, memo: dict) -> EmbeddingCache:
        """A copy that shares the stored rows (never modified in place): copying every tensor
        cost a copied predictor (the loop's refitted one) 186 instead of 20 ms of CPU with every
        nb201 class cached (``python experiments/refit_speed.py``)."""
        copy = EmbeddingCache()
        copy._rows = dict(self._rows)
        copy._fingerprint = self._fingerprint
        return copy

    def __reduce__(self) -> tuple[type, tuple[()]]:
        """Pickled empty: each row is a view of its batch's tensor, and pickling a view writes its
        whole storage, so a designer with 4,096-row batches cached did not fit in 24 GB."""
        return EmbeddingCache, ()

    def clear(self) -> None:
        self._rows.clear()
        self._fingerprint = None

    def __len__(self) -> int:
        return len(self._rows)

    def embed(self, keys: Sequence[str], embed: EmbedFn, weights: Iterable[torch.Tensor],
              batch_size: int = 4096) -> torch.Tensor:
        """Embeddings ``(members, len(keys), d)``; only the rows whose key is not cached yet are
        computed, by ``embed(rows)``, at most ``batch_size`` at a time. ``weights``: every
        tensor the embeddings depend on."""
        with torch.no_grad():
            flat = torch.cat([w.detach().reshape(-1) for w in weights]).double()
            ramp = torch.linspace(1.0, 2.0, len(flat), dtype=torch.float64)
            fingerprint = torch.stack([flat.sum(), flat.square().sum(), (flat * ramp).sum()])
        if self._fingerprint is None or not torch.equal(fingerprint, self._fingerprint):
            self.clear()
            self._fingerprint = fingerprint
        missing = [i for i, k in enumerate(keys) if k not in self._rows]
        if len(self._rows) + len(missing) > MAX_ENTRIES:
            self._rows.clear()
            missing = list(range(len(keys)))
        for start in range(0, len(missing), batch_size):
            rows = missing[start:start + batch_size]
            with torch.no_grad():
                out = embed(rows)
            for j, i in enumerate(rows):
                self._rows[keys[i]] = out[:, j]
        return torch.stack([self._rows[k] for k in keys], dim=1)
