"""experiments/noisy_evaluator.py: its reverify arm runs (it passed reverify a ``progress`` it does
not take, and the README's figures could not be reproduced: user walk 45)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "noisy_evaluator.py"


def test_the_reverify_arm_runs_and_judges_its_first_design(bench, monkeypatch):
    spec = importlib.util.spec_from_file_location("experiments_noisy_evaluator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "BUDGET", 6)  # the arm's shape, on a tiny budget
    row = module.run(bench, "cifar10", 0.5, 0, "search 3 + reverify 3")
    assert row["true"] <= row["best"] and row["stated"] > 0
