"""Fuzzing of what users type besides architecture strings: YAML space specs, task and device names.

Property-based (hypothesis, derandomized so CI runs are repeatable): a spec with one field
replaced by an arbitrary value, or arbitrary YAML text, either loads into a space that samples
valid architectures or raises a GennasError with a message; task and device names are accepted
or refused by name (UnknownDataset, UnknownDevice), through the Python API and the CLI.
"""

from __future__ import annotations

import copy
import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gennas.errors import GennasError, UnknownDataset, UnknownDevice
from gennas.spaces import load_space
from gennas.spaces.loader import load_space_file
from tests.conftest import BEST_C10

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_counter = itertools.count()  # each written spec gets a fresh name: spaces register by name

BUNDLED_SPECS = {name: yaml.safe_load((Path(__file__).parents[1] / "spaces" / f"{name}.yaml").read_text())
                 for name in ("nb201", "mbv3", "darts")}


def _paths(spec: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested mapping/list spec (the places one value can be replaced)."""
    out = [prefix] if prefix else []
    if isinstance(spec, dict):
        for k, v in spec.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(spec, list):
        for i, v in enumerate(spec):
            out += _paths(v, (*prefix, i))
    return out


def _values() -> st.SearchStrategy[Any]:
    """Values a typo or a wrong guess puts in a spec."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                        st.text(max_size=12), st.sampled_from(["zero", "identity", "sep_conv", "mbconv", "cell",
                                                               "blocks", "darts", "", "-1", "1e9"]))
    return st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=6), scalars, max_size=2))


def _load_written(spec_or_text: Any) -> Any:
    """Write a spec (a mapping, dumped as YAML, or raw text) to a fresh file and load it."""
    # A fresh folder per example (hypothesis runs hundreds; pytest's tmp_path is one per test),
    # removed at once so a run leaves nothing in /tmp.
    with tempfile.TemporaryDirectory(prefix="gennas-fuzz-") as folder:
        path = Path(folder) / f"fuzz_space_{next(_counter)}.yaml"
        path.write_text(spec_or_text if isinstance(spec_or_text, str) else yaml.safe_dump(spec_or_text))
        return load_space_file(path)


def _works_or_refuses(load) -> None:
    """A loaded space must sample valid, round-tripping architectures; a refusal must be a
    GennasError whose message says something."""
    try:
        space = load()
    except GennasError as exc:
        assert str(exc).strip()
        return
    arch = space.sample(np.random.default_rng(0))
    assert space.is_valid(arch)
    assert space.from_string(space.to_string(arch)).canonical_hash() == arch.canonical_hash()


@FUZZ
@given(data=st.data(), base=st.sampled_from(sorted(BUNDLED_SPECS)))
def test_a_spec_with_one_field_replaced_loads_or_is_refused_by_name(data, base):
    spec = copy.deepcopy(BUNDLED_SPECS[base])
    spec.pop("name", None)  # the file's stem names it: a fresh name per example
    path = data.draw(st.sampled_from(_paths(spec)), label="field")
    value = data.draw(_values(), label="value")
    node = spec
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _works_or_refuses(lambda: _load_written(spec))


@FUZZ
@given(text=st.one_of(st.text(max_size=200),
                      st.sampled_from(["kind: cell", "kind: [", "- 1\n- 2", ": :", "kind: cell\ncell: 3",
                                       "\t", "kind: blocks\nstages: -1", "&a [*a]", "!!python/object:os.system ls"])))
def test_arbitrary_yaml_text_loads_or_is_refused_by_name(text):
    _works_or_refuses(lambda: _load_written(text))


NAMES = st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "CIFAR10", "cifar10 ", "../cifar10", "pixel3\x00",
                                                          "imagenet16-120", "pixel3", "None", "0"]))


@pytest.mark.parametrize("lookup, error, word", [("accuracy", UnknownDataset, "dataset"),
                                                 ("latency", UnknownDevice, "device")])
@FUZZ
@given(name=NAMES)
def test_dataset_and_device_names_give_a_value_or_name_the_problem(bench, lookup, error, word, name):
    try:
        value = getattr(bench, lookup)(BEST_C10, name)
    except error as exc:
        assert word in str(exc).lower()
    else:
        assert 0.0 < value <= 100.0 if lookup == "accuracy" else value > 0


@pytest.fixture(scope="module")
def latency_estimator():
    from gennas.surrogates.latency import load_latency_estimator

    return load_latency_estimator("nb201")


@settings(FUZZ, max_examples=20)
@given(name=NAMES)
def test_the_latency_estimator_names_an_unknown_device(latency_estimator, name):
    try:
        value = latency_estimator.predict([BEST_C10], name)
    except GennasError as exc:
        assert str(exc).strip()
    else:
        assert np.isfinite(value).all() and (value > 0).all()


@settings(FUZZ, max_examples=12)
@given(task=st.text(max_size=20), device=st.text(max_size=20))
def test_cli_design_with_any_task_and_device_exits_cleanly(task, device):
    from gennas.cli.app import app

    args = ["design", "--space", "nb201", "-n", "1", "--seed", "0"]
    if task:
        args += ["--task", task]
    if device:
        args += ["--device", device, "--max-latency-ms", "20"]
    result = CliRunner().invoke(app, args)
    # 0: designed; 2: refused with a one-line message. A traceback would be exit 1 with an exception set
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    if result.exit_code == 2:
        assert result.output.strip()
