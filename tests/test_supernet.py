"""Weight-sharing supernet (gennas.evaluators.supernet): subnets equal their standalone networks,
training learns, checkpoints resume exactly, bad input fails clearly."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gennas.checkpoint import load_checkpoint
from gennas.datasets import load_images
from gennas.errors import GennasError, InvalidArchitecture
from gennas.evaluators.base import Evaluator
from gennas.evaluators.supernet import DataError, Supernet, TrainingDiverged
from gennas.spaces import load_space

NB201 = {"channels": 4, "cells_per_stage": 1, "stages": 3}
CONV_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
EMPTY_CELL = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> tuple[DataLoader, DataLoader]:
    """Real 8x8 digits (scikit-learn), unshuffled so that runs are exactly repeatable."""
    x, y = load_images("digits")
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(y), generator=g)
    train, val = order[:1200], order[1200:]
    return (DataLoader(TensorDataset(x[train], y[train]), batch_size=100),
            DataLoader(TensorDataset(x[val], y[val]), batch_size=200))


def _randomise_bn(net: torch.nn.Module) -> None:
    """Non-trivial BN statistics and affine parameters, so that an equivalence check can fail."""
    g = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.mark.parametrize("space_name, options, side", [("nb201", NB201, 8), ("mbv3", {"width_mult": 0.35}, 32)])
def test_subnet_of_supernet_is_the_standalone_network(space_name, options, side):
    # Elastic kernel crop, channel slicing, SE, BN slices and depth must give exactly the network
    # space.build makes for that architecture, once it carries the same weights.
    space = load_space(space_name)
    sn = Supernet(space, in_channels=1, torch_device="cpu", **options)
    _randomise_bn(sn.net)
    sn.net.eval()
    x = torch.randn(3, 1, side, side, generator=torch.Generator().manual_seed(0))
    for arch in space.sample_many(4, rng=3):
        standalone = sn.subnet(arch)
        with torch.no_grad():
            expected = standalone(x)
            got = sn.net(x, sn.path_of(arch))
        assert expected.shape == (3, 10)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_training_learns_and_ranks_an_empty_cell_last(digits):
    train, val = digits
    sn = Supernet("nb201", in_channels=1, torch_device="cpu", channels=8, cells_per_stage=1).fit(
        train, epochs=6, val_loader=val)
    assert sn.history[-1]["loss"] < sn.history[0]["loss"]
    results = sn.evaluate([CONV_CELL, EMPTY_CELL])  # strings accepted; data from fit's val_loader
    conv, empty = results
    assert isinstance(sn, Evaluator)
    assert all(r.kind == "supernet" and not r.failed and r.cost_s > 0 for r in results)
    assert conv.metadata["examples"] == len(val.dataset) and conv.fidelity == "supernet epochs=6"
    # An all-zero cell cuts the network: its prediction is constant, about chance on 10 classes;
    # a conv cell has learnt well above it (46% here after 6 short epochs on 1,200 digits).
    assert empty.score < 20.0 < 30.0 < conv.score


def test_evaluate_restores_shared_bn_statistics(digits):
    train, val = digits
    sn = Supernet("nb201", in_channels=1, torch_device="cpu", **NB201).fit(train, epochs=1)
    before = {k: v.clone() for k, v in sn.net.state_dict().items()}
    sn.evaluate([CONV_CELL], val, calib_batches=2)
    sn.subnet(CONV_CELL, calib_loader=train, calib_batches=2)
    for k, v in sn.net.state_dict().items():
        torch.testing.assert_close(v, before[k], msg=k)


def test_checkpoint_resume_matches_uninterrupted_run(digits, tmp_path):
    train, _ = digits
    ckpt = tmp_path / "sn.pt"
    full = Supernet("nb201", in_channels=1, torch_device="cpu", seed=5, **NB201).fit(train, epochs=2)
    Supernet("nb201", in_channels=1, torch_device="cpu", seed=5, **NB201).fit(train, epochs=1, checkpoint=ckpt)
    state = load_checkpoint(ckpt, "supernet", "nb201").state  # weights-only: plain tensors and numbers
    assert state["epoch"] == 1 and "optimizer" in state
    manifest = json.loads(ckpt.with_suffix(".json").read_text())
    assert manifest["space"] == "nb201" and manifest["epochs_done"] == 1 and manifest["command"]
    resumed = Supernet("nb201", in_channels=1, torch_device="cpu", seed=5, **NB201).fit(train, epochs=2, checkpoint=ckpt)
    assert resumed.epochs_done == 2 and len(resumed.history) == 2
    for k, v in full.net.state_dict().items():
        torch.testing.assert_close(resumed.net.state_dict()[k], v, msg=k)
    loaded = Supernet.load(ckpt, torch_device="cpu")
    assert loaded.epochs_done == 2 and loaded.build_options == NB201


def test_a_supernet_seeds_its_own_draws_and_leaves_the_caller_s_stream(digits):
    """Walk 34 #10: ``Supernet(...)`` reset torch's global stream to its seed, so a seeded
    notebook's later draws depended on it; a loader shuffling without a generator of its own drew
    from that reset stream. Now both draw the same whatever the caller drew, and the caller's
    stream stays where it was."""
    train, _ = digits
    shuffled = DataLoader(train.dataset, batch_size=100, shuffle=True)  # the global stream shuffles it
    weights = []
    for drawn in (0, 7):  # the caller drew more before the second run: it trains the same
        torch.manual_seed(123)
        torch.rand(drawn)
        before = torch.random.get_rng_state()
        sn = Supernet("nb201", in_channels=1, torch_device="cpu", seed=5, **NB201).fit(shuffled, epochs=1)
        assert torch.equal(torch.random.get_rng_state(), before)  # construction and training left the stream
        weights.append(sn.net.state_dict())
    for k, v in weights[0].items():
        torch.testing.assert_close(weights[1][k], v, msg=k)


def test_checkpoint_of_another_supernet_is_refused(digits, tmp_path):
    train, _ = digits
    ckpt = tmp_path / "sn.pt"
    Supernet("nb201", in_channels=1, torch_device="cpu", **NB201).fit(train, epochs=1, checkpoint=ckpt)
    with pytest.raises(GennasError, match="different supernet"):
        Supernet("nb201", in_channels=1, torch_device="cpu", channels=8, cells_per_stage=1).fit(
            train, epochs=2, checkpoint=ckpt)
    bad = tmp_path / "pickled.pt"
    torch.save({"model": object()}, bad)
    with pytest.raises(GennasError, match="refused"):
        Supernet.load(bad)


def test_nan_loss_raises_after_saving_state(digits, tmp_path):
    train, _ = digits
    ckpt = tmp_path / "sn.pt"
    sn = Supernet("nb201", in_channels=1, torch_device="cpu", **NB201).fit(train, epochs=1, checkpoint=ckpt)
    x, y = train.dataset.tensors
    poisoned = DataLoader(TensorDataset(torch.full_like(x[:200], float("nan")), y[:200]), batch_size=100)
    with pytest.raises(TrainingDiverged, match="state saved"):
        sn.fit(poisoned, epochs=2, checkpoint=ckpt)
    state = load_checkpoint(ckpt, "supernet").state
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_bad_input_gives_clear_errors(digits):
    train, val = digits
    sn = Supernet("nb201", in_channels=1, torch_device="cpu", **NB201)
    with pytest.raises(InvalidArchitecture, match="mbv3"):
        sn.evaluate([load_space("mbv3").sample(0)], val)
    with pytest.raises(DataError, match="no batches"):
        sn.fit(DataLoader(TensorDataset(torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long))), 1)
    x, y = train.dataset.tensors
    with pytest.raises(DataError, match=r"\(B, 1, H, W\)"):
        sn.fit(DataLoader(TensorDataset(x[:10].repeat(1, 3, 1, 1), y[:10])), 1)
    with pytest.raises(DataError, match="integer class"):
        sn.fit(DataLoader(TensorDataset(x[:10], y[:10].float())), 1)
    with pytest.raises(DataError, match="0..9"):
        sn.fit(DataLoader(TensorDataset(x[:10], y[:10] + 10)), 1)
    with pytest.raises(GennasError, match="needs data"):
        sn.evaluate([CONV_CELL])
    with pytest.raises(GennasError, match="unknown build option"):
        Supernet("nb201", width_mult=0.5)
    with pytest.raises(GennasError, match="torch device"):
        Supernet("nb201", torch_device="tpu9")


def test_mbv3_supernet_trains_elastic_subnets():
    x, y = load_images("mnist", size=32)
    loader = DataLoader(TensorDataset(x[:256], y[:256]), batch_size=64)
    space = load_space("mbv3")
    sn = Supernet(space, in_channels=1, torch_device="cpu", width_mult=0.35).fit(loader, epochs=1)
    largest = space.from_string("|".join(["-".join(["k7e6"] * 4)] * 5))
    smallest = space.from_string("|".join(["-".join(["k3e3"] * 2)] * 5))
    results = sn.evaluate([largest, smallest], loader, calib_batches=2)
    assert [r.failed for r in results] == [False, False]
    assert all(0.0 <= r.score <= 100.0 for r in results)
    # The smallest subnet recalibrates only the first channels of the widest BN.
    path = sn.path_of(smallest)
    bn = sn.net.stages[0][0].expand_bn
    sn.recalibrate_bn(path, loader, batches=1)
    mid = bn.num_features * 3 // 6
    assert torch.all(bn.running_var[mid:] == 1.0) and not torch.all(bn.running_var[:mid] == 1.0)


@pytest.mark.slow
def test_verify_supernet_script_runs_quick():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    import verify_supernet

    out = verify_supernet.main(["--quick", "--epochs", "1"])
    assert out["cells"] >= 30 and -1.0 <= out["kendall_tau"] <= 1.0 and out["s_per_arch"] > 0


def test_an_architecture_scores_the_same_whatever_the_call_order(digits):
    """BN statistics are estimated on the same calibration images for every architecture: from a
    shuffled loader the same cell scored 98.3-98.55 % depending on the order of the calls."""
    train, val = digits
    shuffled = DataLoader(train.dataset, batch_size=100, shuffle=True)
    sn = Supernet("nb201", in_channels=1, torch_device="cpu", **NB201).fit(train, epochs=1)
    other = "|skip_connect~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"
    first = [r.score for r in sn.evaluate([CONV_CELL, other], val, calib_loader=shuffled, calib_batches=3)]
    again = [r.score for r in sn.evaluate([other, CONV_CELL], val, calib_loader=shuffled, calib_batches=3)][::-1]
    alone = sn.evaluate([other], val, calib_loader=shuffled, calib_batches=3)[0].score
    assert first == again and first[1] == alone
