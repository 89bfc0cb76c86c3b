"""User YAML spaces: the schema checked at load (file, field and line in every message), loading
from a path (Python and CLI), the name registry, and the op types a spec can compose."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import gennas
from gennas.checkpoint import FORMAT, load_checkpoint
from gennas.cli.app import app
from gennas.errors import GennasError, UnknownSpace
from gennas.models.layers import OP_TYPES, build_op
from gennas.resources import spaces_dir
from gennas.spaces import OP_PARAMS, SpecError, space_by_name

USER_SPACE = """\
# a user's cell space: separable convs and an MBConv with squeeze-excite and h-swish
kind: cell
name: {name}
description: three-node cell
input_size: 32
cell:
  nodes: 3
  zero_op: none
  identity_op: skip
  ops:
    none: {{type: zero}}
    skip: {{type: identity}}
    sep3: {{type: sep_conv, kernel: 3}}
    dil3: {{type: dil_conv, kernel: 3, dilation: 2}}
    mb5: {{type: mbconv, kernel: 5, expand: 3, se: true, act: hswish}}
macro: {{channels: 8, cells_per_stage: 1, stages: 2}}
"""


def _unique(prefix: str) -> str:
    # the registry is per process: every test gets its own space name
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def user_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "my_space.yaml"
    path.write_text(USER_SPACE.format(name=_unique("user")))
    return path


# ---------------------------------------------------------------- schema errors
CELL = "kind: cell\ncell:\n  nodes: 3\n  ops:\n"
MBV3 = (spaces_dir() / "mbv3.yaml").read_text()
MBV3_DEPTH_LINE = MBV3.splitlines().index("  min_depth: 2") + 1
MBV3_SE_LINE = next(i for i, line in enumerate(MBV3.splitlines(), 1) if "se: true" in line)


@pytest.mark.parametrize("text, line, field, message", [
    (CELL + "    a: {type: conv9}\n", 5, "cell.ops.a.type", "must be one of zero, identity, relu_conv_bn"),
    (CELL + "    a: {kernel: 3}\n", 5, "cell.ops.a", "missing the field 'type'"),
    (CELL + "    a: {type: sep_conv}\n", 5, "cell.ops.a", "missing the field 'kernel'"),
    (CELL + "    a: {type: sep_conv, kernel: 3, dilation: 2}\n", 5, "cell.ops.a.dilation", "unknown field"),
    (CELL + "    a: {type: sep_conv, kernel: 4}\n", 5, "cell.ops.a.kernel", "must be odd"),
    (CELL + "    a: {type: sep_conv, kernel: '3'}\n", 5, "cell.ops.a.kernel", "must be an integer, got the text '3'"),
    (CELL + "    a: {type: mbconv, kernel: 3, expand: 4, se: 1}\n", 5, "cell.ops.a.se", "must be true or false"),
    (CELL + "    a: {type: mbconv, kernel: 3, expand: 4, act: gelu}\n", 5, "cell.ops.a.act", "one of relu, hswish"),
    (CELL + "    input: {type: zero}\n", 5, "cell.ops.input", "not a valid name"),
    (CELL + "    a~b: {type: zero}\n", 5, "cell.ops.a~b", "not a valid name"),
    ("kind: cell\ncell:\n  nodes: 1\n  ops:\n    a: {type: zero}\n", 3, "cell.nodes", "integer >= 2, got 1"),
    ("kind: cell\ncell:\n  nodes: 40\n  ops:\n    a: {type: zero}\n", 3, "cell.nodes", "integer <= 8, got 40"),
    ("kind: cell\ncell:\n  nodes: three\n  ops:\n    a: {type: zero}\n", 3, "cell.nodes", "must be an integer"),
    ("kind: cell\ncell:\n  ops:\n    a: {type: zero}\n", 3, "cell", "missing the field 'nodes'"),
    (CELL + "    a: {type: zero}\n  colour: red\n", 6, "cell.colour", "unknown field; cell takes identity_op, nodes"),
    (CELL + "    a: {type: zero}\nsmall_build: {width: 3}\n", 6, "small_build.width", "unknown field"),
    ("kind: cell\ncell:\n  nodes: 3\n  zero_op: nada\n  ops:\n    a: {type: zero}\n", 4, "cell.zero_op",
     "names 'nada', which is not one of cell.ops"),
    ("kind: cell\ncell:\n  nodes: 3\n  identity_op: a\n  ops:\n    a: {type: zero}\n", 4, "cell.identity_op",
     "must have type identity"),
    ("kind: cell\ncell:\n  nodes: 3\n  ops: [a, b]\n", 4, "cell.ops", "must be a mapping, got a list"),
    ("kind: rnn\n", 1, "kind", "must be one of cell, blocks, darts"),
    ("cell: {}\n", 1, "the document", "missing the field 'kind'"),
    ("kind: cell\nkind: blocks\n", 2, "kind", "appears twice"),
    ("kind: darts\ncell:\n  nodes: 4\n  zero_op: z\n  ops:\n    z: {type: zero}\n    y: {type: zero}\n", 5,
     "cell.ops", "exactly one op of type zero"),
    ("kind: darts\ncell:\n  nodes: 9\n  zero_op: z\n  ops:\n    z: {type: zero}\n", 3, "cell.nodes", "<= 8"),
    ("kind: darts\ncell:\n  nodes: 4\n  inputs_per_node: 3\n  zero_op: z\n  ops:\n    z: {type: zero}\n", 4,
     "cell.inputs_per_node", "<= 2"),
    (MBV3.replace("min_depth: 2", "min_depth: 5"), MBV3_DEPTH_LINE, "blocks.min_depth", "must be <= max_depth"),
    (MBV3.replace("kernels: [3, 5, 7]", "kernels: [3, 4]"), MBV3_DEPTH_LINE - 2, "blocks.kernels", "must be odd"),
    (MBV3.replace("se: true", "se: yes please", 1), MBV3_SE_LINE, "macro.stages[1].se", "must be true or false"),
    (MBV3.replace("kernels: [3, 5, 7]", "kernels: [3, 3]"), MBV3_DEPTH_LINE - 2, "blocks.kernels",
     "must not repeat a value"),
    (CELL + "    a: {type: zero}\ninput_size: 8\nmacro: {stages: 5}\n", 7, "macro.stages",
     "5 stages need input_size >= 16"),
    ("kind: cell\ncell: [\n", 3, "", "not valid YAML"),
    # walk 38 #4: each field within its bound, and a 2-million-channel last stage built until memory ran out
    (CELL + "    a: {type: identity}\ninput_size: 512\nmacro: {channels: 4096, stages: 10}\n", 7, "macro.channels",
     "the last stage is 2,097,152 channels wide"),
    # walk 36 #4: it loaded, and its designer search verified nothing, saying all was verified already
    (CELL + "    a: {type: zero}\n    b: {type: zero}\n", 4, "cell.ops", "every op is of type zero"),
])
def test_schema_errors_name_the_file_field_and_line(tmp_path, text, line, field, message):
    path = tmp_path / f"{_unique('bad')}.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        gennas.load_space(path)
    text = str(info.value)
    assert str(path) in text and f"line {line}:" in text and message in text, text
    if field:
        assert f": {field}:" in text, text


def test_empty_and_non_mapping_specs(tmp_path):
    for content, message in (("", "is empty"), ("- a\n", "must be a mapping, got a list")):
        path = tmp_path / f"{_unique('bad')}.yaml"
        path.write_text(content)
        with pytest.raises(SpecError, match=message):
            gennas.load_space(path)


def test_the_bundled_specs_pass_the_schema():
    for name in gennas.list_spaces():
        assert gennas.load_space(name).name == name


def test_an_op_type_the_builders_lack_fails_at_load_not_at_build(tmp_path):
    # the issue: a spec naming an unknown type used to load, sample, and fail only in build()
    path = tmp_path / "conv9.yaml"
    path.write_text(CELL + "    a: {type: zero}\n    b: {type: conv9x9, kernel: 9}\n")
    with pytest.raises(SpecError, match="line 6: cell.ops.b.type"):
        gennas.load_space(path)


# ---------------------------------------------------------------- op types
def test_every_op_type_has_a_builder_and_a_schema():
    assert set(OP_TYPES) == set(OP_PARAMS)


@pytest.mark.parametrize("spec", [
    {"type": "zero"}, {"type": "identity"}, {"type": "relu_conv_bn", "kernel": 3, "dilation": 2},
    {"type": "avg_pool", "kernel": 3}, {"type": "max_pool"}, {"type": "sep_conv", "kernel": 5},
    {"type": "dil_conv", "kernel": 3, "dilation": 2}, {"type": "mbconv", "kernel": 3, "expand": 4, "se": True,
                                                       "act": "hswish"},
])
@pytest.mark.parametrize("stride", [1, 2])
def test_op_types_map_shapes(spec, stride):
    x = torch.randn(2, 8, 16, 16)
    out = build_op(spec, 8, 8, stride)(x)
    assert out.shape == (2, 8, 16 // stride, 16 // stride)
    assert build_op(spec, 8, 12, stride)(x).shape == (2, 12, 16 // stride, 16 // stride)


# ---------------------------------------------------------------- loading from a path
def test_a_user_space_loads_from_a_path_and_works_end_to_end(user_yaml):
    space = gennas.load_space(str(user_yaml))
    assert gennas.load_space(user_yaml) is space  # str or Path, one object
    assert space_by_name(space.name) is space and space.source == user_yaml.resolve()
    archs = space.sample_many(20, 0)
    assert all(space.is_valid(a) for a in archs)
    for arch in archs:
        # graphs find their space by name (to_string, hashing) and round-trip through text
        assert space.from_string(arch.to_string()) == arch and arch.canonical_hash()
    arch = space.from_string("|mb5~0|+|sep3~0|dil3~1|")
    net = space.build(arch)
    loss = torch.nn.functional.cross_entropy(net(torch.randn(2, 3, 32, 32)), torch.tensor([1, 2]))
    loss.backward()
    assert torch.isfinite(loss)


def test_names_of_path_spaces_are_unique(tmp_path, user_yaml):
    space = gennas.load_space(user_yaml)
    copy = tmp_path / "copy" / "same.yaml"
    copy.parent.mkdir()
    copy.write_text(user_yaml.read_text())
    assert gennas.load_space(copy) is space  # the same spec under the same name: the same space
    other = tmp_path / "other.yaml"
    other.write_text(user_yaml.read_text().replace("nodes: 3", "nodes: 4"))
    with pytest.raises(SpecError, match=f"a different space named '{space.name}' was already loaded from"):
        gennas.load_space(other)
    user_yaml.write_text(user_yaml.read_text().replace("nodes: 3", "nodes: 4"))
    with pytest.raises(SpecError, match="changed since"):
        gennas.load_space(user_yaml)
    clash = tmp_path / "nb201.yaml"
    clash.write_text(CELL + "    a: {type: zero}\n")
    with pytest.raises(SpecError, match=r"'nb201' \(from the file name\) is a bundled space's; give the file"):
        gennas.load_space(clash)
    odd = tmp_path / "my space.yaml"
    odd.write_text(CELL + "    a: {type: zero}\n")
    with pytest.raises(SpecError, match="add a `name:` field"):
        gennas.load_space(odd)
    # a bad name from the `name:` field is said to come from it (it read "from the file name")
    named = tmp_path / "named.yaml"
    for bad, said in (("../../evil", "is not a valid name"), ("nb201", "is a bundled space's; change it")):
        named.write_text(f"name: {bad}\n" + CELL + "    a: {type: zero}\n")
        with pytest.raises(SpecError, match=rf"\(from its `name:` field\) {said}"):
            gennas.load_space(named)
    # 'walk 12' was told "letters, digits, '_' and '-'", then 'walk-12' refused as "(a letter, then
    # letters, digits, '_')": a `name:` field states the schema's rule, the one it is held to
    for bad in ("walk 12", "walk-12"):
        named.write_text(f"name: {bad}\n" + CELL + "    a: {type: zero}\n")
        with pytest.raises(SpecError, match=r"not a valid name \(a letter, then letters, digits, '_'\)"):
            gennas.load_space(named)


def test_a_bundled_spec_by_its_path_is_the_bundled_space():
    assert gennas.load_space(spaces_dir() / "darts.yaml") is gennas.load_space("darts")
    with pytest.raises(UnknownSpace, match="must end in .yaml or .yml"):
        gennas.load_space(str(spaces_dir() / "darts"))


@pytest.mark.parametrize("name", ["missing.yaml", "../spaces/nb201.yaml", "/etc/passwd", "nb201.yml", "a\0.yaml"])
def test_missing_paths_are_unknown_spaces(name):
    with pytest.raises(UnknownSpace, match="unknown search space"):
        gennas.load_space(name)


def test_names_from_files_never_follow_a_path(tmp_path, user_yaml):
    space = gennas.load_space(user_yaml)
    with pytest.raises(UnknownSpace):
        space_by_name(str(user_yaml))  # a path is not a name, even for a loaded file
    ckpt = tmp_path / "toy.pt"
    torch.save({"format": FORMAT, "kind": "toy", "config": {}, "state": {}, "meta": {"space": space.name}}, ckpt)
    assert load_checkpoint(ckpt, "toy", space.name).meta["space"] == space.name
    torch.save({"format": FORMAT, "kind": "toy", "config": {}, "state": {}, "meta": {"space": str(user_yaml)}}, ckpt)
    with pytest.raises(GennasError, match="which is not a bundled space nor one loaded"):
        load_checkpoint(ckpt, "toy")


def test_cli_samples_a_user_space_from_its_path(user_yaml):
    result = CliRunner().invoke(app, ["sample", "--space", str(user_yaml), "-n", "3", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    space = gennas.load_space(user_yaml)
    assert len(rows) == 3 and all(space.is_valid(space.from_string(r["arch"])) for r in rows)
    bad = user_yaml.with_name("bad.yaml")
    bad.write_text(CELL + "    a: {type: sep_conv, kernel: 4}\n")
    result = CliRunner().invoke(app, ["sample", "--space", str(bad)])
    assert result.exit_code == 2 and "line 5: cell.ops.a.kernel: must be odd" in result.output


def test_a_spec_given_as_a_dict_says_a_space_is_loaded_from_its_yaml_file():
    """Walk 36 #6: `gennas.load_space({"kind": "cell", ...})` said "unknown search space {'kind': 'cell'}"."""
    with pytest.raises(UnknownSpace, match=r"loaded from its YAML file .+, not from a dict"):
        gennas.load_space({"kind": "cell", "cell": {"nodes": 3, "ops": {"a": {"type": "identity"}}}})
