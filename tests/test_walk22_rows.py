"""Rows of one list of designs share one set of keys (walk 22 #9): `gennas design --json` gave a
verified design `pred_low`, `pred_high` and the calibration flags and the unverified designs
beside it none of those keys."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.design.loop import LoopSettings
from gennas.design.pretrained import untrained_predictor
from gennas.evaluators.base import Result


@pytest.fixture(scope="module")
def mixed(bench):
    """A designer that learned its task from scratch: verified designs beside unverified ones that
    state a score with no interval."""
    d = gennas.Designer("nb201", task="new-cifar10", predictor=untrained_predictor(bench.space, 0), seed=0,
                        loop=LoopSettings(pool=1))
    archs, y = bench.archs(), bench.accuracy_of(None, "cifar10")
    d.tell([Result(archs[i], float(y[i]), "table") for i in np.random.default_rng(1).choice(len(archs), 12)])
    out = d.generate(14)  # the verified above the median result come first (unstated_above_results)
    assert any(c.verified_score is not None for c in out) and any(c.verified_score is None for c in out)
    return out


def test_designs_rows_share_one_set_of_keys(mixed):
    rows = mixed.rows()
    assert all(list(row) == list(rows[0]) for row in rows)
    unverified = next(row for row, c in zip(rows, mixed) if c.verified_score is None)
    assert {"pred_low", "pred_high", "beyond_calibration", "below_calibration"} <= unverified.keys()
    assert unverified["pred_low"] is None and unverified["pred_high"] is None


def test_design_json_rows_share_one_set_of_keys(mixed, tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(gennas.Designer, "generate", lambda self, n: mixed)
    shown = CliRunner().invoke(app, ["design", "--task", "cifar10", "-n", "6", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert len(rows) == len(mixed) and all(list(row) == list(rows[0]) for row in rows)
    assert {"pred_low", "pred_high", "beyond_calibration", "below_calibration", "verified"} <= rows[0].keys()
    table = CliRunner().invoke(app, ["design", "--task", "cifar10", "-n", "6"])
    assert table.exit_code == 0 and "pred_low" in table.stdout and "extrapolated" in table.stdout
