"""The one checkpoint schema: round trip, refusals (pickled code never runs), manifests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import torch

from gennas.checkpoint import (FORMAT, Checkpoint, config_dict, config_from_dict, load_checkpoint, read_manifest,
                               reproduce_command, save_checkpoint, write_manifest)
from gennas.errors import GennasError


@dataclass
class _Config:
    width: int = 8
    rate: float = 0.5


def _ckpt() -> Checkpoint:
    return Checkpoint("toy", config_dict(_Config(width=4)),
                      {"w": torch.arange(6.0).reshape(2, 3), "layers": [torch.ones(2)], "n": 3, "name": "x"},
                      {"space": "nb201", "tasks": ["a", "b"]})


def test_round_trip_keeps_every_field(tmp_path):
    path = save_checkpoint(tmp_path / "sub" / "toy.pt", _ckpt())
    raw = torch.load(path, weights_only=True)  # plain data: loadable without gennas
    assert set(raw) == {"format", "kind", "config", "state", "meta"} and raw["format"] == FORMAT
    back = load_checkpoint(path, "toy", "nb201")
    assert (back.kind, back.space, back.config, back.meta) == ("toy", "nb201", {"width": 4, "rate": 0.5},
                                                              {"space": "nb201", "tasks": ["a", "b"]})
    assert torch.equal(back.state["w"], torch.arange(6.0).reshape(2, 3)) and back.state["n"] == 3
    assert torch.equal(back.state["layers"][0], torch.ones(2))
    assert config_from_dict(_Config, {**back.config, "gone": 1}) == _Config(width=4)  # unknown keys ignored
    assert not (tmp_path / "sub" / "toy.pt.tmp").exists() and not path.with_suffix(".json").exists()


@dataclass
class _Checked:
    width: int = 8

    def __post_init__(self) -> None:
        if self.width <= 0:
            raise ValueError("width must be positive")


class _RunsCode:
    """A pickle payload that would create a file if it were ever unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "kind": "toy", "config": {}, "meta": {}, "state": {"x": _RunsCode(str(marker))}},
               path)
    with pytest.raises(GennasError, match="evil.pt is not a plain gennas checkpoint"):
        load_checkpoint(path, "toy")
    assert not marker.exists()


@pytest.mark.parametrize("blob, kind, space, match", [
    ({"kind": "toy", "config": {}, "state": {}, "meta": {}}, "toy", None, "no 'gennas.checkpoint/1' header"),
    ({"format": FORMAT, "kind": "toy", "config": {}, "meta": {}}, "toy", None, r"lacks the checkpoint field\(s\) \['state'\]"),
    ({"format": FORMAT, "kind": "vae", "config": {}, "state": {}, "meta": {}}, "toy", None, "holds a vae checkpoint, not a toy"),
    ({"format": FORMAT, "kind": "toy", "config": {}, "state": {}, "meta": {"space": "mbv3"}}, "toy", "nb201",
     "for space 'mbv3', not 'nb201'"),
    ({"format": FORMAT, "kind": "toy", "config": [], "state": {}, "meta": {}}, "toy", None, "must be dicts"),
    ([1, 2, 3], "toy", None, "not a gennas checkpoint"),
])
def test_malformed_files_name_the_file(tmp_path, blob, kind, space, match):
    path = tmp_path / "bad.pt"
    torch.save(blob, path)
    with pytest.raises(GennasError, match=match) as info:
        load_checkpoint(path, kind, space)
    assert str(path) in str(info.value)


def test_missing_and_junk_files(tmp_path):
    with pytest.raises(GennasError, match="no toy checkpoint at .*none.pt"):
        load_checkpoint(tmp_path / "none.pt", "toy")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(GennasError, match="junk.pt is not a plain gennas checkpoint"):
        load_checkpoint(junk, "toy")
    with pytest.raises(GennasError, match="junk.pt: bad _Checked in the checkpoint"):
        config_from_dict(_Checked, {"width": -1}, source=junk)


def test_manifest_beside_the_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "toy.pt", _ckpt(), data="six numbers", metrics={"loss": torch.tensor(0.25)},
                           command="python experiments/train_toy.py --quick", seed=1)
    manifest = read_manifest(path)
    assert manifest == {"kind": "toy", "space": "nb201", "config": {"width": 4, "rate": 0.5}, "data": "six numbers",
                        "command": "python experiments/train_toy.py --quick", "metrics": {"loss": 0.25},
                        "file": "toy.pt", "bytes": path.stat().st_size, "seed": 1}
    assert json.loads(path.with_suffix(".json").read_text()) == manifest
    assert read_manifest(tmp_path / "other.pt") == {}
    write_manifest(tmp_path / "x.pt", "toy", "nb201", {}, "d", {})  # no checkpoint yet: bytes is None
    assert read_manifest(tmp_path / "x.pt")["bytes"] is None
    (tmp_path / "y.json").write_text("{oops")
    with pytest.raises(GennasError, match="y.json is not valid JSON"):
        read_manifest(tmp_path / "y.pt")


def test_reproduce_command_quotes_and_names_the_script():
    assert reproduce_command("/somewhere/gennas/experiments/train_x.py", ["--out", "a b"]) == \
        "python experiments/train_x.py --out 'a b'"
    assert reproduce_command().startswith("python ")
