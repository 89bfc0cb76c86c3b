"""Performance predictor: fit/predict on real NB201 labels, gradients, persistence, bad input, DGL twin."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

import gennas
from gennas.checkpoint import Checkpoint, load_checkpoint, read_manifest, save_checkpoint
from gennas.errors import GennasError
from gennas.surrogates.predictor import Predictor, PredictorConfig
from gennas.surrogates.shipped_predictor import checkpoint_path, load_predictor
from gennas.surrogates.predictor_model import rank_loss
from gennas.surrogates.task import Task

# Small and quick: a real (if short) training run, not a stub.
TINY = PredictorConfig(hidden=16, layers=2, members=3, steps=120, augment=2, update_steps=10, sample_steps=30)


@pytest.fixture(scope="module")
def split(bench):
    """120 training cells and 400 held-out cells with their cifar10 accuracies."""
    archs = bench.archs()
    order = np.random.default_rng(0).permutation(len(archs))
    acc = bench.accuracy_of(None, "cifar10")
    train, test = order[:120], order[120:520]
    return ([archs[i] for i in train], acc[train], [archs[i] for i in test], acc[test])


@pytest.fixture(scope="module")
def fitted(nb201, split):
    return Predictor(nb201, TINY, seed=0).fit(split[0], split[1], task="cifar10")


def test_fit_predict_ranks_held_out_cells(fitted, split):
    mean, std = fitted.predict(split[2], task="cifar10")
    assert mean.shape == std.shape == (400,) and mean.dtype == np.float64
    assert np.isfinite(mean).all() and (std >= 0).all() and std.max() > 0  # members disagree somewhere
    assert 0.0 < mean.mean() < 100.0  # accuracy %, not standardised units
    assert kendalltau(mean, split[3])[0] > 0.4  # real signal after 120 steps on 120 cells
    # task=None is the first task trained, here cifar10
    assert np.allclose(fitted.predict(split[2][:5])[0], mean[:5])


def test_predict_soft_is_differentiable_and_matches_predict(nb201, split):
    pred = Predictor(nb201, PredictorConfig(**{**TINY.__dict__, "canonical": False, "steps": 20}))
    pred.fit(split[0], split[1])
    archs = split[2][:4]
    idx = torch.tensor([[nb201.slot_vocab.index(op) for op in nb201.choices(a)] for a in archs])
    probs = torch.nn.functional.one_hot(idx, len(nb201.slot_vocab)).float().requires_grad_(True)
    mean, std = pred.predict_soft(probs)
    assert mean.shape == std.shape == (4,)
    np.testing.assert_allclose(mean.detach().numpy(), pred.predict(archs)[0], rtol=1e-5, atol=1e-4)
    mean.sum().backward()
    assert probs.grad is not None and probs.grad.abs().sum() > 0
    with pytest.raises(gennas.GennasError, match="shape"):
        pred.predict_soft(torch.zeros(2, 3, 5))


def test_update_refits_warm_and_remembers(fitted, split, tmp_path):
    pred = Predictor.load(fitted.save(tmp_path / "copy.pt"))  # keep the shared fixture untouched
    before = pred.predict(split[2][:50], task="cifar10")[0]
    pred.update(split[2][:30], split[3][:30], task="cifar10")
    pred.update(split[2][30:40], split[3][30:40], task="cifar10")
    assert len(pred._buffers["cifar10"]) == 40  # both calls' results are kept
    after = pred.predict(split[2][:50], task="cifar10")[0]
    assert not np.allclose(before, after)
    # a brand-new task name gets its own row and scale
    pred.update(split[2][:20], split[3][:20] - 30.0, task="my-data")
    assert "my-data" in pred.tasks and pred.predict(split[2][:5], task="my-data")[0].mean() < before.mean()


def test_samples_task_fits_an_embedding(fitted, bench, split):
    acc100 = bench.accuracy_of(split[2][:20], "cifar100")
    task = Task.from_samples(list(zip(split[2][:20], acc100)))
    mean, _ = fitted.predict(split[2][20:], task=task)
    # predictions come out in the new task's units (cifar100 accuracies are ~20 points lower)
    assert abs(mean.mean() - bench.accuracy_of(split[2][20:], "cifar100").mean()) < 10
    assert kendalltau(mean, bench.accuracy_of(split[2][20:], "cifar100"))[0] > 0.3


def _meta_tasks(limit: int = 3):
    """A few real meta-dataset tasks (experiments/meta_dataset.py) as (Task, archs, scores)."""
    import csv
    import gzip
    from collections import defaultdict
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "experiments" / "data"
    path = next((p for p in (data / "meta_nb201.csv.gz", data / "meta_nb201_quick.csv.gz") if p.is_file()), None)
    if path is None:
        pytest.skip("no meta-dataset in experiments/data")
    rows = defaultdict(list)
    with gzip.open(path, "rt") as fh:
        for r in csv.DictReader(fh):
            rows[(r["dataset"], r["classes"])].append(r)
    out = []
    for (dataset, classes), items in list(rows.items())[:limit]:
        task = Task.from_dataset(dataset, classes=[int(c) for c in classes.split("-")])
        out.append((task, [r["arch"] for r in items], [float(r["val_acc"]) for r in items]))
    return out


def test_image_tasks_are_meta_trained(nb201, split):
    tasks = _meta_tasks()
    pred = Predictor(nb201, PredictorConfig(**{**TINY.__dict__, "steps": 30})).fit_tasks(tasks)
    new_task = Task.from_dataset("digits", classes=[1, 2, 3])
    mean, std = pred.predict(split[2][:10], task=new_task)
    assert np.isfinite(mean).all() and np.isfinite(std).all() and 0 < mean.mean() < 100
    # the task vector is a differentiable function of the descriptor: tasks differ
    other = pred.predict(split[2][:10], task=Task.from_dataset("mnist", classes=list(range(10))))[0]
    assert not np.allclose(mean, other)
    with pytest.raises(gennas.GennasError, match="image"):
        Predictor(nb201, TINY).fit(split[0][:10], split[1][:10]).predict(split[2][:2], task=tasks[0][0])


def test_refit_starts_from_scratch(nb201, split):
    """fit() on a used predictor forgets its tasks and weights: same answers as a fresh one."""
    cfg = PredictorConfig(**{**TINY.__dict__, "steps": 20, "augment": 0})
    used = Predictor(nb201, cfg, seed=3).fit(split[0][:40], split[1][:40], task="other")
    used.update(split[0][40:60], split[1][40:60], task="cifar10")
    used.fit(split[0], split[1], task="cifar10")
    fresh = Predictor(nb201, cfg, seed=3).fit(split[0], split[1], task="cifar10")
    assert used.tasks == ["cifar10"] and not used._buffers
    np.testing.assert_array_equal(used.predict(split[2][:50])[0], fresh.predict(split[2][:50])[0])


def test_save_load_roundtrip_and_refusals(fitted, split, tmp_path):
    path = fitted.save(tmp_path / "p.pt", data="unit test rows", metrics={"kendall": 0.5}, command="pytest")
    again = Predictor.load(path, space="nb201")
    np.testing.assert_allclose(again.predict(split[2][:20])[0], fitted.predict(split[2][:20])[0], rtol=1e-6)
    assert (again.tasks, again.scales, again.default_task) == (fitted.tasks, fitted.scales, fitted.default_task)
    ckpt = load_checkpoint(path, "predictor", "nb201")  # the one schema, with its manifest beside it
    assert ckpt.config == asdict(fitted.config) and ckpt.meta["tasks"] == fitted.tasks
    assert read_manifest(path)["kind"] == "predictor" and read_manifest(path)["metrics"] == {"kendall": 0.5}
    with pytest.raises(gennas.GennasError, match="space 'nb201'"):
        Predictor.load(path, space="mbv3")
    pickled = tmp_path / "evil.pt"
    torch.save({"format": "gennas.checkpoint/1", "kind": "predictor", "config": {}, "meta": {},
                "state": {"payload": Task("named", "x")}}, pickled)  # an arbitrary object
    with pytest.raises(gennas.GennasError, match="not a plain gennas checkpoint"):
        Predictor.load(pickled)
    other = tmp_path / "latency.pt"
    save_checkpoint(other, Checkpoint("latency", {}, {}, {"space": "nb201"}))
    with pytest.raises(gennas.GennasError, match="latency checkpoint, not a predictor"):
        Predictor.load(other)
    broken = tmp_path / "broken.pt"
    save_checkpoint(broken, Checkpoint("predictor", ckpt.config, {}, ckpt.meta))
    with pytest.raises(gennas.GennasError, match="broken.pt is not a valid predictor checkpoint"):
        Predictor.load(broken)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(gennas.GennasError):
        Predictor.load(junk)


def test_bad_input(fitted, split, nb201):
    with pytest.raises(gennas.GennasError, match="scores"):
        Predictor(nb201, TINY).fit(split[0][:5], split[1][:4])
    with pytest.raises(gennas.GennasError, match="NaN"):
        Predictor(nb201, TINY).fit(split[0][:3], [1.0, float("nan"), 2.0])
    with pytest.raises(gennas.GennasError, match="non-empty"):
        fitted.predict([])
    with pytest.raises(gennas.UnknownDataset, match="cifar10"):
        fitted.predict(split[2][:3], task="svhn")
    with pytest.raises(gennas.GennasError, match="not trained"):
        Predictor(nb201, TINY).predict(split[2][:3])
    with pytest.raises(gennas.InvalidArchitecture):
        fitted.predict(["|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(gennas.GennasError, match="backend"):
        Predictor(nb201, backend="jax")


def test_dgl_backend_agrees_with_pyg(nb201, fitted, split, tmp_path):
    pytest.importorskip("dgl")
    from gennas.models.gnn import DAGEncoder, EncoderConfig, archs_to_node_features
    from gennas.models.gnn_dgl import DGLDAGEncoder

    torch.manual_seed(0)
    pyg = DAGEncoder(len(nb201.node_vocab), nb201.num_slots + 2, EncoderConfig(hidden=16, layers=2))
    with torch.no_grad():  # non-default weights so that every parameter (eps included) matters
        for p in pyg.parameters():
            p.normal_(0, 0.3)
    dgl_enc = DGLDAGEncoder(len(nb201.node_vocab), nb201.num_slots + 2, EncoderConfig(hidden=16, layers=2))
    dgl_enc.load_pyg_state_dict(pyg.state_dict())
    x = archs_to_node_features(nb201, split[2][:32])
    torch.testing.assert_close(dgl_enc.encode_features(nb201, x), pyg.encode_features(nb201, x))
    # whole predictor: a PyG-trained checkpoint runs through DGL with the same answers
    path = fitted.save(tmp_path / "p.pt")
    twin = Predictor.load(path, backend="dgl")
    np.testing.assert_allclose(twin.predict(split[2][:20])[0], fitted.predict(split[2][:20])[0], rtol=1e-5)


@pytest.mark.skipif(not checkpoint_path("nb201").is_file(), reason="pretrained predictor not built yet")
def test_pretrained_checkpoints(bench, split):
    pred = gennas.load_predictor("nb201")
    mean, _ = pred.predict(split[2], task="cifar10")
    assert kendalltau(mean, split[3])[0] > 0.6
    assert Task.named("cifar100").name in pred.tasks
    for holdout in ("cifar10", "cifar100"):
        if checkpoint_path("nb201", holdout).is_file():
            held = load_predictor("nb201", holdout=holdout)
            assert holdout not in held.tasks
            with pytest.raises(gennas.UnknownDataset):
                held.predict(split[2][:2], task=holdout)
    with pytest.raises(gennas.UnknownDataset):
        load_predictor("nb201", holdout="svhn")


def test_top_weight_makes_mistakes_among_the_best_cost_more():
    target = torch.tensor([2.0, 1.5, -1.0, -1.5])  # standardised scores
    top_swapped = torch.tensor([1.5, 2.0, -1.0, -1.5])  # the best two in the wrong order
    bottom_swapped = torch.tensor([2.0, 1.5, -1.5, -1.0])  # the worst two in the wrong order
    assert rank_loss(top_swapped, target) == pytest.approx(float(rank_loss(bottom_swapped, target)))
    right = rank_loss(target, target, top_weight=4.0)  # scores in the right order: the floor
    top_cost = rank_loss(top_swapped, target, top_weight=4.0) - right
    bottom_cost = rank_loss(bottom_swapped, target, top_weight=4.0) - right
    assert top_cost > 0.1 and top_cost > 100 * bottom_cost > 0


def test_results_far_below_a_saved_scale_train_without_nan_and_nan_weights_are_never_kept(tmp_path):
    """A darts predictor saved by a from-scratch search kept its first result's scale (a synflow
    log-score of 142, std 1.0); the next session's results (59.5, 60.2) were targets 83 stds
    below, every ranking weight exp(4 z) underflowed to 0, the loss was 0 / 0, and the NaN weights
    were saved, so every later darts search stopped at the loop's assertion. The ranking weights
    are now taken relative to the best target (the same once normalised), and NaN or inf weights
    are neither written nor loaded."""
    from gennas.design.pretrained import untrained_predictor

    z = torch.tensor([-83.0, -82.5, -82.0])
    assert torch.isfinite(rank_loss(torch.zeros(3, requires_grad=True), z, top_weight=4.0))
    assert rank_loss(torch.tensor([0.3, 0.1, 0.2]), z + 80, 4.0) == pytest.approx(
        float(rank_loss(torch.tensor([0.3, 0.1, 0.2]), z + 83, 4.0)), rel=1e-5)  # a shift changes nothing
    space = gennas.load_space("nb201")
    archs = space.sample_many(12, 3)
    first = untrained_predictor(space, 0)
    first.fit(archs[:1], [142.3], task="syn")
    first.save(tmp_path / "one.pt")  # saved after one result, as a search's first tell does
    loaded = Predictor.load(tmp_path / "one.pt", space="nb201")
    loaded.update(archs[1:3], [59.5, 60.2], task="syn")
    assert np.isfinite(loaded.predict(archs, "syn")[0]).all()
    broken = loaded.to_checkpoint()
    broken.state["members"][0]["head.2.bias"] = torch.tensor([float("nan")])
    with pytest.raises(GennasError, match="not writing .*head.2.bias.*NaN"):
        save_checkpoint(tmp_path / "nan.pt", broken)
    good = loaded.save(tmp_path / "good.pt")
    blob = torch.load(good, weights_only=True)
    blob["state"]["members"][0]["head.2.bias"] = torch.tensor([float("inf")])
    torch.save(blob, tmp_path / "inf.pt")
    with pytest.raises(GennasError, match="inf.pt holds NaN or inf weights.*delete it"):
        load_checkpoint(tmp_path / "inf.pt", "predictor")


def test_scores_that_are_not_one_list_of_numbers_are_named(nb201):
    """None read as "scores contain NaN or infinite values", and a (5, 2) array was flattened to 10 scores."""
    archs = nb201.sample_many(5, 0)
    for bad, said in ((None, "got None"), (np.ones((5, 2)), r"got shape \(5, 2\)")):
        with pytest.raises(gennas.GennasError, match=f"scores must be a list of numbers.*{said}"):
            gennas.Predictor(nb201).fit(archs, bad, task="x")


def test_a_task_fitted_on_its_first_two_results_takes_the_scale_of_all_told_later(nb201, split):
    """A from-scratch search fits its first results, then updates: the task's score scale stayed
    the first fit's. Two of one function's synflow 1e-5 apart made every later result ~1e6 of
    that std away, and the network learned a constant (walk 23 #1, saved and reused by later
    searches). Once the results lie beyond SCALE_REACH of the fitted stds, the task takes their scale."""
    cfg = PredictorConfig(**{**TINY.__dict__, "members": 1})
    archs, acc = split[0][:30], split[1][:30]
    first = np.array([acc[0], acc[0] + 1e-5])
    predictor = Predictor(nb201, cfg, seed=0).fit(archs[:2], first, task="mine")
    predictor.update(archs[:2], first, task="mine", steps=1)  # as the loop does after a first fit
    for i in range(2, 30):
        predictor.update(archs[:i + 1], acc[:i + 1], task="mine")
    mean, _ = predictor.predict(archs, task="mine")
    assert predictor.scales["mine"][1] == pytest.approx(np.std(acc), rel=1e-6)
    assert np.std(mean) > 0.3 * np.std(acc) and kendalltau(mean, acc)[0] > 0.3
