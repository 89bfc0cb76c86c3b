"""An interrupted `gennas latency measure` resumes when run again (walk 25 #9: run again, it timed
every architecture anew; a killed process kept nothing)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import gennas
import gennas.surrogates.measure as measure
from gennas.cli import app
from gennas.surrogates.measure_progress import progress_path
from tests.test_measure import FakeClock

runner = CliRunner()
ARGS = ["latency", "measure", "--name", "box", "--repeats", "3", "--max-repeats", "3", "--warmup", "0"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read afresh: saved timings land in tmp_path
    monkeypatch.setattr(measure, "warm_up", lambda *a, **k: None)  # untimed: not counted
    return tmp_path / "home"


def timing_calls(monkeypatch, stop_at: int | None = None, fail: type[BaseException] = KeyboardInterrupt) -> list[int]:
    """Count measure_timing's calls; the ``stop_at``-th raises ``fail`` (Ctrl-C, or a crash)."""
    timed, calls = measure.measure_timing, []

    def counted(*args, **kwargs):
        calls.append(1)
        if len(calls) == stop_at:
            raise fail
        return timed(*args, **kwargs)

    monkeypatch.setattr(measure, "measure_timing", counted)
    return calls


def registered_ms(home) -> list[float]:
    return [ms for _, ms in json.loads((home / "devices" / "nb201" / "box.json").read_text())["samples"]]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, MemoryError])  # Ctrl-C, or a process that died
def test_the_same_command_run_again_times_only_what_the_interrupted_one_did_not(home, monkeypatch, stop):
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))  # 2 ms a pass in the first run
    timing_calls(monkeypatch, stop_at=7, fail=stop)
    first = runner.invoke(app, ARGS)
    assert first.exit_code != 0 and progress_path("box", "nb201").is_file()
    if stop is KeyboardInterrupt:
        assert "resumes: it times the other 4" in first.stderr

    monkeypatch.setattr(measure, "clock", FakeClock([0.004]))  # 4 ms in the second: which run timed what
    calls = timing_calls(monkeypatch)
    second = runner.invoke(app, ARGS)
    assert second.exit_code == 0, second.output
    assert "resuming an interrupted measure: 6 timings kept" in second.stderr
    assert len(calls) == 4 + 10  # the 4 references left, then the second timings of all 10
    assert registered_ms(home) == pytest.approx([2.0] * 6 + [4.0] * 4)
    assert not progress_path("box", "nb201").exists()  # registered: nothing left to resume
    assert "box" in gennas.load_latency_estimator("nb201").devices


def test_kept_timings_taken_with_other_settings_are_not_mixed_in_without_a_word(home, monkeypatch):
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    timing_calls(monkeypatch, stop_at=7)
    assert runner.invoke(app, ARGS).exit_code == 130

    calls = timing_calls(monkeypatch)
    other = runner.invoke(app, [*ARGS, "--batch-size", "4"])
    assert other.exit_code == 2 and not calls  # said before any timing
    error = other.stderr.strip().splitlines()[-1]
    assert "kept 6 timings" in error and "--batch-size 1 there, 4 here" in error and "--restart" in error

    restarted = runner.invoke(app, [*ARGS, "--batch-size", "4", "--restart"])
    assert restarted.exit_code == 0, restarted.output
    assert len(calls) == 10 + 10 and "resuming" not in restarted.stderr


def test_an_interrupted_check_is_finished_by_the_command_it_prints(home, monkeypatch):
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    timing_calls(monkeypatch, stop_at=10 + 10 + 3)  # references, second timings, 2 of the 4 checked
    first = runner.invoke(app, [*ARGS, "--check", "4"])
    assert first.exit_code == 130
    assert "the check was interrupted: 'box' is registered without it" in first.stderr
    again = first.stderr.split("`")[1].split()[1:]  # the printed `gennas latency measure ...`
    assert again[-1] == "--force" and again[again.index("--check") + 1] == "4"

    calls = timing_calls(monkeypatch)
    finished = runner.invoke(app, again)
    assert finished.exit_code == 0, finished.output
    assert len(calls) == 2  # only the check's other 2
    record = json.loads((home / "devices" / "nb201" / "box.json").read_text())
    assert len(record["check"]["samples"]) == 4 and not progress_path("box", "nb201").exists()
