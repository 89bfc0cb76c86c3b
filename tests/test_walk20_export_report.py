"""User walk 20: seeded untrained exports, a report's stale figures, unseeded stored searches."""

from __future__ import annotations

import hashlib
import json
import types

import pytest
import torch
from typer.testing import CliRunner

from gennas.cli.app import app
from gennas.errors import GennasError
from gennas.export import EXPORT_FILES, export_architecture

PNG = b"\x89PNG\r\n\x1a\n"


def _digests(folder) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in EXPORT_FILES
            if (folder / name).is_file()}


def test_an_untrained_export_is_drawn_from_its_seed_and_leaves_torchs_random_state(nb201, tmp_path):
    """``gennas design --seed 0 --export`` wrote other initial weights every run (99 of 579 tensors,
    a user walk): the weights are drawn from ``seed`` (0 by default), recorded in build.json, and
    torch's global random state is as it was."""
    arch = nb201.sample_many(1, 3)[0]
    before = torch.random.get_rng_state()
    first = export_architecture(arch, tmp_path / "a")
    again = export_architecture(arch, tmp_path / "b", seed=0)
    assert torch.equal(before, torch.random.get_rng_state())  # what else the process draws is unchanged
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")  # every file, ONNX and the program too
    assert json.loads(first["build"].read_text())["seed"] == 0
    other = export_architecture(arch, tmp_path / "c", seed=1, onnx=False)
    assert json.loads(other["build"].read_text())["seed"] == 1
    w0, w1 = torch.load(again["weights"], weights_only=True), torch.load(other["weights"], weights_only=True)
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)
    unseeded = export_architecture(arch, tmp_path / "d", seed=None, onnx=False)
    assert json.loads(unseeded["build"].read_text())["seed"] is None
    assert not torch.equal(before, torch.random.get_rng_state())  # drawn from the global state, as before
    with pytest.raises(GennasError, match="export seed"):
        export_architecture(arch, tmp_path / "e", seed=-1)
    assert not (tmp_path / "e").exists()


def test_design_export_twice_writes_the_same_files_and_a_rerun_with_another_seed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    threads = torch.get_num_threads()
    runner = CliRunner()
    try:
        for name in ("x", "y"):
            out = runner.invoke(app, ["design", "--task", "cifar10", "-n", "1", "--seed", "3", "--json",
                                      "--export", str(tmp_path / name)])
            assert out.exit_code == 0, out.output
        assert _digests(tmp_path / "x" / "rank01") == _digests(tmp_path / "y" / "rank01")
        assert json.loads((tmp_path / "x" / "rank01" / "build.json").read_text())["seed"] == 3
        # the same design (nb201 without a budget: seed 3's first) written from seed 3 is not kept as seed 4's
        from gennas.cli.export_ranks import kept_ranks
        from gennas.spaces import load_space

        arch = load_space("nb201").from_string((tmp_path / "x" / "rank01" / "arch.txt").read_text().strip())
        candidate = types.SimpleNamespace(rank=1, arch=arch)
        assert kept_ranks(tmp_path / "x", [candidate], 10, 3) == {1}
        with pytest.raises(GennasError, match="drawn from seed 3, not seed 4"):
            kept_ranks(tmp_path / "x", [candidate], 10, 4)
    finally:
        torch.set_num_threads(threads)
