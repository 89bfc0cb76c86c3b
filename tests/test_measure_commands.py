"""The `gennas latency` commands gennas prints for the user to paste work as printed: a user walk
pasted four that failed or did something else (gennas.surrogates.measure_commands)."""

from __future__ import annotations

import json
import re
import shlex

import pytest
import typer
from typer.testing import CliRunner

import gennas
import gennas.surrogates.measure as measure
from gennas.cli.app import app
from gennas.design.budget import UncalibratedBound, latency_models
from gennas.errors import UnknownDevice
from gennas.surrogates.measure import BrokenDeviceFile, register_device, registered_record
from gennas.surrogates.measure_commands import MEASURE_DEFAULTS, MEASURE_OPTIONS, measure_command
from gennas.surrogates.slot_latency import MIN_TIMED, SlotLatencyModel
from tests.test_measure import FakeClock

runner = CliRunner()
SPACE_NAME = "measure_commands_test_space"  # this module's own (conftest USER_CELL_SPACE), one per test
#: fast, steady timings on the CPU clock (one fake pass each), as a registration's settings
CPU_ARGS = ["--clock", "cpu", "--repeats", "3", "--max-repeats", "3", "--warmup", "0"]


@pytest.fixture
def steady(tmp_path, monkeypatch):
    """A home and a temporary folder of the test's own, and clocks that time every pass at 2 ms."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read afresh
    monkeypatch.setattr(measure, "clock", FakeClock([0.002]))
    monkeypatch.setattr(measure, "cpu_clock", FakeClock([0.002]))


def _pasted(text: str, command: str) -> list[str]:
    """The arguments of the first `gennas latency COMMAND ...` quoted in ``text``, as a shell splits them."""
    found = re.search(rf"`gennas (latency {command} [^`]*)`", text) or \
        re.search(rf"\(gennas (latency {command} [^)]*)\)", text)
    assert found, text
    return shlex.split(found.group(1))


def test_the_defaults_left_out_are_the_measure_commands_own():
    measure_cmd = typer.main.get_command(app).commands["latency"].commands["measure"]
    defaults = {param.opts[0]: param.default for param in measure_cmd.params if param.opts}
    assert {option: defaults[option] for option in MEASURE_OPTIONS.values()} == \
        {MEASURE_OPTIONS[key]: value for key, value in MEASURE_DEFAULTS.items()}


def test_a_command_to_time_a_device_again_carries_its_recorded_settings(nb201):
    record = {"clock": "cpu", "torch_threads": 1, "batch_size": 4, "repeats": 3, "max_spread": 0.2, "cells": 0,
              "torch_device": "cpu", "check": {"samples": [["a", 1.0]] * 30}}
    assert measure_command("box", nb201, record) == ("gennas latency measure --space nb201 --name box --clock cpu "
                                                     "--batch-size 4 --repeats 3 --max-spread 0.2 --check 30 --force")
    # a file from before `cells` was recorded: a device timed at random was timed on its samples
    old = {"model": "slots", "samples": [["a", 1.0]] * 60, "torch_threads": 2}
    assert measure_command("box", nb201, old, force=False) == \
        "gennas latency measure --space nb201 --name box --threads 2 --cells 60"
    assert measure_command("box", nb201, ["not", "a", "record"]) == \
        "gennas latency measure --space nb201 --name box --force"


def test_an_edited_spaces_time_it_again_keeps_the_clock_and_works_pasted(steady, tmp_path, user_cell_space):
    """The walk's `--clock cpu` device, after its YAML was edited: the printed command dropped the
    clock (pasted, timed on the wall clock and refused as noisy; accepted, it switched the clock)."""
    path = user_cell_space(f"{SPACE_NAME}_edited")
    ran = runner.invoke(app, ["latency", "measure", "--space", str(path), "--name", "box", *CPU_ARGS])
    assert ran.exit_code == 0, ran.output
    device = tmp_path / "home" / "devices" / f"{SPACE_NAME}_edited" / "box.json"
    record = json.loads(device.read_text())
    record["space_spec"]["macro"]["channels"] = 64  # timed before the YAML went from 64 channels to 4
    device.write_text(json.dumps(record))
    with pytest.warns(BrokenDeviceFile, match="macro.channels: 64 -> 4") as warned:
        gennas.load_latency_estimator(str(path))
    again = _pasted(str(warned[0].message), "measure")
    assert again == ["latency", "measure", "--space", str(path), "--name", "box", *CPU_ARGS, "--force"]
    pasted = runner.invoke(app, again)
    assert pasted.exit_code == 0, pasted.output
    record = registered_record("box", f"{SPACE_NAME}_edited")
    assert record["clock"] == "cpu" and record["repeats"] == 3 and record["cells"] == 0


def test_a_noisy_devices_warning_keeps_its_clock(tmp_path, monkeypatch, nb201):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    refs = gennas.load_latency_estimator("nb201", with_registered=False).reference_archs()
    register_device("shaky", "nb201", [(a, 1.0 + i) for i, a in enumerate(refs)],
                    {"noisy": True, "clock": "cpu", "batch_size": 2})
    with pytest.warns(UncalibratedBound, match=r"looked noisy.*\(gennas latency measure --space nb201 --name shaky "
                                               r"--clock cpu --batch-size 2 --force\)"):
        latency_models(nb201, "shaky", 30.0)


def test_an_unusable_device_files_fix_carries_force_and_its_settings(tmp_path, monkeypatch):
    """The file is there, so a measure of its name without --force was refused."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    wreck = tmp_path / "devices" / "nb201" / "wreck.json"
    wreck.parent.mkdir(parents=True)
    wreck.write_text(json.dumps({"name": "wreck", "space": "nb201", "samples": [], "clock": "cpu"}))
    with pytest.warns(BrokenDeviceFile, match=r"register the device again \(gennas latency measure --space nb201 "
                                              r"--name wreck --clock cpu --force\)"):
        measure.registered_devices("nb201")


