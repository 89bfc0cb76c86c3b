"""The README's `designs.rows()` line says how its keys relate to `gennas design --json`'s (walk 22
#5: it said "flat dicts as `gennas design --json`", and the latency keys differ)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import gennas
from gennas.cli.app import app

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_states_how_rows_keys_relate_to_design_json(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    lines = README.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("designs.rows()"))
    said = " ".join(line.partition("#")[2].strip() for line in lines[at:at + 4])
    assert "flat dicts as `gennas design --json`" not in said
    assert "keys up to `verified_by_equivalent`, then latency_ms and latency_measured" in said
    assert "pred_ms or measured_ms, beside bound_ms and bound_confidence" in said and "no table_acc, export, direction" in said
    # and it holds: the same designs, from Python and from the CLI
    rows = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20, seed=0).generate(n=2).rows()
    shown = CliRunner().invoke(app, ["design", "--task", "cifar10", "--device", "pixel3", "--max-latency-ms", "20",
                                     "-n", "2", "--json"])
    assert shown.exit_code == 0, shown.output
    printed = json.loads(shown.stdout)
    for row, out in zip(rows, printed):
        keys, json_keys = list(row), list(out)
        cut, json_cut = keys.index("verified_by_equivalent") + 1, json_keys.index("verified_by_equivalent") + 1
        assert keys[:cut] == json_keys[:json_cut] and keys[cut:] == ["latency_ms", "latency_measured"]
        assert set(json_keys[json_cut:]) <= {"pred_ms", "measured_ms", "bound_ms", "bound_confidence", "table_acc", "export",
                                             "direction"}
        assert row["latency_ms"] == (out["measured_ms"] if row["latency_measured"] else out["pred_ms"])
