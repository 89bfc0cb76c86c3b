"""CLI: readable output, JSON for scripts, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import optuna
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from tests.conftest import BEST_C10

runner = CliRunner()


def test_spaces():
    result = runner.invoke(app, ["spaces", "--json"])
    assert result.exit_code == 0
    names = {row["space"] for row in json.loads(result.stdout)}
    assert {"nb201", "mbv3"} <= names


def test_show_json_values():
    result = runner.invoke(app, ["show", BEST_C10, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["cifar10_acc"] == pytest.approx(94.3733)
    assert 0.07 < record["params_M"] < 1.54  # within the space's published range
    assert record["pixel3_ms"] > 0


def test_sample_json_is_seeded():
    a = runner.invoke(app, ["sample", "-n", "3", "--seed", "5", "--json"])
    b = runner.invoke(app, ["sample", "-n", "3", "--seed", "5", "--json"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    rows = json.loads(a.stdout)
    assert len(rows) == 3 and all("cifar100_acc" in r and "pixel3_ms" in r for r in rows)


def test_sample_mbv3_table():
    result = runner.invoke(app, ["sample", "--space", "mbv3", "-n", "2", "--seed", "0"])
    assert result.exit_code == 0 and "params_M" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["show", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "unknown op 'conv'"),
    (["show", "k3e3-k3e3", "--space", "mbv3"], "5 '|'-separated stages"),
    (["sample", "--space", "nope"], "unknown search space 'nope'"),
    (["sample", "--device", "toaster"], "unknown device 'toaster'"),
    (["sample", "-n", "0"], "-n must be from 1 to 100,000, got 0"),
    (["sample", "-n", "1000000000"], "-n must be from 1 to 100,000"),
    (["sample", "--space", "darts", "--device", "pixel3"], "only for a space whose benchmark measured every cell"),
    (["search", "--top", "-1", "-b", "1"], "--top must be a positive number of rows, got -1"),
    (["latency", "measure", "--name", "x", "--repeats", "0"], "--repeats must be at least 1, got 0"),
    (["latency", "measure", "--name", "x", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["latency", "measure", "--name", "x", "--torch-device", "tpu"], "unknown torch device 'tpu'"),
    (["search", "--top", "0", "-b", "1"], "--top must be a positive number of rows, got 0"),
    (["sample", "--seed", "-1"], "--seed must be an integer from 0 to 4294967295, got -1"),
    (["design", "--task", "cifar10", "--seed", "-1"], "--seed must be an integer"),
    (["show", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~\u00b9|+|none~0|none~1|none~2|"], "must look like op~"),
    (["show", "|nor_conv_3x3~\u0660|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"], "must look like op~"),
])
def test_bad_input_one_line_exit_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_console_script_entry_point():
    # The installed script prints one line and exits 2, without a traceback.
    for module in ("gennas.cli", "gennas"):  # python -m gennas too, as a user tries first
        proc = subprocess.run([sys.executable, "-m", module, "show", "|x~0|"], capture_output=True, text=True)
        assert proc.returncode == 2
        assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("method", ["random", "evolution", "tpe"])
def test_search_negative_seed_is_one_line(tmp_path, method):
    result = runner.invoke(app, ["search", "--seed", "-1", "--method", method, "-b", "2",
                                 "--storage", str(tmp_path / "s.db"), "-q"])
    assert result.exit_code == 2 and "--seed must be an integer" in result.stderr
    assert not (tmp_path / "s.db").exists()  # refused before the storage was touched


def test_latency_measure_checks_gennas_home_before_measuring(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GENNAS_HOME", str(blocker / "home"))  # a folder under a file: never writable
    import gennas.surrogates.measure as measure

    def never(*args, **kwargs):
        raise AssertionError("measured before checking that the result can be written")

    monkeypatch.setattr(measure, "measure_timing", never)  # warm_up's untimed passes too
    result = runner.invoke(app, ["latency", "measure", "--name", "here"])
    assert result.exit_code == 2, result.output
    assert "cannot register devices: cannot write to" in result.stderr and "GENNAS_HOME" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_latency_measure_keeps_measurements_when_registering_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    import gennas.surrogates.measure as measure

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read afresh
    monkeypatch.setattr(measure, "measure_timing",
                        lambda arch, *a, **k: measure.Timing(1.0 + len(str(arch)) / 100, 0.01, 10))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", "devices/here.json")

    monkeypatch.setattr(measure, "register_device", full_disk)
    result = runner.invoke(app, ["latency", "measure", "--name", "here"])
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr and "the measurements are saved in" in result.stderr
    saved = json.loads(next(tmp_path.glob("gennas-measured-here-*.json")).read_text())
    assert saved["name"] == "here" and len(saved["samples"]) >= 2 and all(ms > 1 for _, ms in saved["samples"])


def test_proxy_that_needs_data_uses_bundled_images(tmp_path):
    db = str(tmp_path / "p.db")
    result = runner.invoke(app, ["search", "--evaluator", "proxy:naswot", "--method", "random", "-b", "1",
                                 "--storage", db, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["verified"] == 1 and out["failed"] == 0
    assert out["study"] == "random-nb201-cifar10-proxy:naswot-mnist-seed0"
    # scores on other images than the task's are a task of their own, named with the images
    attrs = optuna.load_study(study_name=out["study"], storage=f"sqlite:///{db}").user_attrs
    assert attrs["learned_task"] == "cifar10-naswot-mnist" and attrs["data"] == "mnist"
    bad = runner.invoke(app, ["search", "--evaluator", "proxy:naswot", "--data", "cifar10", "--storage", db])
    assert bad.exit_code == 2 and "unknown image dataset (--data) 'cifar10'" in bad.stderr
    bad = runner.invoke(app, ["search", "--data", "mnist", "--storage", db])
    assert bad.exit_code == 2 and "--data chooses the images of a proxy or training evaluator" in bad.stderr
    fresh = tmp_path / "never.db"  # a refused search leaves no empty database behind
    bad = runner.invoke(app, ["search", "--evaluator", "train", "--task", "cifar10", "--storage", str(fresh)])
    assert bad.exit_code == 2 and "needs bundled images" in bad.stderr and not fresh.exists()


def test_resume_with_other_settings_is_refused_unless_forced(tmp_path):
    db = str(tmp_path / "r.db")
    base = ["search", "--method", "random", "--storage", db, "--study", "s", "--json"]
    first = runner.invoke(app, [*base, "-b", "2", "--device", "pixel3", "--max-latency-ms", "5"])
    assert first.exit_code == 0, first.output
    refused = runner.invoke(app, [*base, "-b", "3", "--resume"])
    assert refused.exit_code == 2
    assert "was run with device='pixel3', max_latency_ms=5.0, this run has device=None" in refused.stderr
    forced = runner.invoke(app, [*base, "-b", "3", "--resume", "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["verified"] == 3
    from gennas.search.studies import study_settings

    attrs = study_settings(db, "s")
    assert attrs["device"] is None and attrs["budget"] == 3
    assert attrs["gennas_settings_changes"] == [{"after": 2, "from": {"device": "pixel3", "max_latency_ms": 5.0},
                                                 "to": {"device": None, "max_latency_ms": None}}]
    assert runner.invoke(app, [*base, "-b", "3", "--force"]).exit_code == 2  # --force without --resume


def test_a_resume_without_task_takes_the_study_task(tmp_path):
    # a user walk: resuming a cifar100 study without --task was refused as task='cifar10' (with
    # --force it mixed cifar10 scores in), though `gennas design --study` takes the study's task
    db = str(tmp_path / "t.db")
    base = ["search", "--method", "random", "--storage", db, "--study", "s", "--json"]
    assert runner.invoke(app, [*base, "-b", "2", "--task", "cifar100"]).exit_code == 0
    resumed = runner.invoke(app, [*base, "-b", "3", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["verified"] == 3
    from gennas.search.studies import study_settings

    assert study_settings(db, "s")["task"] == "cifar100"
    other = runner.invoke(app, [*base, "-b", "4", "--resume", "--force", "--task", "cifar10"])
    assert other.exit_code == 2 and "start a new study for task 'cifar10'" in other.stderr
    fresh = runner.invoke(app, ["search", "--method", "random", "--storage", db, "-b", "1", "--json"])
    assert json.loads(fresh.stdout)["study"] == "random-nb201-cifar10-table-seed0"  # not resumed: cifar10


def test_a_python_callable_study_is_resumed_from_python_and_designed_with_its_direction(tmp_path, monkeypatch, bench):
    """A user walk: `search --resume --study <a study made from Python with a callable>` failed with
    "unknown nb201 table dataset 'mytask-err'" (the default table evaluator on the study's task)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = str(tmp_path / "p.db")
    gennas.Designer("nb201", task="mytask-err", seed=0, direction="minimize").search(
        lambda a: 1 - bench.accuracy(a, "cifar10") / 100, budget=2, storage=db)
    study = "designer-nb201-mytask-err-callable-seed0"
    said = runner.invoke(app, ["search", "--storage", db, "--study", study, "--resume", "-b", "3"])
    assert said.exit_code == 2 and "table dataset" not in said.stderr, said.output
    text = " ".join(said.stderr.split())
    assert f"study '{study}' was verified by a Python callable" in text and "resume=True" in text
    # `design --json` says which scores are best on every row (it said nowhere that lower is better)
    designed = runner.invoke(app, ["design", "--storage", db, "--study", study, "-n", "2", "--json"])
    assert designed.exit_code == 0, designed.output
    assert [row["direction"] for row in json.loads(designed.stdout)] == ["minimize", "minimize"]
    table = runner.invoke(app, ["design", "--storage", db, "--study", study, "-n", "2"])
    assert "scores minimized: lower is better" in " ".join(table.stdout.split())
    maximised = runner.invoke(app, ["design", "--task", "cifar10", "-n", "1", "--json"])
    assert json.loads(maximised.stdout)[0]["direction"] == "maximize"


def test_a_new_dataset_on_the_table_is_answered_with_python_that_runs_and_keeps_the_unit():
    # a user walk: the advice was .search(lambda a: bench.accuracy(a, ...)), whose scores have no
    # unit; the README advises CallableEvaluator(fn, kind="table")
    said = runner.invoke(app, ["search", "--task", "new-cifar100", "--evaluator", "table", "-b", "2"])
    assert said.exit_code == 2 and "CallableEvaluator(" in said.stderr and "kind='table'" in said.stderr
    code = said.stderr.strip().split("in Python: ", 1)[1]  # the message ends with the snippet
    found: dict = {}
    exec(code.replace("budget=20", "budget=2").replace("gennas.Designer(", "result = gennas.Designer(", 1), found)
    assert {r.kind for r in found["result"].history} == {"table"}  # accuracies in %, not unit-less


def test_default_study_names_include_the_latency_budget(tmp_path):
    db = str(tmp_path / "n.db")
    plain = runner.invoke(app, ["search", "--method", "random", "-b", "2", "--storage", db, "--json"])
    budgeted = runner.invoke(app, ["search", "--method", "random", "-b", "2", "--storage", db, "--json",
                                   "--device", "pixel3", "--max-latency-ms", "5"])
    assert plain.exit_code == 0 and budgeted.exit_code == 0, budgeted.output
    assert json.loads(plain.stdout)["study"] == "random-nb201-cifar10-table-seed0"
    # wall and CPU seconds both (walk 35 #8: wall time alone was recorded)
    assert {"elapsed_s", "cpu_s"} <= set(json.loads(plain.stdout)) and json.loads(plain.stdout)["cpu_s"] > 0
    assert json.loads(budgeted.stdout)["study"] == "random-nb201-cifar10-table-pixel3-5ms-seed0"


def test_search_says_why_it_stopped_early(tmp_path):
    """pixel3 at 1.07 ms: two distinct working nb201 cells keep it; a 5-verification search
    verifies both and says why it stopped, on stderr and in --json."""
    base = ["search", "--method", "designer", "-b", "5", "--device", "pixel3", "--max-latency-ms", "1.07",
            "--storage", str(tmp_path / "t.db")]
    shown = runner.invoke(app, [*base, "-q"])
    assert shown.exit_code == 0, shown.output
    assert "note: stopped after 2 of 5 verifications" in shown.stderr and "only 2 distinct" in shown.stderr
    stored = json.loads(runner.invoke(app, [*base, "--json", "--study", "again"]).stdout)
    assert stored["exhausted"] and stored["verified"] == 2 and len(stored["notes"]) == 2


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_baselines_keep_a_budget_on_a_registered_device_and_refuse_an_impossible_one(tmp_path, monkeypatch, bench):
    """A device registered from its reference latencies (silver_4114's, as `gennas latency measure`
    would) has no table: a baseline's budget is judged by the estimator's 95 % bound, as the
    designer's is; a budget no working cell keeps fails before verifying, naming the fastest; the
    user chooses the confidence (--latency-confidence)."""
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.measure import register_device

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    refs = load_latency_estimator("nb201", with_registered=False).reference_archs()
    register_device("lab_box", "nb201", list(zip(refs, bench.latency_of(refs, "silver_4114"))))
    estimator = load_latency_estimator("nb201")
    db = str(tmp_path / "r.db")
    ran = runner.invoke(app, ["search", "--method", "random", "-b", "4", "--device", "lab_box",
                              "--max-latency-ms", "20", "--storage", db, "--json"])
    assert ran.exit_code == 0, ran.output
    verified = [bench.space.from_string(row["arch"]) for row in json.loads(ran.stdout)["top"]]
    assert len(verified) == 4 and np.all(estimator.upper_bound(verified, "lab_box") <= 20)
    for method in ("random", "designer"):
        refused = runner.invoke(app, ["search", "--method", method, "-b", "4", "--device", "lab_box",
                                      "--max-latency-ms", "0.5", "--storage", db])
        assert refused.exit_code != 0 and "no nb201 architecture is bounded" in refused.stderr, refused.output
        assert "Traceback" not in refused.output

    # the confidence is the user's: a looser bound at 80 %, recorded with the study and in its name
    loose = runner.invoke(app, ["search", "--method", "random", "-b", "2", "--device", "lab_box", "--max-latency-ms",
                                "20", "--latency-confidence", "0.8", "--storage", db, "--json"])
    assert json.loads(loose.stdout)["study"] == "random-nb201-cifar10-table-lab_box-20ms-conf0.8-seed0"
    designs = {}
    for confidence in ("0.8", "0.99"):
        shown = runner.invoke(app, ["design", "--task", "cifar10", "--device", "lab_box", "--max-latency-ms", "20",
                                    "-n", "3", "--latency-confidence", confidence, "--json"])
        assert shown.exit_code == 0, shown.output
        designs[confidence] = json.loads(shown.stdout)
    # judged by the bound, or by the device's own timing where it timed the cell (a reference cell)
    assert all(0 < (row["bound_ms"] or row["measured_ms"]) <= 20 for row in designs["0.8"])
    assert all(0 < (row["bound_ms"] or row["measured_ms"]) <= 20 for row in designs["0.99"])
    assert {row["bound_confidence"] for c in designs for row in designs[c]} == {0.8, 0.99}
    refused = runner.invoke(app, ["design", "--task", "cifar10", "--device", "lab_box", "--max-latency-ms", "20",
                                  "--latency-confidence", "0.3"])
    assert refused.exit_code != 0 and "calibrated for confidence in [0.5, 0.995]" in refused.stderr


def test_a_resume_with_another_latency_confidence_is_refused_or_forced_not_a_new_study(tmp_path, monkeypatch, bench):
    """The confidence is in a default study name: `--resume --latency-confidence 0.6` started a new
    study ("0 resumed", everything verified again) where any other changed setting is refused."""
    from gennas.surrogates.latency import load_latency_estimator
    from gennas.surrogates.measure import register_device

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    refs = load_latency_estimator("nb201", with_registered=False).reference_archs()
    register_device("conf_box", "nb201", list(zip(refs, bench.latency_of(refs, "silver_4114"))))
    base = ["search", "--method", "random", "--device", "conf_box", "--max-latency-ms", "20",
            "--storage", str(tmp_path / "c.db"), "--json", "-q"]
    first = runner.invoke(app, [*base, "-b", "2"])
    assert first.exit_code == 0, first.output
    study = json.loads(first.stdout)["study"]
    refused = runner.invoke(app, [*base, "-b", "3", "--resume", "--latency-confidence", "0.6"])
    assert refused.exit_code == 2 and "was run with latency_confidence=0.95" in refused.stderr, refused.output
    forced = runner.invoke(app, [*base, "-b", "3", "--resume", "--latency-confidence", "0.6", "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["study"] == study and json.loads(forced.stdout)["resumed"] == 2


def test_a_resume_of_a_user_space_study_without_space_or_evaluator_says_what_it_needs(tmp_path, monkeypatch,
                                                                                         user_cell_space):
    """A bare `search --study S --resume` of a user space's study failed with "unknown nb201 table
    dataset 'digits'", and with --space with "no bundled table": the study's space is named, and
    its evaluator (and training settings) are taken as its task is."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = user_cell_space("resumedspace")
    base = ["search", "--method", "random", "--storage", str(tmp_path / "u.db"), "--study", "s", "--json", "-q"]
    first = runner.invoke(app, [*base, "--space", str(path), "--task", "digits", "--evaluator", "train",
                                "--limit", "20", "-b", "2"])
    assert first.exit_code == 0, first.output
    bare = runner.invoke(app, [*base, "--resume", "-b", "3"])
    assert bare.exit_code == 2 and "holds resumedspace architectures, not nb201" in bare.stderr, bare.output
    assert f"resume it with --space {path}" in bare.stderr
    spaced = runner.invoke(app, [*base, "--resume", "-b", "3", "--space", str(path)])
    assert spaced.exit_code == 0, spaced.output
    assert json.loads(spaced.stdout)["resumed"] == 2 and json.loads(spaced.stdout)["top"][0]["kind"] == "train"


def test_read_only_storage_fails_before_verifying(tmp_path, monkeypatch):
    db = tmp_path / "ro.db"
    assert runner.invoke(app, ["search", "--method", "random", "-b", "1", "--storage", str(db), "--study", "s",
                               "-q"]).exit_code == 0
    calls = []
    import gennas.cli.search as cli_search

    real = cli_search.make_evaluator

    def counting(*args, **kwargs):
        evaluator = real(*args, **kwargs)
        return lambda arch: calls.append(arch) or evaluator.evaluate([arch])[0].score

    monkeypatch.setattr(cli_search, "make_evaluator", counting)
    ro = f"sqlite:///file:{db}?mode=ro&uri=true"  # read-only even for root
    result = runner.invoke(app, ["search", "--method", "random", "-b", "3", "--storage", ro, "--study", "s",
                                 "--resume", "-q"])
    assert result.exit_code == 2 and "cannot write to storage" in result.stderr and "readonly" in result.stderr
    assert calls == [] and len(result.stderr.strip().splitlines()) == 1


def test_the_shipped_supernet_verifies_from_the_command_line(tmp_path):
    """``--evaluator supernet`` scores with the shipped nb201 MNIST supernet (the README and DESIGN list
    it among the verifiers; the CLI said "unknown evaluator"); another task is refused by name."""
    db = str(tmp_path / "sn.db")
    out = runner.invoke(app, ["search", "--method", "random", "--evaluator", "supernet", "--task", "mnist", "-b", "2",
                              "--storage", db, "--json"])
    assert out.exit_code == 0, out.output
    top = json.loads(out.stdout)["top"]
    assert len(top) == 2 and all(r["kind"] == "supernet" and 10 <= r["score"] <= 100 for r in top)
    bad = runner.invoke(app, ["search", "--evaluator", "supernet", "--task", "cifar10", "--storage", db])
    assert bad.exit_code == 2 and "--space nb201 --task mnist" in bad.stderr


def test_an_interrupt_says_what_the_command_keeps(capsys):
    """Ctrl-C printed the search's "--resume continues it" for every command (train, latency
    measure, report have no --resume)."""
    import typer

    from gennas.cli.output import friendly

    def interrupted() -> None:
        raise KeyboardInterrupt

    for wrapped, said in ((friendly(interrupted), "interrupted\n"),
                          (friendly(interrupted="interrupted: kept")(interrupted), "interrupted: kept\n")):
        with pytest.raises(typer.Exit) as stop:
            wrapped()
        assert stop.value.exit_code == 130 and capsys.readouterr().err == said


def test_design_on_a_misspelled_task_is_refused_naming_the_known_one_and_the_way_to_a_new_one():
    """A typo is a new dataset to the predictor (ranks, no accuracy). On the command line it is
    refused before any work: a pipeline's `--task CIFAR10 --json` went on with exit 0 and rows
    without the accuracy columns (walk 28 #2). A new dataset named on purpose is designed for."""
    for typo, meant in (("cifar11", "cifar10"), ("CIFAR100", "cifar100")):  # a slip of case said nothing
        result = runner.invoke(app, ["design", "--task", typo, "-n", "1", "--json"])
        assert result.exit_code == 2 and not result.stdout, result.output
        assert f"did you mean '{meant}'?" in result.stderr and f"'new-{typo}'" in result.stderr, result.stderr
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["design", "--task", "new-CIFAR100", "-n", "1", "--json"])
    assert result.exit_code == 0 and "did you mean" not in result.stderr, result.output


def test_a_task_name_slip_is_a_warning_class_python_can_refuse():
    """In Python a slip stays a warning (a new dataset may be named so), of its own class."""
    import warnings

    import gennas
    from gennas.design.task_names import TaskNameSlip

    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=TaskNameSlip)
        with pytest.raises(TaskNameSlip, match="did you mean 'cifar10'"):
            gennas.Designer("nb201", task="CIFAR10", seed=0)


def test_a_holdout_predictor_on_its_own_dataset_or_a_suffixed_name_is_not_asked_about_a_typo():
    """The documented transfer setting (the predictor without cifar10's labels, task cifar10) was
    asked "did you mean 'cifar100'?", and so was 'cifar10-x', the naming ScoresOffTable advises."""
    import warnings

    import gennas

    holdout = gennas.load_predictor("nb201", holdout="cifar10")
    for task, predictor in (("cifar10", holdout), ("cifar10-600epochs", None)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gennas.Designer("nb201", task=task, predictor=predictor, seed=0).generate(1)
        assert not [w for w in caught if "did you mean" in str(w.message)], task


def test_a_holdout_predictor_asks_about_a_typo_as_the_cli_does():
    """A user walk: `gennas design --task cifr100` asked "did you mean 'cifar100'?", and the Python
    designer with the predictor held out from cifar100 asked 'cifar10' (the only task it knows): the
    datasets the space's tables measured are candidates too."""
    import warnings

    import gennas

    holdout = gennas.load_predictor("nb201", holdout="cifar100")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gennas.Designer("nb201", task="cifr100", predictor=holdout, seed=0)
    asked = [str(w.message) for w in caught if "did you mean" in str(w.message)]
    assert len(asked) == 1 and "did you mean 'cifar100'?" in asked[0], asked
    said = runner.invoke(app, ["design", "--task", "cifr100", "-n", "1", "--json"])
    assert said.exit_code == 2 and "did you mean 'cifar100'?" in said.stderr


def test_design_without_a_task_designs_for_search_s_default_task():
    """`gennas design --space mbv3` was refused ("name the task") where `gennas search --space mbv3`
    searched for cifar10: both default to cifar10."""
    said = runner.invoke(app, ["design", "-n", "2", "--json"])
    named = runner.invoke(app, ["design", "--task", "cifar10", "-n", "2", "--json"])
    assert said.exit_code == 0, said.output
    assert json.loads(said.stdout) == json.loads(named.stdout)
    result = runner.invoke(app, ["design", "--space", "mbv3", "-n", "1"])
    assert result.exit_code == 0, result.output
    assert "for cifar10" in result.stdout


def test_a_search_under_a_budget_shows_what_kept_it(tmp_path, bench):
    """Each verified cell's latency beside its score: the measurement on a bundled device."""
    db = f"sqlite:///{tmp_path / 'run.db'}"
    result = runner.invoke(app, ["search", "--method", "random", "-b", "3", "--device", "pixel3",
                                 "--max-latency-ms", "5", "--storage", db, "--json", "-q"])
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)["top"]
    assert top and all(row["measured_ms"] <= 5.0 for row in top)
    assert [row["measured_ms"] for row in top] == pytest.approx([bench.latency(row["arch"], "pixel3") for row in top])


def test_help_paragraphs_are_one_line_each_for_the_terminal_to_wrap():
    """Docstrings wrapped in the source broke ``--help`` sentences mid-line ("(its task, device,⏎
    budget ..."): typer keeps single line breaks after a command's first paragraph."""
    from gennas.cli.app import app
    from gennas.cli.help_text import reflow

    assert reflow("First line\n    goes on.\n\n    Second\n    paragraph.\n\n    - kept\n    - as is") == \
        "First line goes on.\n\nSecond paragraph.\n\n- kept\n- as is"
    commands = list(app.registered_commands) + [c for g in app.registered_groups
                                                for c in g.typer_instance.registered_commands]
    assert len(commands) > 10
    for command in commands:
        for paragraph in command.help.split("\n\n"):
            assert "\n" not in paragraph or paragraph.lstrip().startswith(("-", "*", "$")), (command.name, paragraph)
    result = CliRunner().invoke(app, ["design", "--help"], env={"COLUMNS": "200"})
    assert "(its task, device, budget and every verified result)" in result.output


def test_a_task_the_predictor_does_not_know_names_commands_that_teach_it():
    """The hint said `gennas search ... --task imagenet --evaluator proxy:synflow`, after which
    `design --task imagenet` printed the same note: a search's results stay with its study (the
    shipped predictor is never overwritten) and a proxy's scores are a task of their own."""
    result = CliRunner().invoke(app, ["design", "--task", "imagenet", "-n", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert "not trained on task 'imagenet'" in result.stderr
    assert "gennas design --storage runs.db --study" in result.stderr and "'imagenet-synflow'" in result.stderr


def test_a_holdout_variant_of_a_space_that_ships_none_says_which_exist():
    """mbv3 held out was told to train the variant from nb201's manifests (a user walk)."""
    import gennas

    with pytest.raises(gennas.GennasError, match=r"no mbv3 predictor is shipped without cifar100's labels.*"
                                                 r"predictor_nb201_no-cifar100\.pt"):
        gennas.load_predictor("mbv3", holdout="cifar100")


def test_load_predictor_takes_the_space_as_the_other_loaders_do():
    """load_predictor(name=) beside load_generator(space=) and load_latency_estimator(space=): one
    keyword for one thing; the old ``name=`` still loads, with a DeprecationWarning."""
    import gennas

    space = gennas.load_space("nb201")
    assert gennas.load_predictor(space=space).origin == "shipped"
    with pytest.warns(DeprecationWarning, match=r"load_predictor\(space=...\)"):
        assert gennas.load_predictor(name="nb201").origin == "shipped"


def test_a_train_study_begun_in_python_resumes_on_the_command_line_with_its_loaders_size(tmp_path, monkeypatch):
    """A study begun in Python records its loaders' sizes, not a --limit: the CLI's resume took its
    default 2,000 images and was refused (train_samples=48 against 1600, a code review)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    from gennas.baselines import RandomSearch
    from gennas.datasets import image_loaders
    from gennas.evaluators import TrainEvaluator
    from gennas.search import run_search
    from gennas.cli.search import image_side
    from gennas.spaces import load_space

    space, db = load_space("nb201"), str(tmp_path / "py.db")
    loaders = image_loaders("mnist", batch_size=64, seed=0, size=image_side(space), channels=3, limit=60)
    evaluator = TrainEvaluator(space, *loaders, epochs=1, seed=0, build_options=space.small_build_options,
                               num_classes=10, progress=False, on_diverge="record")
    attrs = {"method": "random", "task": "mnist", "evaluator": "train", "seed": 0}
    run_search(RandomSearch(space, seed=0), evaluator, 1, storage=db, study_name="py", attrs=attrs, progress=False)
    resumed = runner.invoke(app, ["search", "--method", "random", "--storage", db, "--study", "py", "--resume", "-b", "2",
                                  "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["verified"] == 2


def test_the_entry_point_ignores_a_signal_once_the_command_has_finished(monkeypatch):
    """`timeout` firing just after a search finished turned its exit status into 130 / 143 with no
    message (a user walk): once the command has returned 0, SIGINT and SIGTERM are ignored; a
    failed command keeps them."""
    import signal

    from gennas.entry import main

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        monkeypatch.setattr("sys.argv", ["gennas", "spaces"])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code in (0, None)
        assert signal.getsignal(signal.SIGINT) == signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        for s, handler in saved.items():
            signal.signal(s, handler)
        monkeypatch.setattr("sys.argv", ["gennas", "spaces", "--no-such-option"])
        with pytest.raises(SystemExit) as failed:
            main()
        assert failed.value.code == 2 and signal.getsignal(signal.SIGINT) == saved[signal.SIGINT]
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///:memory:", "sqlite://", "sqlite:///file::memory:?uri=true"])
def test_in_memory_storage_is_refused_on_the_command_line(url, tmp_path, monkeypatch):
    """An in-memory --storage lost every verified result when the command ended, and search then
    printed a `gennas design --storage sqlite:/// ...` that could not work (a user review)."""
    monkeypatch.chdir(tmp_path)
    for args in (["search", "-b", "2", "-q", "--storage", url], ["design", "--storage", url, "--study", "s"],
                 ["report", "--storage", url]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "is an in-memory database: everything stored there is lost" in result.stderr
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_resume_of_a_missing_file_and_sample_s_latency_hint_say_what_works(tmp_path):
    """--resume with a mistyped .db said only "the storage has no study ...; starting it new", and
    `sample --space darts --device pixel3` suggested a `latency predict` that failed at once
    ("unknown device 'pixel3'"; a user review)."""
    typo = tmp_path / "tpyo.db"
    resumed = runner.invoke(app, ["search", "-b", "2", "-q", "--resume", "--storage", str(typo)])
    assert resumed.exit_code == 0, resumed.output
    assert f"--resume: {typo} does not exist (a typo in the path?)" in resumed.stderr
    assert "starting it new" not in resumed.stderr
    sampled = runner.invoke(app, ["sample", "--space", "darts", "-n", "2", "--device", "pixel3"])
    said = " ".join(sampled.stderr.split())
    assert sampled.exit_code == 2 and "'pixel3' is no latency device of darts (known: none)" in said
    assert "latency predict" not in said and "gennas latency measure --space darts" in said


def test_a_proxy_search_s_title_names_the_images_it_scored(tmp_path):
    """`search --evaluator proxy:naswot` was titled "designer on nb201/cifar10" though it scored MNIST
    images (a user review)."""
    result = runner.invoke(app, ["search", "--evaluator", "proxy:naswot", "-b", "2", "-q", "--storage",
                                 str(tmp_path / "nw.db")], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "designer on nb201/cifar10-naswot-mnist (proxy:naswot scored on mnist images)" in result.stdout


def test_options_that_would_change_nothing_are_refused():
    """A user walk: `design --task ''` designed for cifar10, `--force` without `--study` and
    `--latency-confidence` without a budget did nothing, `search --study ''` took the default name."""
    runner = CliRunner()
    for args, said in ((["design", "--task", ""], "--task is empty"),
                       (["design", "--force"], "--force goes with --study"),
                       (["design", "--latency-confidence", "0.99"], "--latency-confidence sets how sure"),
                       (["search", "--study", "", "-b", "1"], "--study is empty")):
        out = runner.invoke(app, args)
        assert out.exit_code == 2 and said in out.output, (args, out.output)


def test_more_threads_than_cores_are_warned_of():
    """`--threads 1000` on a 2-core machine was taken without a word (a user walk)."""
    import torch

    before = torch.get_num_threads()
    try:  # in process, the command's torch threads outlive it: never leave 100,000 to the next tests
        out = CliRunner().invoke(app, ["--threads", "100000", "spaces"])
        assert out.exit_code == 0 and "warning: --threads 100000 exceeds the" in out.stderr
        assert "exceeds" not in CliRunner().invoke(app, ["--threads", "1", "spaces"]).stderr
    finally:
        torch.set_num_threads(before)


def test_an_empty_folder_option_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    """``--export ''`` was read as Path('') and wrote the designs into the current folder without a
    word (a user walk); ``.`` still names it on purpose."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    for args in (["design", "-n", "1", "--export", ""], ["train", "-s", "nb201", "--steps", "1", "--out", " "]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert f"{args[-2]} is empty: name a folder" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_resume_without_study_or_options_refuses_to_start_the_default_study_beside_others(tmp_path):
    """`gennas search --resume --storage run.db -b 6` on a file holding an MNIST training study started
    a cifar10 table study in it, exit 0 (user walk 52); the same command keeps resuming its own."""
    db = str(tmp_path / "run.db")
    assert runner.invoke(app, ["search", "--method", "random", "-b", "2", "-q", "--storage", db, "--study",
                               "mine"]).exit_code == 0
    refused = runner.invoke(app, ["search", "-b", "3", "-q", "--resume", "--storage", db])
    said = " ".join(refused.stderr.split())
    assert refused.exit_code == 2, refused.output
    assert "holds no study 'designer-nb201-cifar10-table-seed0' (the default for these options) but holds mine" in said
    assert "resume one with --study NAME" in said
    assert runner.invoke(app, ["search", "-b", "2", "-q", "--resume", "--storage", db, "--task",
                               "cifar10"]).exit_code == 0  # an option chose it: a study of its own
    again = runner.invoke(app, ["search", "-b", "3", "-q", "--resume", "--storage", db])
    assert again.exit_code == 0, again.output  # the default study is there now: resumed