def test_an_interrupted_measure_offers_to_register_only_what_can_be(steady, tmp_path, monkeypatch, user_cell_space):
    """Ctrl-C after 29 of a user space's 60 cells printed a register command that failed (a slot
    model needs 30): too few, the measure to run again is printed instead; enough, the register
    command, with --force where the name is registered (pasted without, it was refused)."""
    path = user_cell_space(f"{SPACE_NAME}_cut")
    space = gennas.load_space(str(path))
    refs = SlotLatencyModel(space).reference_archs()
    register_device("cut", space, [(a, 1.0 + 0.01 * i) for i, a in enumerate(refs)])
    timed = measure.measure_timing
    for stop in (7, MIN_TIMED + 1):
        calls = []

        def interrupted(*args, **kwargs):
            calls.append(1)
            if len(calls) == stop:
                raise KeyboardInterrupt
            return timed(*args, **kwargs)

        monkeypatch.setattr(measure, "measure_timing", interrupted)
        monkeypatch.setattr(measure, "warm_up", lambda *a, **k: None)  # untimed: not counted
        restart = ["--restart"] if stop > 7 else []  # not the first run's 6 timings resumed
        result = runner.invoke(app, ["latency", "measure", "--space", str(path), "--name", "cut", *CPU_ARGS,
                                     "--force", *restart])
        assert result.exit_code == 130 and f"the {stop - 1} of {len(refs)} timings taken are saved" in result.stderr
        if stop - 1 < MIN_TIMED:
            assert "gennas latency register" not in result.stderr
            assert f"too few to register the device ({MIN_TIMED - stop + 1} more are needed" in result.stderr
            assert _pasted(result.stderr, "measure") == ["latency", "measure", "--space", str(path), "--name", "cut",
                                                         *CPU_ARGS, "--force"]
            continue
        monkeypatch.setattr(measure, "measure_timing", timed)
        again = _pasted(result.stderr, "register")
        assert again[-1] == "--force"
        pasted = runner.invoke(app, again)
        assert pasted.exit_code == 0, pasted.output
        assert len(registered_record("cut", space.name)["samples"]) == MIN_TIMED
        assert registered_record("cut", space.name)["clock"] == "cpu"  # the file kept the settings


def test_a_refused_measure_of_a_registered_name_prints_register_with_force(steady, tmp_path, monkeypatch):
    refs = gennas.load_latency_estimator("nb201", with_registered=False).reference_archs()
    register_device("busy", "nb201", [(a, 1.0 + i) for i, a in enumerate(refs)])
    monkeypatch.setattr(measure, "clock", FakeClock([0.001, 0.003, 0.020]))  # noisy: refused
    args = ["latency", "measure", "--name", "busy", "--repeats", "3", "--max-repeats", "3", "--warmup", "0", "--force"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "not registered (the timings look noisy" in refused.stderr
    again = _pasted(refused.stderr, "register")
    assert again[-3:] == ["--name", "busy", "--force"]
    pasted = runner.invoke(app, again)
    assert pasted.exit_code == 0, pasted.output
    assert json.loads((tmp_path / "home" / "devices" / "nb201" / "busy.json").read_text())["noisy"] is True


@pytest.mark.parametrize("command", [["design", "--task", "cifar10"],
                                     ["search", "--method", "random", "--budget", "1", "--storage", "STORE"]])
def test_an_unknown_device_on_the_command_line_gets_commands_not_python(tmp_path, monkeypatch, command):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    command = [str(tmp_path / "s.db") if word == "STORE" else word for word in command]
    result = runner.invoke(app, [*command, "--device", "nobox", "--max-latency-ms", "5"])
    assert result.exit_code == 2 and "unknown device 'nobox'" in result.stderr
    assert "estimator=" not in result.stderr
    assert "`gennas latency measure --space nb201 --name nobox`" in result.stderr
    assert "`gennas latency register FILE --space nb201 --name nobox`" in result.stderr
    with pytest.raises(UnknownDevice, match=r"pass that estimator, estimator=\.\.\."):  # Python keeps its advice
        gennas.Designer("nb201", task="cifar10", device="nobox", max_latency_ms=5.0)
