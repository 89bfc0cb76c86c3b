"""Networks are never built, nor archives inflated, larger than what a file or an option holds:
a config within each field's bound, a build option or a re-zipped archive declared gigabytes to
terabytes, allocated until memory ran out before anything was compared (walk 38 #9 and #14)."""

from __future__ import annotations

import resource
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gennas.errors import GennasError
from gennas.resources import checkpoints_dir
from gennas.spaces import load_space


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _loaders():
    from gennas.evaluators.supernet import Supernet
    from gennas.generators.training import load_partial
    from gennas.surrogates.latency import LatencyEstimator
    from gennas.surrogates.predictor import Predictor

    return {
        "predictor_nb201": Predictor.load,
        "latency_nb201": lambda p: LatencyEstimator.load(p, "nb201"),
        "supernet_nb201_mnist": lambda p: Supernet.load(p, torch_device="cpu"),
        "partial": lambda p: load_partial(p, {}),
    }


# config field -> a value within its bound whose network is gigabytes (each file holds megabytes)
OVERSIZED = {"predictor_nb201": ("config", {"hidden": 4096, "layers": 64}),
             "latency_nb201": ("config", {"hidden": 4096, "layers": 64}),
             # 1024 channels doubled twice: the widest stage within its bound, 27 GB of weights
             "supernet_nb201_mnist": ("build_options", {"channels": 1024})}


@pytest.mark.parametrize("name", list(OVERSIZED))
def test_a_config_declaring_more_weights_than_the_file_holds_is_refused_before_it_is_built(tmp_path, name):
    blob = torch.load(checkpoints_dir() / f"{name}.pt", weights_only=True)
    field, values = OVERSIZED[name]
    (blob["config"] if field == "config" else blob["config"][field]).update(values)
    crafted = tmp_path / f"{name}.pt"
    torch.save(blob, crafted)
    before = _peak_kib()
    with pytest.raises(GennasError, match=rf"{name}.pt .* where \((4096|1024)"):
        _loaders()[name](crafted)
    assert _peak_kib() - before < 500_000  # not built: no 0.5 GB more


def _deflated_copy(source: Path, target: Path) -> None:
    """``source`` re-zipped with compression, as a hand-made archive would be (torch stores entries)."""
    with zipfile.ZipFile(source) as plain, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as packed:
        for entry in plain.infolist():
            packed.writestr(entry.filename, plain.read(entry.filename))


@pytest.mark.parametrize("name", list(_loaders()))
def test_an_archive_inflating_far_past_its_size_is_refused_before_it_is_read(tmp_path, name):
    shipped = checkpoints_dir() / f"{name}.pt"
    blob = torch.load(shipped, weights_only=True) if shipped.is_file() else {"step": 1, "settings": {}}
    blob["padding"] = torch.zeros(4_000_000)  # 16 MB of zeros deflate to about 16 kB
    plain = tmp_path / "plain.pt"
    torch.save(blob, plain)
    crafted = tmp_path / f"{name}.pt"
    _deflated_copy(plain, crafted)
    assert crafted.stat().st_size < 1_000_000
    with pytest.raises(GennasError, match=rf"{name}.pt .*its compressed entries inflate to 1\d MB from a 0\.\d MB file"):
        _loaders()[name](crafted)


def test_an_archive_compressed_within_its_size_still_loads(tmp_path):
    """Only inflation past twice the file (plus 1 MB) is refused: a re-zipped file of weights
    that hardly compress loads as before."""
    from gennas.plain_load import load_plain

    weights = {"w": torch.randn(100_000, generator=torch.Generator().manual_seed(0))}
    torch.save(weights, tmp_path / "plain.pt")
    _deflated_copy(tmp_path / "plain.pt", tmp_path / "packed.pt")
    assert torch.equal(load_plain(tmp_path / "packed.pt")["w"], weights["w"])


@pytest.mark.parametrize("space, options, match", [
    ("nb201", {"channels": 10 ** 6}, "build option channels of nb201 must be an integer from 1 to 4096, got 1000000"),
    ("nb201", {"channels": 4096}, "the last stage is 16,384 channels wide"),  # 3 stages double it twice
    ("nb201", {"cells_per_stage": "5"}, "build option cells_per_stage of nb201 must be an integer, got '5'"),
    ("nb201", {"stages": 2.5}, "must be an integer, got 2.5"),
    ("nb201", {"width": 3}, r"unknown build option\(s\) \['width'\] for nb201"),
    ("mbv3", {"width_mult": 1000.0}, "build option width_mult of mbv3 must be a number from 0.05 to 10"),
    ("mbv3", {"width_mult": float("nan")}, "build option width_mult of mbv3 must be a number, got nan"),
    ("darts", {"layers": 10 ** 5}, "build option layers of darts must be an integer from 3 to 100"),
])
def test_build_options_out_of_their_bounds_are_named_before_anything_is_built(space, options, match):
    sp = load_space(space)
    with pytest.raises(GennasError, match=match):
        sp.build(sp.sample(np.random.default_rng(0)), **options)
    if space != "darts":  # the supernet takes the same options, checked the same way
        with pytest.raises(GennasError, match=match):
            sp.build_supernet(**options)


def test_build_options_of_numpy_types_within_their_bounds_build():
    sp = load_space("nb201")
    net = sp.build(sp.sample(np.random.default_rng(0)), channels=np.int64(8), cells_per_stage=np.int32(1))
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
