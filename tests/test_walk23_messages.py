"""Messages a user walk found untrue or missing (walk 23): a shared stated value said to have
failed a check on verified results when there were none (#4), designs said to lie below every
verified result where only the predictor's score does (#5), a device-name typo answered with how to
register the typo (#7), a latency budget that keeps every cell taken without a word (#8), and a
user space named by its name rather than its YAML file (#11)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gennas.cli.app import app


def test_a_shared_value_from_the_shipped_calibration_claims_no_check_on_results(tmp_path, monkeypatch):
    """`gennas design -n 4 --task cifar100` (no result at all) read "all 4 unverified designs state
    70.8198: checked on the verified results ..., the predictions did not tell better from worse"."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    shown = CliRunner().invoke(app, ["design", "-n", "4", "--task", "cifar100"])
    assert shown.exit_code == 0, shown.output
    assert "all 4 unverified designs share the stated value" in shown.stderr
    assert "checked on the verified results" not in shown.stderr
    assert "did not tell better from worse" not in shown.stderr


def test_a_flat_calibration_learned_from_results_still_says_it_was_checked_on_them():
    """Where a calibration learned from 24 verified results (scores unrelated to the cells) found no
    order, the note says so, as before walk 23 #4."""
    import numpy as np

    import gennas
    from gennas.evaluators.base import Result

    designer = gennas.Designer("nb201", task="noise-task", seed=0)
    rng = np.random.default_rng(0)
    designer.tell([Result(a, float(90 + rng.normal()), "train") for a in designer.space.sample_many(24, 10)])
    designs = designer.generate(30)
    assert designer.states_by_flat_learned_calibration
    assert any("unverified designs state" in note and "checked on the verified results" in note
               for note in designs.notes)


def test_designs_flagged_below_are_not_said_to_lie_below_results_they_are_stated_among(bench):
    """"7 of the designs lie below every verified result (flagged below)" sat over designs stated
    94.27-94.55 among results of 93.0-96.25: the flag is the predictor's score, and the note says so."""
    from types import SimpleNamespace

    from gennas.design.candidate import Candidate
    from gennas.design.notes import below_results_note, unstated_note

    a, b = bench.space.sample_many(2, 0)
    own = SimpleNamespace(history=[object()], has_stored_calibration=False, space=SimpleNamespace(benchmark=None))
    among = [Candidate(a, 94.3, 0.5, None, 1, interval=(93.5, 95.0), below_calibration=True)]
    note = below_results_note(own, among)
    assert note.startswith("1 of the designs ranks below every verified result by the predictor's score (flagged "
                           "below; the values stated for them can still lie among the results')")
    assert "lie below every verified result" not in note
    unstated = [Candidate(b, None, None, None, 2, relative_score=-1.0, below_calibration=True)]
    assert unstated_note(unstated).startswith("1 of the designs ranks below every verified result by the "
                                              "predictor's score or the measured tables, further than")


