"""The predictor's embedding cache notices every change of the weights it was computed with."""

from __future__ import annotations

import torch

from gennas.surrogates.embedding_cache import EmbeddingCache


def test_weights_swapped_between_positions_start_the_cache_afresh():
    """Walk 34 #13: the fingerprint (sum, sum of squares) did not change when two weights swapped
    places, and the predictor kept serving the embeddings of the weights before."""
    weight = torch.tensor([[0.5, -1.0], [2.0, 0.25]])
    calls = []

    def embed(rows: list[int]) -> torch.Tensor:
        calls.append(len(rows))
        return (weight.sum(0) * torch.arange(1.0, len(rows) + 1)[:, None])[None]  # (members, rows, d)

    cache = EmbeddingCache()
    first = cache.embed(["a", "b"], embed, [weight])
    assert torch.equal(cache.embed(["a", "b"], embed, [weight]), first) and calls == [2]  # cached
    weight.data[0, 0], weight.data[1, 1] = 0.25, 0.5  # the same values, moved
    cache.embed(["a", "b"], embed, [weight])
    assert calls == [2, 2]  # computed again
