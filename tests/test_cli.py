"""CLI: readable output, JSON for scripts, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gennas.cli.app import app
from tests.conftest import BEST_C10

runner = CliRunner()


def test_spaces():
    result = runner.invoke(app, ["spaces", "--json"])
    assert result.exit_code == 0
    names = {row["space"] for row in json.loads(result.stdout)}
    assert {"nb201", "mbv3"} <= names


def test_show_json_values():
    result = runner.invoke(app, ["show", BEST_C10, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["cifar10_acc"] == pytest.approx(94.3733)
    assert 0.07 < record["params_M"] < 1.54  # within the space's published range
    assert record["pixel3_ms"] > 0


def test_sample_json_is_seeded():
    a = runner.invoke(app, ["sample", "-n", "3", "--seed", "5", "--json"])
    b = runner.invoke(app, ["sample", "-n", "3", "--seed", "5", "--json"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    rows = json.loads(a.stdout)
    assert len(rows) == 3 and all("cifar100_acc" in r and "pixel3_ms" in r for r in rows)


def test_sample_mbv3_table():
    result = runner.invoke(app, ["sample", "--space", "mbv3", "-n", "2", "--seed", "0"])
    assert result.exit_code == 0 and "params_M" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["show", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "unknown op 'conv'"),
    (["show", "k3e3-k3e3", "--space", "mbv3"], "5 '|'-separated stages"),
    (["sample", "--space", "nope"], "unknown search space 'nope'"),
    (["sample", "--device", "toaster"], "unknown device 'toaster'"),
    (["sample", "-n", "0"], "-n must be positive"),
])
def test_bad_input_one_line_exit_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_console_script_entry_point():
    # The installed script prints one line and exits 2, without a traceback.
    proc = subprocess.run([sys.executable, "-m", "gennas.cli", "show", "|x~0|"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
