"""`gennas design --study ... --device ... --max-latency-ms ... --export` (walk 25 #4): the table's
milliseconds and the budget describe the space's default build (what `gennas latency measure`
times), while the files hold the build the study trained; nothing said so and build.json recorded
no latency. Now a note names both networks and how to export the timed one, and each build.json
records the latency figures with the network they describe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gennas
from conftest import small_trained_study
from gennas.cli.app import app

STUDY = "designer-nb201-w25-mnist-train-seed0"


@pytest.fixture(scope="module")
def trained_study(tmp_path_factory):
    """(home, storage URL) of a small trained study (conftest.small_trained_study)."""
    return small_trained_study(tmp_path_factory.mktemp("w25"), "w25-mnist")


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_a_budgeted_export_of_the_studys_build_says_the_latency_describes_the_default_build(
        trained_study, tmp_path, monkeypatch, register_here, nb201):
    """The user read 'under 54 ms' and pred_ms 39.66 beside exp2/rank01, a network of 48-59 times
    fewer parameters than the default build those milliseconds were for; build.json had no latency."""
    home, storage = trained_study
    monkeypatch.setenv("GENNAS_HOME", str(home))
    register_here("w25box", nb201, 5.0)
    out = tmp_path / "exp"
    done = CliRunner().invoke(app, ["design", "--storage", storage, "--study", STUDY, "-n", "3", "--device", "w25box",
                                    "--max-latency-ms", "20", "--export", str(out), "--json"])
    assert done.exit_code == 0, done.output
    rows = {row["rank"]: row for row in json.loads(done.stdout)}
    notes = [ln for ln in done.stderr.splitlines() if ln.startswith(f"note: {out}: the latency columns")]
    assert len(notes) == 1, done.stderr
    assert ("describe nb201's default build (3x32x32 inputs, 10 classes, channels 16, cells_per_stage 5), the "
            "network `gennas latency measure` times; ranks 1-3 hold another network (1x16x16 inputs, 10 classes, "
            "channels 8, cells_per_stage 1), whose latency was not estimated") in notes[0]
    call = notes[0].split("e.g. rank 1: ", 1)[1]
    for rank, row in rows.items():
        latency = json.loads((out / f"rank{rank:02d}" / "build.json").read_text())["latency"]
        assert (latency["pred_ms"], latency["bound_ms"]) == (row["pred_ms"], row["bound_ms"]), rank
        assert latency["network"] == {"num_classes": 10, "input_shape": [1, 3, 32, 32], "build_options": {}}
        assert latency["describes_this_export"] is False
        assert "this export holds another network (1x16x16 inputs" in latency["describes"]
    # the hint's call writes the network the milliseconds describe
    eval(call, {"gennas": gennas, "__builtins__": __builtins__})  # noqa: S307 - the printed call, as a user runs it
    default = json.loads((tmp_path / "exp" / "rank01-default" / "build.json").read_text())
    assert (default["num_classes"], default["input_shape"], default["build_options"]) == (10, [1, 3, 32, 32], {})
    assert default["arch"] == json.loads((out / "rank01" / "build.json").read_text())["arch"]


def test_the_latency_record_names_the_network_it_describes(nb201):
    """Where the export is the timed network (the default build, options at their defaults) it says
    so; where only the classes differ it says the last layer differs."""
    from gennas.cli.export_ranks import latency_note, latency_record
    from gennas.design.candidate import Candidate

    design = Candidate(nb201.sample(0), None, None, 12.5, 1, latency_bound_ms=14.0)
    record = {"space": "nb201", "num_classes": 10, "input_shape": [1, 3, 32, 32], "build_options": {"channels": 16}}
    same = latency_record(design, record, "w25box", 20.0)
    assert same["describes_this_export"] is True and (same["device"], same["budget_ms"]) == ("w25box", 20.0)
    assert (same["pred_ms"], same["bound_ms"]) == (12.5, 14.0) and "this export" not in same["describes"]
    assert latency_note(Path("exp"), {1: {**record, "latency": same}}) is None
    heads = latency_record(design, {**record, "num_classes": 100})
    assert heads["describes_this_export"] is False and "device" not in heads
    assert heads["describes"].endswith("; this export holds it with 100 classes (another last layer)")
    note = latency_note(Path("exp"), {1: {**record, "num_classes": 100, "latency": heads}}, 20.0)
    assert note == ("the latency columns and the 20 ms budget describe nb201's default build (3x32x32 inputs, 10 "
                    "classes, the full build), the network `gennas latency measure` times; rank 1 holds it with 100 "
                    "classes (another last layer)")
    measured = latency_record(Candidate(nb201.sample(0), None, None, 9.0, 1, latency_measured=True), record)
    assert measured["measured_ms"] == 9.0 and "pred_ms" not in measured and "bound_ms" not in measured
    assert latency_record(Candidate(nb201.sample(0), None, None, None, 1), record) is None


def test_a_kept_rank_records_the_latency_of_this_run(tmp_path):
    """A rerun keeps a rank's files: its build.json's latency is this run's (removed without a device)."""
    from gennas.export import record_latency

    (tmp_path / "build.json").write_text(json.dumps({"space": "nb201", "latency": {"pred_ms": 1.0}}))
    record_latency(tmp_path, {"pred_ms": 2.0})
    assert json.loads((tmp_path / "build.json").read_text())["latency"] == {"pred_ms": 2.0}
    record_latency(tmp_path, None)
    assert json.loads((tmp_path / "build.json").read_text()) == {"space": "nb201"}


def test_write_ranks_records_the_device_and_budget_it_is_given(nb201, tmp_path, capsys):
    """With the design's device and budget (``gennas design`` passes them), build.json records them
    beside the figures, and the note names the budget."""
    from gennas.cli.export_ranks import write_ranks
    from gennas.design.candidate import Candidate

    small = {"in_channels": 1, "input_size": 16, **nb201.small_build_options}
    design = Candidate(nb201.sample(0), None, None, 12.5, 1, latency_bound_ms=14.0)
    write_ranks(tmp_path / "exp", [design], [], 10, set(), 0, small, device="w25box", budget_ms=20.0)
    latency = json.loads((tmp_path / "exp" / "rank01" / "build.json").read_text())["latency"]
    assert (latency["device"], latency["budget_ms"], latency["pred_ms"], latency["bound_ms"]) == ("w25box", 20.0,
                                                                                                   12.5, 14.0)
    assert f"note: {tmp_path / 'exp'}: the latency columns and the 20 ms budget describe nb201's default build" \
        in capsys.readouterr().err
