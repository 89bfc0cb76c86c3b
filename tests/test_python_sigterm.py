"""A SIGTERM stops a Python search as Ctrl-C does, then ends the process as it would have: it
killed a `designer.search` at once, with no message and a claim left RUNNING (user walk 52)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import optuna

SCRIPT = textwrap.dedent("""
    import sys, time
    import gennas
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    bench = gennas.load_benchmark("nb201")
    calls = []

    def slow(arch):
        calls.append(arch)
        if len(calls) == 2:
            print("second", flush=True)
            time.sleep(60)  # SIGTERM arrives here
        return bench.accuracy(arch, "cifar10")

    run_search(RandomSearch("nb201", seed=0), slow, budget=4, storage=sys.argv[1], study_name="s", progress=False)
""")


def test_sigterm_during_a_python_search_keeps_its_results_says_so_and_ends_the_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    assert child.stdout.readline().strip() == "second"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGTERM, err  # ended by the signal, as without the handler
    assert "search interrupted: study 's' keeps the 1 result stored" in " ".join(err.split())
    trials = optuna.load_study(study_name="s", storage=url).get_trials(deepcopy=False)
    assert [t.state.name for t in trials].count("COMPLETE") == 1
    assert "RUNNING" not in [t.state.name for t in trials]  # the claim was given back
