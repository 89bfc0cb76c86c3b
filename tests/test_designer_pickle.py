"""A designer pickles (multiprocessing, joblib, a saved notebook session) and designs the same
after: its guidance was closures (walk 29), and its predictor's embedding cache wrote each cached
row's whole batch storage (a designer under a budget did not fit in 24 GB)."""

from __future__ import annotations

import pickle

import torch

import gennas
from gennas.surrogates.embedding_cache import EmbeddingCache


def test_a_designer_under_a_budget_pickles_after_a_search_and_designs_the_same(monkeypatch, tmp_path):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    d = gennas.Designer("nb201", task="cifar10", seed=0, device="pixel3", max_latency_ms=20)
    d.search(gennas.TableEvaluator("nb201", "cifar10"), budget=3)
    before = [str(c) for c in d.generate(3)]
    data = pickle.dumps(d)
    assert len(data) < 50e6  # megabytes, not the embedding batches' storages
    copy = pickle.loads(data)
    assert len(copy.history) == 3 and [str(c) for c in copy.generate(3)] == before


def test_an_embedding_cache_pickles_empty():
    cache = EmbeddingCache()
    weight = torch.ones(2)
    cache.embed(["a", "b"], lambda rows: torch.zeros(1, len(rows), 4), [weight])
    assert len(cache) == 2 and len(pickle.loads(pickle.dumps(cache))) == 0
