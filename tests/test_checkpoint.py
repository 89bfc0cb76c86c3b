"""The one checkpoint schema: round trip, refusals (pickled code never runs), manifests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import torch

from gennas.checkpoint import (FORMAT, Checkpoint, config_dict, config_from_dict, file_sha256, load_checkpoint,
                               read_manifest, reproduce_command, save_checkpoint, write_manifest)
from gennas.errors import GennasError
from gennas.spaces.identity import made_for


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
    # beside the meta given, the spec of the space it was made for (gennas.spaces.identity)
    assert (back.kind, back.space, back.config, back.meta) == ("toy", "nb201", {"width": 4, "rate": 0.5},
                                                              {"space": "nb201", "tasks": ["a", "b"],
                                                               **made_for("nb201")})
    assert torch.equal(back.state["w"], torch.arange(6.0).reshape(2, 3)) and back.state["n"] == 3
    assert torch.equal(back.state["layers"][0], torch.ones(2))
    assert config_from_dict(_Config, {**back.config, "gone": 1}) == _Config(width=4)  # unknown keys ignored
    assert [f.name for f in (tmp_path / "sub").iterdir()] == ["toy.pt"]  # no temporary file left, no manifest


def test_two_writers_of_one_checkpoint_never_share_a_temporary_file(tmp_path):
    """A user walk ran two searches in one $GENNAS_HOME: both saved the same predictor through
    'predictor.pt.tmp', and one's rename found the file gone (FileNotFoundError, a traceback after
    its results were verified; walk 28 #13). Threads stand in for the processes."""
    import threading

    path, errors = tmp_path / "shared.pt", []

    def save_many() -> None:
        try:
            for _ in range(25):
                save_checkpoint(path, _ckpt(), data="toy data")  # the manifest is replaced too
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    writers = [threading.Thread(target=save_many) for _ in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert not errors, errors
    assert load_checkpoint(path, "toy", "nb201").state["n"] == 3
    assert sorted(f.name for f in tmp_path.iterdir()) == ["shared.json", "shared.pt"]


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
                        "file": "toy.pt", "bytes": path.stat().st_size, "seed": 1, "sha256": file_sha256(path)}
    assert json.loads(path.with_suffix(".json").read_text()) == manifest
    assert read_manifest(tmp_path / "other.pt") == {}
    write_manifest(tmp_path / "x.pt", "toy", "nb201", {}, "d", {})  # no checkpoint yet: bytes is None
    assert read_manifest(tmp_path / "x.pt")["bytes"] is None and read_manifest(tmp_path / "x.pt")["sha256"] is None
    (tmp_path / "y.json").write_text("{oops")
    with pytest.raises(GennasError, match="y.json is not valid JSON"):
        read_manifest(tmp_path / "y.pt")


def test_reproduce_command_quotes_and_names_the_script():
    assert reproduce_command("/somewhere/gennas/experiments/train_x.py", ["--out", "a b"]) == \
        "python experiments/train_x.py --out 'a b'"
    assert reproduce_command().startswith("python ")


