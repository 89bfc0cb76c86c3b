"""gennas run unattended (CI, cron, a batch container): walk 39's findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.errors import hide_passwords
from gennas.resources import NoHome, gennas_home, home_folder

runner = CliRunner()


@pytest.fixture
def no_home(monkeypatch):
    """Neither GENNAS_HOME nor HOME, and no passwd entry for the user (a random-UID container)."""
    monkeypatch.delenv("GENNAS_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def unknown() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(unknown))


def test_without_a_home_a_bundled_space_designs_and_searches_and_a_write_says_what_to_set(no_home, tmp_path):
    """It was a 67-line traceback from Path.home() for nb201, which writes nothing there."""
    with pytest.raises(NoHome, match="GENNAS_HOME and HOME are unset.*set GENNAS_HOME to a writable folder"):
        gennas_home()
    assert home_folder("checkpoints") is None
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    assert len(designer.generate(n=2)) == 2
    result = runner.invoke(app, ["search", "--space", "nb201", "--task", "cifar10", "--budget", "3",
                                 "--evaluator", "table", "--method", "designer", "--quiet", "--json",
                                 "--storage", f"sqlite:///{tmp_path / 'run.db'}"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] == 3
    from gennas.surrogates.measure import devices_dir

    with pytest.raises(NoHome):  # where gennas must write under its home, the one-line error
        devices_dir()


@pytest.mark.parametrize("url, shown", [
    ("postgresql://gennas:S3cretPW@127.0.0.1:54339/db", "postgresql://gennas:***@127.0.0.1:54339/db"),
    ("postgresql+psycopg://u:p%40ss@h/x?sslmode=require", "postgresql+psycopg://u:***@h/x?sslmode=require"),
    ("mysql://user@host/db", "mysql://user@host/db"),  # no password: nothing to hide
    ("sqlite:///run.db", "sqlite:///run.db"),
    ("http://host:8080/path, mail a@b", "http://host:8080/path, mail a@b"),
])
def test_passwords_in_urls_are_hidden(url, shown):
    assert hide_passwords(f"cannot open storage {url!r}: refused") == f"cannot open storage {shown!r}: refused"


def test_a_storage_password_never_reaches_the_output():
    """A --storage URL was printed whole in the error line, the pasted command, --json and report
    titles: CI logs are kept, often for anyone to read."""
    url = "postgresql://gennas:S3cretPW@127.0.0.1:1/db"  # no server: the connection is refused at once
    result = runner.invoke(app, ["search", "--space", "nb201", "--task", "cifar10", "--budget", "3",
                                 "--evaluator", "table", "--method", "random", "--storage", url, "--json"])
    assert result.exit_code == 2
    assert "S3cretPW" not in result.output and "postgresql://gennas:***@127.0.0.1:1/db" in result.output


def test_a_gennas_warning_made_an_error_is_one_line_and_exit_2(monkeypatch):
    """PYTHONWARNINGS=error::UserWarning (the README's way to make warnings fatal in a pipeline)
    ended a command in a traceback and exit 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = runner.invoke(app, ["design", "--space", "nb201", "--task", "cifar10", "-n", "200",
                                     "--device", "pixel3", "--max-latency-ms", "2", "--json"])
    assert result.exit_code == 2
    assert result.output.startswith("error: only 10 of the 200 designs asked for") and "Traceback" not in result.output


def _shell(command: str, **env: str) -> subprocess.CompletedProcess:
    """``gennas <command>`` (with its redirections) in a shell, its stdout block-buffered as in CI
    (PYTHONUNBUFFERED from a test runner's environment hid an exit code of 120)."""
    plain = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    return subprocess.run(f"{sys.executable} -m gennas {command}", shell=True, capture_output=True, text=True,
                          timeout=300, env={**plain, "OMP_NUM_THREADS": "1", **env})


def test_closed_or_full_outputs_are_one_line_errors(tmp_path):
    full = _shell("spaces --json > /dev/full")
    assert full.returncode == 2 and full.stderr == "error: No space left on device while writing the output\n"
    closed = _shell("spaces --json >&-")
    assert closed.returncode == 2 and closed.stderr.startswith("error: stdout is closed")
    # the reader of a pipe gone (a log collector): click's silent exit 1 (user walk 48)
    piped = subprocess.run(["bash", "-c", f"{sys.executable} -m gennas spaces --json | true; "
                            "echo ${PIPESTATUS[0]} >&2"], capture_output=True, text=True, timeout=300,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    assert piped.stderr == "error: Broken pipe while writing the output\n2\n", piped.stderr
    # stderr closed: the progress lines are lost, not the search (it stopped before verifying anything)
    searched = _shell(f"search --space nb201 --task cifar10 --budget 3 --evaluator table --method random "
                      f"--storage sqlite:///{tmp_path / 'quiet.db'} --json 2>&-")
    assert searched.returncode == 0 and json.loads(searched.stdout)["verified"] == 3


def test_help_and_python_minus_w_error_need_nothing_but_ascii_and_no_dependency_s_warnings(tmp_path):
    """`--help` failed on an ASCII stdout ("±"; it said "+/- std" until walk 58, now "90 % interval");
    `python -W error` failed importing torch_geometric (its DeprecationWarning of torch.jit.script
    under torch 2.13)."""
    helped = _shell("design --help", PYTHONIOENCODING="ascii")
    assert helped.returncode == 0 and "90 % interval" in helped.stdout
    script = ("import gennas; d = gennas.Designer('nb201', task='cifar10', seed=0); print(len(d.generate(n=2))); "
              "print(gennas.load_space('nb201').sample(0).to_pyg().num_nodes)")
    strict = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1", "GENNAS_HOME": str(tmp_path)})
    assert strict.returncode == 0, strict.stderr[-2000:]
    assert strict.stdout.split() == ["2", "8"]


def test_a_search_whose_every_verification_failed_exits_2(tmp_path, monkeypatch):
    """Under a memory limit every training failed and the job exited 0: a scheduler read success
    (user walk 48). The results are stored and printed, then one error line and exit 2."""
    import math

    from typer.testing import CliRunner

    from gennas.cli.app import app
    from gennas.evaluators.base import Result
    from gennas.evaluators.table import TableEvaluator

    monkeypatch.setattr(TableEvaluator, "evaluate", lambda self, archs: [
        Result(a, math.nan, "table", error=f"RuntimeError: can't allocate memory: you tried to allocate {i} bytes")
        for i, a in enumerate(archs)])
    done = CliRunner().invoke(app, ["search", "--method", "random", "-b", "3", "--storage",
                                    f"sqlite:///{tmp_path / 'oom.db'}", "--json"])
    assert done.exit_code == 2 and json.loads(done.stdout)["failed"] == 3
    assert "error: every one of the 3 verifications failed (the last: RuntimeError: can't allocate" in done.stderr


def test_a_second_export_into_a_folder_being_written_is_named(tmp_path, monkeypatch):
    """Two `design --export DIR` at once: the loser failed with "No such file or directory" on the
    other's partial rank folder (user walk 48)."""
    from typer.testing import CliRunner

    from gennas.cli.app import app
    from gennas.cli.design import export_lock

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    export = tmp_path / "cx"
    with export_lock(export):  # another export, writing there now
        done = CliRunner().invoke(app, ["design", "-n", "1", "--export", str(export)])
    assert done.exit_code == 2 and f"another gennas export is writing to {export} now" in done.stderr
    assert CliRunner().invoke(app, ["design", "-n", "1", "--export", str(export)]).exit_code == 0
