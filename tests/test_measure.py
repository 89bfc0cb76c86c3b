"""Robust latency measurement: repeats until the spread is small, noisy or implausible timings
are refused unless --accept-noisy, the spread is recorded with each measurement."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
import gennas.surrogates.measure as measure
from gennas.cli import app
from gennas.errors import GennasError
from gennas.surrogates.measure import NoiseLimits, Timing, noise_problems, spread_of, time_calls

runner = CliRunner()


class FakeClock:
    """A clock whose every reading moves on by a step drawn from ``steps`` (seconds), seeded:
    one step makes every pass take the same time, several make a noisy timer."""

    def __init__(self, steps: list[float], seed: int = 0) -> None:
        self.now = 0.0
        self.steps = steps
        self.rng = np.random.default_rng(seed)

    def __call__(self) -> float:
        self.now += float(self.rng.choice(self.steps))
        return self.now


def test_spread_is_iqr_over_median():
    assert spread_of([10.0]) == 0.0
    assert spread_of([10.0, 10.0, 10.0, 10.0]) == 0.0
    assert spread_of([8.0, 9.0, 10.0, 11.0, 12.0]) == pytest.approx(2.0 / 10.0)


def test_time_calls_stops_when_steady_and_repeats_when_noisy(monkeypatch):
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    steady = time_calls(lambda: None, warmup=1, min_repeats=5, max_repeats=40)
    assert steady.repeats == 5 and steady.spread == pytest.approx(0.0, abs=1e-9) and steady.ms == pytest.approx(2.0)
    monkeypatch.setattr(measure, "clock", FakeClock([0.001, 0.010]))
    noisy = time_calls(lambda: None, warmup=1, min_repeats=5, max_repeats=40)
    assert noisy.repeats == 40 and noisy.spread > 0.5  # never settled: ran to the limit, spread kept
    with pytest.raises(GennasError, match="timing basis"):
        time_calls(lambda: None, basis="sundial")
    with pytest.raises(GennasError, match="repeats"):
        time_calls(lambda: None, min_repeats=5, max_repeats=2)


def test_cpu_clock_leaves_out_time_the_core_was_elsewhere(monkeypatch):
    # Wall time runs 10x faster than this thread's CPU time: the other processes held the core.
    monkeypatch.setattr(measure, "clock", FakeClock([0.010]))
    monkeypatch.setattr(measure, "cpu_clock", FakeClock([0.001]))
    t = time_calls(lambda: None, warmup=0, min_repeats=3, max_repeats=3, basis="cpu")
    assert t.ms == pytest.approx(1.0) and t.wall_ms == pytest.approx(10.0)


def test_noise_problems_name_spread_and_ordering():
    limits = NoiseLimits(max_spread=0.1, flops_ratio=2.0, slowdown=3.0)
    sound = [Timing(2.0, 0.02, 10), Timing(5.0, 0.03, 10)]
    assert noise_problems(["small", "big"], sound, [1e6, 4e6], limits) == []
    noisy = [Timing(2.0, 0.40, 50), Timing(5.0, 0.03, 10)]
    [problem] = noise_problems(["small", "big"], noisy, [1e6, 4e6], limits)
    assert problem.startswith("small: spread 0.40")
    backwards = [Timing(30.0, 0.02, 10), Timing(5.0, 0.03, 10)]  # 4x fewer FLOPs, 6x slower
    [problem] = noise_problems(["small", "big"], backwards, [1e6, 4e6], limits)
    assert "small (1 MFLOPs) took 30.00 ms, 6.0x as long as big" in problem


@pytest.mark.slow  # counts the FLOPs of 10 networks: ~3 s alone, 15 s on a busy machine
def test_bundled_cpu_and_gpu_references_pass_the_ordering_check():
    """The check must not refuse real devices: the bundled CPU and GPU latencies of the nb201
    references (HELP's measurements) pass it. Phones do not (pixel3's TFLite prunes some
    cells to ~0 ms; a50 and s7 report whole ms) but they are not timed with this tool."""
    est = gennas.load_latency_estimator("nb201", with_registered=False)
    bench = gennas.load_benchmark("nb201")
    refs = est.reference_archs()
    flops = [float(bench.space.count_flops(a)) for a in refs]
    labels = [bench.space.to_string(a) for a in refs]
    phones = {"pixel3", "samsung_a50", "samsung_s7", "essential_ph_1"}
    for device in sorted(set(bench.devices) - phones):
        timings = [Timing(float(ms), 0.0, 10) for ms in bench.latency_of(refs, device)]
        assert noise_problems(labels, timings, flops) == [], device


def test_noisy_timer_is_refused_without_accept_noisy(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read afresh
    monkeypatch.setattr(measure, "clock", FakeClock([0.001, 0.003, 0.020]))
    args = ["latency", "measure", "--name", "busy", "--repeats", "3", "--max-repeats", "3", "--warmup", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "[10/10]" in result.stderr  # plain progress lines off a terminal, then the one-line error
    error = result.stderr.strip().splitlines()[-1]
    assert "not registered (the timings look noisy" in error and "--accept-noisy" in error
    assert not list((tmp_path / "home").glob("devices/**/busy.json"))
    saved = json.loads(next(tmp_path.glob("gennas-measured-busy-*.json")).read_text())  # not lost
    assert saved["noisy"] is True and len(saved["spreads"]) == len(saved["samples"]) == 10
    assert max(saved["spreads"]) > 0.1

    accepted = runner.invoke(app, args + ["--accept-noisy", "--json"])
    assert accepted.exit_code == 0, accepted.output
    record = json.loads((tmp_path / "home" / "devices" / "nb201" / "busy.json").read_text())
    assert record["noisy"] is True and record["torch_threads"] == 1 and len(record["spreads"]) == 10
    assert "registered despite" not in accepted.stdout  # --json: only the JSON on stdout
    assert json.loads(accepted.stdout)["problems"]
    assert "busy" in gennas.load_latency_estimator("nb201").devices


def test_an_interrupted_measure_keeps_the_timings_taken(tmp_path, monkeypatch):
    """Ctrl-C after 6 of the 10 reference cells threw the 6 timings away (a walk: minutes of a
    phone's timing); they are saved to a file that `gennas latency register` takes."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read afresh
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    timed, calls = measure.measure_timing, []

    def interrupted_at_the_seventh(*args, **kwargs):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return timed(*args, **kwargs)

    monkeypatch.setattr(measure, "measure_timing", interrupted_at_the_seventh)
    monkeypatch.setattr(measure, "warm_up", lambda *a, **k: None)  # untimed: not counted
    result = runner.invoke(app, ["latency", "measure", "--name", "cut", "--repeats", "3", "--warmup", "0"])
    assert result.exit_code == 130 and "6 of 10 timings taken are saved in" in result.stderr
    path = next(tmp_path.glob("gennas-measured-cut-*.json"))
    assert len(json.loads(path.read_text())["samples"]) == 6
    registered = runner.invoke(app, ["latency", "register", str(path), "--name", "cut"])
    assert registered.exit_code == 0, registered.output
    assert "cut" in gennas.load_latency_estimator("nb201").devices


def test_steady_timer_is_registered_with_its_spreads(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    result = runner.invoke(app, ["latency", "measure", "--name", "quiet", "--repeats", "3", "--warmup", "0"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "home" / "devices" / "nb201" / "quiet.json").read_text())
    assert record["noisy"] is False and record["passes"] == [3] * 10
    assert record["max_seconds"] == 20.0  # every timing setting is recorded (it was left out)
    assert record["spreads"] == pytest.approx([0.0] * 10, abs=1e-9)


def test_check_times_random_cells_after_registering_and_says_what_the_bound_covered(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    args = ["latency", "measure", "--name", "checked", "--repeats", "3", "--warmup", "0", "--check", "4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "check: its 95% latency bound covered" in result.output and "of 4 architectures" in result.output
    record = json.loads((tmp_path / "home" / "devices" / "nb201" / "checked.json").read_text())
    assert len(record["check"]["samples"]) == 4 and record["check"]["confidence"] == 0.95
    assert all(ms == pytest.approx(2.0) for _, ms in record["check"]["samples"])
    assert len(record["samples"]) == 10  # the references alone adapt the estimator
    bad = runner.invoke(app, ["latency", "measure", "--name", "x", "--check", "-1"])
    assert bad.exit_code == 2 and "--check must be 0 or more" in bad.stderr


def test_measure_options_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    for bad in (["--clock", "sundial"], ["--max-spread", "0"], ["--repeats", "5", "--max-repeats", "2"]):
        result = runner.invoke(app, ["latency", "measure", "--name", "x", *bad])
        assert result.exit_code == 2, (bad, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, bad


def test_measure_cells_in_a_space_with_an_estimator_times_its_references_first(tmp_path, monkeypatch):
    """`--cells 30` on nb201 times the estimator's 10 references, then 30 random cells: the
    references adapt the estimator the fit may correct, the 30 are fitted and calibrate the bound."""
    from gennas.surrogates.latency import load_latency_estimator

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    result = runner.invoke(app, ["latency", "measure", "--name", "rnd", "--cells", "30", "--repeats", "3",
                                 "--warmup", "0"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "home" / "devices" / "nb201" / "rnd.json").read_text())
    references = load_latency_estimator("nb201", with_registered=False).reference_archs()
    nb201 = gennas.load_space("nb201")
    assert [a for a, _ in record["samples"][:10]] == [nb201.to_string(a) for a in references]
    assert len({a for a, _ in record["samples"]}) == 40 and record["model"] == "slots"
    model = load_latency_estimator("nb201")
    assert model.slots.fits["rnd"].count == 30
    assert model.predict(references[:2], "rnd") == pytest.approx([2.0, 2.0], rel=0.05)


def test_a_device_timed_by_gennas_is_predicted_as_the_networks_gennas_builds(tmp_path, monkeypatch):
    """`gennas latency measure` times gennas' networks, which skip an op whose input is dead; the
    NAS-Bench-201 tables' code ran every op. A device it registered (its build recorded) predicts
    a cell as the network that runs; one registered from timings taken elsewhere, as listed."""
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.measure import register_device
    from gennas.surrogates.slot_latency import as_computed

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    bench = gennas.load_benchmark("nb201")
    refs = load_latency_estimator("nb201", with_registered=False).reference_archs()
    samples = list(zip(refs, bench.latency_of(refs, "gold_6240")))
    register_device("measured_box", "nb201", samples, {"build": measure.table_build_options(bench.space)})
    register_device("phone_box", "nb201", samples, {})
    dead = next(a for a in bench.space.sample_many(200, 3)
                if bench.space.choices(a) != bench.space.computed_choices(a) and not bench.space.output_is_constant(a))
    model = load_latency_estimator("nb201")
    runs = as_computed(bench.space, [dead])
    assert model.predict([dead], "measured_box") == pytest.approx(model.predict(runs, "measured_box"))
    assert model.predict([dead], "phone_box") != pytest.approx(model.predict(runs, "phone_box"))
    assert model.predict([dead], "phone_box") != pytest.approx(model.predict([dead], "measured_box"))
    # its predictions are ranked among its predictions of the networks that run (the bound's bin):
    # among the listed ones, whose dead ops it would add, they sat lower (mean rank 0.46)
    every = list(bench.space.enumerate())
    assert model.predicted_rank(model.predict(every, "measured_box"), "measured_box").mean() == pytest.approx(0.5)


def test_a_registration_whose_write_fails_leaves_the_earlier_one_whole(tmp_path, monkeypatch):
    """Walk 34 #5: the device file was rewritten in place, and a write that failed (a full disk)
    left 512 bytes of JSON: the earlier registration's timings were lost."""
    from pathlib import Path

    from gennas.surrogates.measure import register_device

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    bench = gennas.load_benchmark("nb201")
    samples = list(zip(bench.archs()[:12], bench.latency_of(bench.archs()[:12], "pixel3")))
    path = register_device("my_box", "nb201", samples, {})
    before = path.read_text()
    written = Path.write_text

    def full_disk(self: Path, text: str, *args, **kwargs) -> int:
        written(self, text[:512], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError):
        register_device("my_box", "nb201", samples[:6], {})
    monkeypatch.setattr(Path, "write_text", written)
    assert path.read_text() == before and len(json.loads(before)["samples"]) == 12
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
