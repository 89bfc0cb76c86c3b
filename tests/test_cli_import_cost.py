"""The command line's help loads no heavy library: `gennas design --help` took 1.4 s (torch
imported by the group's --threads callback and by modules the commands register with), 0.3 s
without them. That --threads still reaches the command: tests/test_threads.py, and below for a
command that loads torch after it started."""

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


def _plain_env() -> dict[str, str]:
    """This environment without PYTHONUNBUFFERED (CI's has none) and OMP_NUM_THREADS (which the
    command line sets itself)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "OMP_NUM_THREADS")}


@pytest.mark.parametrize("command", [[], ["design"], ["search"], ["train"], ["report"], ["latency"],
                                     ["latency", "measure"], ["latency", "devices"]])
def test_help_imports_no_heavy_library(command: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *command, "--help"],
                          capture_output=True, text=True, timeout=120,
                          env=_plain_env())
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    loaded = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY")).split()[1:]
    assert loaded == [], f"`gennas {' '.join(command)} --help` imported {loaded}"



def test_listing_the_spaces_imports_no_heavy_library() -> None:
    """`gennas spaces` loaded torch only to set its threads (1.2 s; 0.3 s without)."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), "spaces", "--json"],
                          capture_output=True, text=True, timeout=120, env=_plain_env())
    assert done.returncode == 0, done.stderr
    assert '"nb201"' in done.stdout
    loaded = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY")).split()[1:]
    assert loaded == [], f"`gennas spaces` imported {loaded}"


THREADS_PROBE = """
import os, sys
import importlib
from gennas.cli.output import friendly

cli = importlib.import_module("gennas.cli.app")  # the module (`gennas.cli.app` is also its Typer app)

@cli.app.command("probe")
@friendly
def probe() -> None:
    assert "torch" not in sys.modules
    import torch
    from gennas.threads import with_own_threads

    class Worker:  # a gennas object with threads of its own: the command line's choice holds
        threads = 3

        @with_own_threads
        def run(self):
            return torch.get_num_threads()
    print("THREADS", torch.get_num_threads(), Worker().run())

cli.app(["--threads", sys.argv[1], "probe"], standalone_mode=False)
print("AFTER", os.environ.get("OMP_NUM_THREADS", "unset"))
"""


@pytest.mark.parametrize("threads", ["1", "2"])
def test_the_threads_reach_torch_loaded_during_the_command(threads: str) -> None:
    """Without torch loaded as the command starts, --threads reaches it as it loads, gennas objects
    keep it, and the environment is the caller's again after the command."""
    done = subprocess.run([sys.executable, "-c", THREADS_PROBE, threads], capture_output=True, text=True,
                          timeout=120, env=_plain_env())
    assert done.returncode == 0, done.stderr
    assert f"THREADS {threads} {threads}" in done.stdout and "AFTER unset" in done.stdout, done.stdout
