"""`gennas show --space mbv3` shows the bundled latency table's timings of a subnet it timed, as
`gennas latency predict` does and as `show` does for nb201 (walk 22 #11)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gennas.bench import sampled_timings
from gennas.cli.app import app

TIMED = "k5e6-k5e4-k3e6-k3e6|k3e3-k3e3|k7e4-k5e6|k5e4-k5e6-k7e6-k7e3|k5e4-k5e6-k7e6"  # the walk's subnet


def test_show_mbv3_gives_the_table_latency_of_a_timed_subnet(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    shown = runner.invoke(app, ["show", "--space", "mbv3", TIMED, "--json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["cpu_ort_1t_ms"] == pytest.approx(11.7713) == sampled_timings("mbv3", "cpu_ort_1t")[TIMED]
    assert record["cpu_torch_1t_ms"] == sampled_timings("mbv3", "cpu_torch_1t")[TIMED]
    predicted = json.loads(runner.invoke(app, ["latency", "predict", "--space", "mbv3", "--device", "cpu_ort_1t",
                                               TIMED, "--json"]).stdout)
    assert predicted[0]["table_ms"] == record["cpu_ort_1t_ms"]  # the same value both commands show
    table = runner.invoke(app, ["show", "--space", "mbv3", TIMED])
    assert "cpu_ort_1t_ms" in table.stdout and "11.77" in table.stdout
    # a subnet the table never timed shows no latency (nothing made up)
    untimed = "k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3"
    assert untimed not in sampled_timings("mbv3", "cpu_ort_1t")
    other = json.loads(runner.invoke(app, ["show", "--space", "mbv3", untimed, "--json"]).stdout)
    assert not any(key.endswith("_ms") for key in other)