# ---------------------------------------------------------------- checksums
def _flip(path, count=64):
    """Flip ``count`` bytes in the middle of a file (what a bad disk or a bad copy does)."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    for i in range(mid, mid + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_manifest_checksum_is_checked_on_load(tmp_path):
    path = save_checkpoint(tmp_path / "toy.pt", _ckpt(), data="six numbers")
    assert read_manifest(path)["sha256"] == file_sha256(path)
    load_checkpoint(path, "toy")
    _flip(path)
    with pytest.raises(GennasError, match=r"toy.pt .*does not match the sha256 in toy.json: the file is corrupt"):
        load_checkpoint(path, "toy")
    # loadable, but not what the manifest describes (another tool rewrote it)
    torch.save({"format": FORMAT, "kind": "toy", "config": {}, "state": {}, "meta": {}}, path)
    with pytest.raises(GennasError, match=r"toy.pt does not match the sha256 in toy.json"):
        load_checkpoint(path, "toy")
    # a manifest without a checksum (written by hand) still loads what it describes
    manifest = read_manifest(path)
    del manifest["sha256"]
    path.with_suffix(".json").write_text(json.dumps(manifest))
    save_checkpoint(path, _ckpt())  # rewritten without data: the existing manifest gets the new checksum
    assert read_manifest(path)["sha256"] == file_sha256(path) and read_manifest(path)["data"] == "six numbers"
    load_checkpoint(path, "toy")


def test_rewriting_a_checkpoint_never_leaves_a_stale_checksum(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "toy.pt", _ckpt(), data="six numbers")
    import gennas.checkpoint as checkpoint

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # killed after the new file replaced the old, before the checksum was written

    monkeypatch.setattr(checkpoint, "file_sha256", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, Checkpoint("toy", {}, {"w": torch.zeros(3)}, {"space": "nb201"}))
    monkeypatch.undo()
    assert "sha256" not in read_manifest(path)
    assert torch.equal(load_checkpoint(path, "toy").state["w"], torch.zeros(3))


def test_shipped_manifests_carry_the_checksum_of_their_file():
    from gennas.resources import checkpoints_dir

    pts = sorted(checkpoints_dir().glob("*.pt"))
    assert len(pts) >= 9
    for pt in pts:
        assert read_manifest(pt)["sha256"] == file_sha256(pt), pt.name


# ---------------------------------------------------------------- malformed content
@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"PK\x03\x04 truncated zip", "not a plain gennas checkpoint"),
])
def test_empty_and_truncated_files(tmp_path, content, match):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(GennasError, match=match):
        load_checkpoint(path, "latency")
    good = save_checkpoint(tmp_path / "good.pt", _ckpt())
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(GennasError, match="bad.pt is not a plain gennas checkpoint"):
        load_checkpoint(path, "toy")


@pytest.mark.parametrize("space", ["../spaces/nb201", "/etc/passwd", "nb201/../../x", "nope", 3, ["nb201"]])
def test_space_field_must_be_a_bundled_space(tmp_path, space):
    path = tmp_path / "bad.pt"
    torch.save({"format": FORMAT, "kind": "toy", "config": {}, "state": {}, "meta": {"space": space}}, path)
    with pytest.raises(GennasError, match=r"bad.pt: meta names space .* which is not a bundled space"):
        load_checkpoint(path, "toy")
    torch.save({"format": FORMAT, "kind": "toy", "config": {"space": space}, "state": {}, "meta": {}}, path)
    with pytest.raises(GennasError, match=r"bad.pt: config names space"):
        load_checkpoint(path, "toy")


def _shipped(name):
    from gennas.resources import checkpoints_dir

    return torch.load(checkpoints_dir() / f"{name}.pt", weights_only=True)


@pytest.mark.parametrize("name, section, key, value, match", [
    ("latency_nb201", "state", "devices", torch.zeros(2), r"state\['devices'\] must be a dict, got Tensor"),
    ("latency_nb201", "config", "rank", "x", r"config\['rank'\] must be an integer from 0 to 4096, got 'x'"),
    ("latency_nb201", "config", "ridge", float("nan"), r"config\['ridge'\] must be a finite number"),
    ("latency_nb201", "meta", "references", None, r"meta\['references'\] must be a list, got None"),
    ("latency_nb201", "state", "net", None, r"state\['net'\] must be a dict"),
    ("predictor_nb201", "meta", "scales", {"cifar10": [1.0]}, r"meta\['scales'\]\['cifar10'\] must be a list of 2"),
    ("predictor_nb201", "state", "members", [{"w": "x"}], r"state\['members'\]\[0\]\['w'\] must be a tensor"),
    ("predictor_nb201", "meta", "tasks", None, r"meta\['tasks'\] must be a list"),
    ("predictor_nb201", "config", "hidden", 10**9, r"config\['hidden'\] must be an integer from 0 to 4096"),
    ("diffusion_nb201", "config", "steps", torch.ones(2), r"config\['steps'\] must be an integer"),
    ("diffusion_nb201", "config", "layers", True, r"config\['layers'\] must be an integer"),
    ("vae_nb201", "config", "latent", None, r"config\['latent'\] must be an integer"),
    ("supernet_nb201_mnist", "config", "num_classes", "ten", r"config\['num_classes'\] must be an integer"),
    ("supernet_nb201_mnist", "config", "build_options", None, r"config\['build_options'\] must be a dict"),
    ("supernet_nb201_mnist", "state", "epoch", None, r"state\['epoch'\] must be an integer"),
])
def test_wrong_types_name_the_field(tmp_path, name, section, key, value, match):
    blob = _shipped(name)
    blob[section] = {**blob[section], key: value}
    path = tmp_path / f"{name}.pt"
    torch.save(blob, path)
    with pytest.raises(GennasError, match=f"{name}.pt is not a valid {blob['kind']} checkpoint: {match}"):
        load_checkpoint(path, blob["kind"])


@pytest.mark.parametrize("name, section, key", [
    ("latency_nb201", "state", "devices"), ("latency_nb201", "meta", "references"),
    ("predictor_nb201", "meta", "scales"), ("predictor_nb201", "state", "desc_mean"),
    ("supernet_nb201_mnist", "config", "seed"), ("supernet_nb201_mnist", "state", "model"),
])
def test_missing_fields_are_named(tmp_path, name, section, key):
    blob = _shipped(name)
    blob[section] = {k: v for k, v in blob[section].items() if k != key}
    path = tmp_path / f"{name}.pt"
    torch.save(blob, path)
    with pytest.raises(GennasError, match=rf"{name}.pt is not a valid .* checkpoint: {section} lacks '{key}'"):
        load_checkpoint(path, blob["kind"])


def test_config_fields_added_later_may_be_missing(tmp_path):
    blob = _shipped("diffusion_nb201")
    blob["config"] = {}
    path = tmp_path / "d.pt"
    torch.save(blob, path)
    assert load_checkpoint(path, "diffusion").config == {}


# ---------------------------------------------------------------- every loader
def _loaders():
    from gennas.evaluators.supernet import Supernet
    from gennas.generators import load_generator
    from gennas.surrogates.latency import LatencyEstimator
    from gennas.surrogates.predictor import Predictor

    return {
        "predictor_nb201": lambda p: Predictor.load(p),
        "latency_nb201": lambda p: LatencyEstimator.load(p, "nb201"),
        "diffusion_nb201": lambda p: load_generator("nb201", "diffusion", path=p),
        "vae_nb201": lambda p: load_generator("nb201", "vae", path=p),
        "supernet_nb201_mnist": lambda p: Supernet.load(p, torch_device="cpu"),
        "train": lambda p: load_checkpoint(p, "train", "nb201"),
    }


@pytest.mark.parametrize("name", list(_loaders()))
def test_every_loader_refuses_a_pickle_that_runs_code(tmp_path, name):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{name}.pt"
    kind = name.split("_")[0]
    torch.save({"format": FORMAT, "kind": kind, "config": {}, "meta": {"space": "nb201"},
                "state": {"x": _RunsCode(str(marker))}}, path)
    with pytest.raises(GennasError, match=f"{name}.pt is not a plain gennas checkpoint"):
        _loaders()[name](path)
    assert not marker.exists()


@pytest.mark.parametrize("name", [n for n in _loaders() if n != "train"])
def test_every_loader_refuses_flipped_bytes_in_a_shipped_checkpoint(tmp_path, name):
    from gennas.resources import checkpoints_dir

    for suffix in (".pt", ".json"):
        (tmp_path / f"{name}{suffix}").write_bytes((checkpoints_dir() / f"{name}{suffix}").read_bytes())
    path = tmp_path / f"{name}.pt"
    _flip(path)
    with pytest.raises(GennasError, match=f"{name}.pt does not match the sha256"):
        _loaders()[name](path)


def test_supernet_weights_that_do_not_fit_are_named(tmp_path):
    """Right field types, wrong tensor shapes: a GennasError naming the file, not a RuntimeError."""
    from gennas.evaluators.supernet import Supernet
    from gennas.resources import checkpoints_dir

    ckpt = load_checkpoint(checkpoints_dir() / "supernet_nb201_mnist.pt", "supernet")
    state = dict(ckpt.state)
    state["model"] = {k: torch.zeros(1) for k in ckpt.state["model"]}  # every tensor the wrong shape
    blob = torch.load(checkpoints_dir() / "supernet_nb201_mnist.pt", weights_only=True)
    blob["state"] = state
    path = tmp_path / "bad_supernet.pt"
    torch.save(blob, path)
    with pytest.raises(GennasError, match="bad_supernet.pt does not fit the supernet"):
        Supernet.load(path, torch_device="cpu")


def test_a_corrupt_checkpoint_or_manifest_names_the_files_to_delete_not_torch_s_unsafe_advice(tmp_path):
    """A corrupt predictor in $GENNAS_HOME quoted torch's "Re-running torch.load with weights_only set
    to False will likely succeed" and said nothing of what to do; every search in the space was
    blocked (a user review)."""
    path = tmp_path / "predictor_my_space.pt"
    path.write_text("garbage\n")
    with pytest.raises(GennasError) as refused:
        load_checkpoint(path, "predictor")
    said = str(refused.value)
    assert "weights_only" not in said and "trusted source" not in said and "Unsupported operand" in said
    assert f"delete {path} and predictor_my_space.json beside it: the next designer search" in said
    manifest = tmp_path / "diffusion_s.json"
    manifest.write_text("{oops")
    with pytest.raises(GennasError, match=r"diffusion_s.json is not valid JSON: .*; delete .*diffusion_s.pt and "
                                          r"diffusion_s.json beside it, then train the generator again"):
        read_manifest(tmp_path / "diffusion_s.pt")
