"""Proxy features and the self-supervised encoder of the predictor: cached and used, the shipped
encoder loads and seeds a fresh predictor, predict_soft keeps its gradients, old checkpoints load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gennas.design.pretrained import untrained_predictor
from gennas.errors import GennasError
from gennas.evaluators import zero_cost
from gennas.surrogates import features
from gennas.surrogates.predictor import Predictor, PredictorConfig
from gennas.surrogates.shipped_predictor import load_predictor
from gennas.surrogates.pretrain import PretrainConfig, encoder_path, pretrain_encoder, pretrained_encoder

TINY = dict(hidden=16, layers=2, members=2, steps=60, augment=2, update_steps=5, sample_steps=10)
PROXIES = ("params", "flops")  # the complete columns of the shipped table


@pytest.fixture(scope="module")
def rows(bench):
    archs = bench.archs()
    order = np.random.default_rng(1).permutation(len(archs))
    acc = bench.accuracy_of(None, "cifar10")
    return [archs[i] for i in order[:60]], acc[order[:60]], [archs[i] for i in order[60:260]]


def test_nb201_proxies_ship_for_every_cell(bench, nb201, monkeypatch):
    assert set(PROXIES) <= set(features.available(nb201))
    # served from the table: computing anything would fail here
    monkeypatch.setattr(zero_cost, "score", lambda *a, **k: pytest.fail("computed a shipped proxy"))
    raw = features.raw_proxies(nb201, bench.archs()[:50], PROXIES)
    assert raw.shape == (50, 2) and np.isfinite(raw).all() and (raw > 0).all()
    # params of the table are the network's own
    assert raw[7, 0] == nb201.count_params(bench.archs()[7])
    # float64: synflow of the largest cells (up to ~1e49) is stored, not overflowed to +inf
    synflow = features.raw_proxies(nb201, bench.archs(), ("synflow",))[:, 0]
    assert not np.isposinf(synflow).any() and synflow.max() > 1e45


def test_proxies_are_computed_once_on_demand(mbv3, monkeypatch):
    archs = mbv3.sample_many(2, np.random.default_rng(0))
    calls = []
    real = zero_cost.score
    monkeypatch.setattr(zero_cost, "score", lambda *a, **k: calls.append(len(a[0])) or real(*a, **k))
    first = features.raw_proxies(mbv3, archs, ["params"])
    again = features.raw_proxies(mbv3, archs, ["params"])
    assert calls == [2] and np.array_equal(first, again) and (first > 1e4).all()
    with pytest.raises(GennasError, match="proxy"):
        features.raw_proxies(mbv3, archs, ["no_such_proxy"])


def test_squash_and_standardise_handle_degenerate_networks():
    raw = np.array([[1e30, 5.0], [0.0, np.nan], [-3.0, -np.inf], [2.0, 1.0]])
    sq = features.squash(raw)
    assert np.isfinite(sq[:, 0]).all() and np.isnan(sq[1:3, 1]).all()
    stats = features.feature_stats(sq)
    x = features.standardise(sq, stats)
    assert x.shape == (4, 2) and torch.isfinite(x).all()
    assert float(x[1, 1]) == float(x[2, 1]) == pytest.approx(float(x[3, 1]))  # undefined -> lowest value seen
    assert float(x[0, 0]) > float(x[3, 0]) > float(x[1, 0]) > float(x[2, 0])  # order kept across 30 decades


def test_proxy_features_are_used_and_soft_prediction_keeps_gradients(nb201, rows, tmp_path):
    train, y, test = rows
    pred = Predictor(nb201, PredictorConfig(proxies=PROXIES, **TINY), seed=0).fit(train, y, task="cifar10")
    assert pred.feat_stats is not None and pred.feat_stats.shape == (3, 2)
    mean, _ = pred.predict(test, task="cifar10")
    # the features enter the prediction: zeroing their input map changes it
    saved = [m.proxy_in.weight.detach().clone() for m in pred.members]
    for m in pred.members:
        m.proxy_in.weight.data.zero_()
    assert not np.allclose(pred.predict(test, task="cifar10")[0], mean)
    for m, w in zip(pred.members, saved):
        m.proxy_in.weight.data.copy_(w)
    # relaxed architectures have no proxy scores: the members' predicted proxies stand in
    probs = torch.full((3, nb201.num_slots, len(nb201.slot_vocab)), 1.0 / len(nb201.slot_vocab), requires_grad=True)
    soft_mean, soft_std = pred.predict_soft(probs, task="cifar10")
    soft_mean.sum().backward()
    assert soft_mean.shape == (3,) and probs.grad is not None and probs.grad.abs().sum() > 0
    path = pred.save(tmp_path / "p.pt")
    again = Predictor.load(path)
    assert again.config.proxies == PROXIES
    assert np.allclose(again.predict(test, task="cifar10")[0], mean, atol=1e-4)
    pred.update(test[:5], [50.0] * 5, task="cifar10")  # warm refit keeps the feature standardisation
    assert torch.equal(pred.feat_stats, again.feat_stats)


def test_shipped_encoder_seeds_a_fresh_predictor(nb201):
    path = encoder_path("nb201")
    assert path.is_file() and path.with_suffix(".json").is_file()
    state = pretrained_encoder("nb201", 32, 3)
    assert state is not None and pretrained_encoder("nb201", 48, 3) is None  # other sizes start from scratch
    pred = Predictor(nb201, PredictorConfig(pretrained=True))
    for member in pred.members:
        assert all(torch.equal(member.encoder.state_dict()[k], v) for k, v in state.items())
    assert PredictorConfig().pretrained  # a fresh Predictor(space) starts from it ...
    scratch = untrained_predictor(nb201)  # ... a designer's untrained one does not (it slowed its search)
    assert not scratch.config.pretrained
    assert not torch.equal(scratch.members[0].encoder.embed.weight, state["embed.weight"])
    plain = Predictor(nb201, PredictorConfig(pretrained=False))
    assert not torch.equal(plain.members[0].encoder.embed.weight, state["embed.weight"])


def test_a_fresh_mbv3_predictor_starts_from_its_shipped_encoder():
    state = pretrained_encoder("mbv3", 32, 3)  # pretrained on sampled subnets (experiments/pretrain_encoder.py)
    assert state is not None
    pred = Predictor("mbv3")
    assert pred.config.pretrained
    for member in pred.members:
        assert all(torch.equal(member.encoder.state_dict()[k], v) for k, v in state.items())


@pytest.mark.slow
def test_pretext_training_learns_the_proxies(nb201, bench):
    cfg = PretrainConfig(hidden=16, layers=2, proxies=("params", "flops"), steps=150, batch_size=64)
    model, stats, metrics = pretrain_encoder(nb201, cfg, archs=bench.archs()[:1500])
    assert stats.shape == (3, 2)
    # held-out cells: proxies explained, ops recovered above the ~0.4 of guessing (the ends are fixed)
    assert metrics["r2_params"] > 0.5 and metrics["r2_flops"] > 0.5 and metrics["op_accuracy"] > 0.45


def test_old_checkpoints_load_without_features(bench):
    pred = load_predictor("nb201")
    assert pred.config.proxies == () and pred.feat_stats is None
    mean, _ = pred.predict(bench.archs()[:20], task="cifar10")
    assert np.isfinite(mean).all()


def test_mbv3_predictor_still_works(mbv3):
    archs = mbv3.sample_many(12, np.random.default_rng(0))
    y = np.linspace(60.0, 70.0, 12)
    pred = Predictor(mbv3, PredictorConfig(pretrained=True, **TINY)).fit(archs, y, task="imagenet")  # no mbv3 encoder ships
    assert np.isfinite(pred.predict(archs, task="imagenet")[0]).all()


def test_bad_proxy_config():
    with pytest.raises(GennasError, match="proxies"):
        PredictorConfig(proxies="params")


def test_shipped_data_proxies_match_computing_them(bench, nb201, monkeypatch):
    """The table's naswot / jacov are what ``raw_proxies`` computes on demand (same batch, build
    options and seed) for a class representative, whose value the table gives its whole class."""
    from gennas.surrogates.equivalence import equivalence_classes

    data = [p for p in ("naswot", "jacov") if p in features.available(nb201)]
    assert data, "the shipped table has no complete data proxy column"
    _, members = equivalence_classes("nb201")
    reps = [nb201.parse(members[c][0]) for c in (3, 2000)]
    shipped = features.raw_proxies(nb201, reps, data)
    monkeypatch.setattr(features, "shipped_table", lambda name: ({}, {}))  # no table: computed
    computed = features.raw_proxies(nb201, reps, data)
    assert np.isfinite(shipped).all()
    np.testing.assert_allclose(shipped, computed, rtol=1e-4)
