"""The command line's help loads no heavy library: `gennas design --help` took 1.4 s (torch
imported by the group's --threads callback and by modules the commands register with), 0.3 s
without them. That --threads still reaches the command: tests/test_threads.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "scipy", "optuna", "torch_geometric")

PROBE = """
import sys
from gennas.entry import main
sys.argv = ["gennas", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    assert done.code in (0, None), done.code
print("HEAVY", *sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("command", [[], ["design"], ["search"], ["train"], ["report"], ["latency"],
                                     ["latency", "measure"], ["latency", "devices"]])
def test_help_imports_no_heavy_library(command: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *command, "--help"],
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    loaded = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY")).split()[1:]
    assert loaded == [], f"`gennas {' '.join(command)} --help` imported {loaded}"