def test_a_device_name_typo_is_asked_about_before_how_to_register_it(tmp_path, monkeypatch, register_here, nb201):
    """`design --device pixel_3` answered "unknown device 'pixel_3'; known: ... (`gennas latency measure
    ... --name pixel_3` times this machine as 'pixel_3' ...)": no "did you mean", and the hint would
    register the typo. A case slip of a registered device (Walk23CPU) too; a name close to none is
    answered as before."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    register_here("walk23cpu", nb201, 2.0)
    for typo, meant in (("pixel_3", "pixel3"), ("Walk23CPU", "walk23cpu"), ("walk23cpuu", "walk23cpu")):
        shown = CliRunner().invoke(app, ["design", "--device", typo, "--max-latency-ms", "20"])
        assert shown.exit_code == 2, shown.output
        assert f"error: unknown device {typo!r}; did you mean {meant!r}? Known: " in shown.stderr
        assert f"(only for a new device named {typo!r}: `gennas latency measure" in shown.stderr
    far = CliRunner().invoke(app, ["design", "--device", "toaster", "--max-latency-ms", "20"])
    assert far.exit_code == 2 and "did you mean" not in far.stderr and "unknown device 'toaster'; known: " in far.stderr
    sample = CliRunner().invoke(app, ["sample", "--device", "Pixel3"])
    assert sample.exit_code == 2 and "did you mean 'pixel3'?" in sample.stderr
    cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    predicted = CliRunner().invoke(app, ["latency", "predict", cell, "--device", "pixel_3"])  # the estimator's own error
    assert predicted.exit_code == 2 and "did you mean 'pixel3'?" in predicted.stderr, predicted.output


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_a_budget_every_cell_keeps_is_said_to_constrain_nothing(tmp_path, monkeypatch, register_here, nb201):
    """`design --device pixel3 --max-latency-ms 20000` (a budget in another unit) designed as without
    a budget, without a word: the note names the slowest cell, measured (pixel3's table) or bounded
    (a registered device), and asks about the unit; a budget that excludes cells gets no such note."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    loose = CliRunner().invoke(app, ["design", "--device", "pixel3", "--max-latency-ms", "20000", "-n", "3"])
    assert loose.exit_code == 0, loose.output
    assert ("note: the budget of 20000 ms keeps every nb201 architecture on pixel3 (the slowest is measured at "
            "36.8 ms), so it constrains nothing: is it in milliseconds?") in loose.stderr
    tight = CliRunner().invoke(app, ["design", "--device", "pixel3", "--max-latency-ms", "20", "-n", "3"])
    assert tight.exit_code == 0 and "constrains nothing" not in tight.stderr
    register_here("walk23cpu", nb201, 2.0)
    bounded = CliRunner().invoke(app, ["design", "--device", "walk23cpu", "--max-latency-ms", "4000", "-n", "3"])
    assert bounded.exit_code == 0, bounded.output
    assert "note: the budget of 4000 ms keeps every nb201 architecture on walk23cpu (the slowest is bounded at " \
           "95% confidence at " in bounded.stderr and "is it in milliseconds?" in bounded.stderr
    searched = CliRunner().invoke(app, ["search", "--method", "random", "-b", "2", "--device", "pixel3",
                                        "--max-latency-ms", "20000", "--storage", str(tmp_path / "s.db"), "--json"])
    assert searched.exit_code == 0, searched.output  # the search says so too, in its JSON's notes
    assert any("keeps every nb201 architecture on pixel3" in note for note in json.loads(searched.stdout)["notes"])


def test_a_space_of_ones_own_named_by_its_name_is_told_to_pass_its_yaml_file(tmp_path, monkeypatch):
    """`design --space w23space` (and `latency devices --space w23space`) said only "unknown search
    space 'w23space'; known: darts, mbv3, nb201", while $GENNAS_HOME held predictor_w23space.pt and
    devices/w23space/."""
    import pytest

    import gennas
    from gennas.errors import UnknownSpace

    home = tmp_path / "home"
    monkeypatch.setenv("GENNAS_HOME", str(home))
    fresh = CliRunner().invoke(app, ["design", "--space", "w23space"])
    assert fresh.exit_code == 2
    # (spaces other tests loaded in this process are known too, some before darts in the list)
    assert "error: unknown search space 'w23space'; known: " in fresh.stderr and "darts, " in fresh.stderr
    assert "; a space of your own is passed by its YAML file, --space path/to/w23space.yaml" in fresh.stderr
    (home / "checkpoints").mkdir(parents=True)
    (home / "checkpoints" / "predictor_w23space.pt").write_bytes(b"")
    for args in (["design", "--space", "w23space", "--task", "cifar10-synflow"], ["latency", "devices", "--space", "w23space"]):
        used = CliRunner().invoke(app, args)
        assert used.exit_code == 2, used.output
        assert (f"files for a space 'w23space' are in $GENNAS_HOME ({home}): pass its YAML file, --space "
                "path/to/w23space.yaml") in used.stderr
    (home / "checkpoints" / "predictor_w23space.pt").unlink()
    (home / "devices" / "w23space").mkdir(parents=True)
    with pytest.raises(UnknownSpace, match=r"files for a space 'w23space' are in \$GENNAS_HOME .*: pass its YAML "
                                           r"file, 'path/to/w23space.yaml'"):
        gennas.load_space("w23space")
