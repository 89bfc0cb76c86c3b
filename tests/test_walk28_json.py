"""The CLI's JSON is what a pipeline parses (walk 28 #16): numbers as numbers, null where there is
no value ("-" was a string), and never Python's NaN or Infinity, which are not JSON."""

from __future__ import annotations

import json
import math

import numpy as np
from typer.testing import CliRunner

from gennas.cli.app import app
from gennas.cli.output import print_json


def _strict(text: str) -> object:
    """``text`` parsed as JSON proper: NaN, Infinity and -Infinity refused."""
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_print_json_writes_null_for_a_float_that_is_not_finite(capsys):
    print_json({"score": math.nan, "rows": [{"ms": math.inf}, (-math.inf, 1.5)], "np": np.float64("nan"),
                "kept": [0.25, 3, "nan", None, True]})
    assert _strict(capsys.readouterr().out) == {"score": None, "rows": [{"ms": None}, [None, 1.5]], "np": None,
                                                 "kept": [0.25, 3, "nan", None, True]}


def test_spaces_json_gives_each_size_as_its_integer_and_null_for_no_benchmark(monkeypatch, tmp_path):
    from gennas.spaces import load_space

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    shown = CliRunner().invoke(app, ["spaces", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = {row["space"]: row for row in _strict(shown.stdout)}
    assert rows["nb201"]["size"] == 15625 and rows["nb201"]["benchmark"] == "nb201"
    assert rows["darts"]["size"] == load_space("darts").size() and rows["darts"]["benchmark"] is None
    table = CliRunner().invoke(app, ["spaces"]).stdout  # the table as it was
    assert "1.562e+04" in table and "1.077e+18" in table


def test_latency_devices_json_has_null_where_a_device_has_no_timing_margin(monkeypatch, tmp_path):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    shown = CliRunner().invoke(app, ["latency", "devices", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = _strict(shown.stdout)
    assert rows and all(row["timing_margin_95%"] is None for row in rows if row["source"] == "bundled")
    table = CliRunner().invoke(app, ["latency", "devices"]).stdout
    assert "pixel3" in table and "│ -" in table  # the table still shows '-'

