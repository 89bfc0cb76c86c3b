"""``gennas train`` and a space without shipped checkpoints: train the generator, search to train
the predictor, then generate, all from the command line on a user's YAML; and the messages that
name those commands wherever a checkpoint is missing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gennas
from gennas.checkpoint import load_checkpoint, read_manifest
from gennas.cli.app import app
from gennas.design.designer import Designer
from gennas.design.pretrained import SCRATCH_TOP_WEIGHT
from gennas.design.statement import MIN_STATED
from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.generators import load_generator
from gennas.surrogates.predictor import Predictor, PredictorConfig

USER_SPACE = """\
kind: cell
name: {name}
description: a user's three-node cell
input_size: 32
cell:
  nodes: 3
  zero_op: none
  identity_op: skip
  ops:
    none: {{type: zero}}
    skip: {{type: identity}}
    conv3: {{type: relu_conv_bn, kernel: 3}}
    sep3: {{type: sep_conv, kernel: 3}}
    pool: {{type: avg_pool, kernel: 3}}
macro: {{channels: 8, cells_per_stage: 1, stages: 2}}
"""


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture()
def user_yaml(tmp_path) -> tuple[Path, str]:
    name = f"mine_{uuid.uuid4().hex[:8]}"  # spaces are registered per process: one name per test
    path = tmp_path / f"{name}.yaml"
    path.write_text(USER_SPACE.format(name=name))
    return path, name


def test_missing_checkpoints_name_the_two_commands(home, user_yaml):
    path, name = user_yaml
    # a YAML space is named by its path in the commands: its name alone is known only in this process
    with pytest.raises(GennasError, match=f"gennas train --space {path}.*gennas search --space {path}"):
        Designer(str(path), task="mnist")
    with pytest.raises(GennasError, match=f"gennas train --space {path} --kind vae"):
        load_generator(gennas.load_space(path), "vae")
    result = CliRunner().invoke(app, ["design", "--space", str(path), "--task", "mnist"])
    assert result.exit_code == 2 and "gennas train --space" in result.stderr and "Traceback" not in result.output


def _train(path: Path, home: Path, name: str) -> dict:
    trained = CliRunner().invoke(app, ["train", "--space", str(path), "--steps", "20", "--seed", "1"])
    assert trained.exit_code == 0, trained.output
    assert "diffusion on" in trained.stderr and "step 20/20" in trained.stderr  # plain lines off a terminal
    manifest = read_manifest(home / "checkpoints" / f"diffusion_{name}.pt")
    assert manifest["metrics"]["steps"] == 20 and manifest["command"].startswith("gennas ")
    assert manifest["space"] == name and "125" in manifest["data"]  # 5 ops on 3 edges, all of them
    assert load_generator(gennas.load_space(path)).manifest["sha256"] == manifest["sha256"]
    return manifest


def test_train_tell_then_generate(home, user_yaml):
    path, name = user_yaml
    _train(path, home, name)
    fresh = Designer(str(path), task="mnist", seed=0)
    # no predictor yet: an untrained one whose ranking loss weighs the best results most
    assert not fresh.predictor.is_trained and fresh.predictor.config.top_weight == SCRATCH_TOP_WEIGHT > 0
    with pytest.raises(GennasError, match="gennas search"):  # ... and generate says how to train it
        fresh.generate(3)
    space = gennas.load_space(path)
    # an untrained predictor as the designer makes one, with fewer fitting steps (seconds, not 20 s)
    designer = Designer(space, task="mnist", seed=0, predictor=Predictor(space, PredictorConfig(steps=30)))
    archs = designer.ask(4)
    # scores of a proxy's magnitude (1e12-1e14): learned through the loop's signed log
    told = [space.count_params(a) * 1e9 for a in archs]
    designer.tell([Result(a, s, "callable") for a, s in zip(archs, told)])  # a kind gennas knows (walk 26 #4)
    predictor = read_manifest(home / "checkpoints" / f"predictor_{name}.pt")
    assert predictor["tasks"] == ["mnist"] and "4 of task 'mnist'" in predictor["data"]
    assert predictor["metrics"]["tasks"]["mnist"]["score_scale"] == {"direction": "maximize", "compress": True,
                                                                     "unit": ""}
    again = Designer(str(path), task="mnist", seed=1)  # a later session: both checkpoints found
    found = again.generate(3)
    # ... trained on 4 results, fewer than a statement needs (MIN_STATED): ranks only, as the study
    # rebuilt by from_study would state (it stated 7.5e104 for a best verified 2e104 on darts)
    assert [c.rank for c in found] == [1, 2, 3] and all(c.predicted_accuracy is None for c in found)
    more = designer.ask(MIN_STATED - len(archs))
    told += [space.count_params(a) * 1e9 for a in more]
    designer.tell([Result(a, s, "callable") for a, s in zip(more, told[len(archs):])])
    found = Designer(str(path), task="mnist", seed=1).generate(3)
    assert [c.rank for c in found] == [1, 2, 3] and all(c.predicted_accuracy is not None for c in found)
    # predicted in the evaluator's units (not its log), and without a "%"
    assert all(min(told) / 100 < c.predicted_accuracy < max(told) * 100 and c.unit == "" for c in found)
    # nothing calibrated the saved predictor's spread (zero with one member): no "± 0.00"
    assert all(c.predicted_std is None and "uncalibrated" in str(c) and "e+" in str(c) for c in found)
    from gennas.design.candidate import candidate_row
    from gennas.display import number

    row = candidate_row(found[0])  # a proxy's score is no accuracy, in a table or in JSON
    assert "pred_acc" not in row and row["pred_score"] == found[0].predicted_accuracy
    assert [number(v) for v in (93.5123, 0.94371, 0.0, 7.0036e49)] == ["93.51", "0.9437", "0", "7.004e+49"]


def test_another_task_and_a_rebuilt_study_leave_the_saved_predictor_as_it_was(home, user_yaml, tmp_path):
    """A new user's walk: a second search for another task rewrote the saved predictor after a few
    results (its network untouched), recording the first task as learned from the second's six
    (`design --task <first>` then ranked only); and every `gennas design --study` refitted and
    rewrote it, each call starting from the last one's refit, its intervals different every time."""
    path, name = user_yaml
    _train(path, home, name)
    space, url = gennas.load_space(path), f"sqlite:///{tmp_path / 's.db'}"
    designer = Designer(space, task="mnist", seed=0, predictor=Predictor(space, PredictorConfig(steps=30)))
    designer.search(lambda a: float(space.count_params(a)), budget=MIN_STATED, batch_size=5, storage=url,
                    study_name="s", progress=False)
    saved = home / "checkpoints" / f"predictor_{name}.pt"
    before = saved.read_bytes()
    assert read_manifest(saved)["metrics"]["tasks"]["mnist"]["verified_results"] == MIN_STATED
    other = Designer(str(path), task="other", seed=0)
    other.tell([Result(a, 1.0 + i, "callable") for i, a in enumerate(other.ask(3))])
    assert saved.read_bytes() == before  # a new task's first results leave the network: nothing written
    first, second = (Designer.from_study(url, "s").generate(3) for _ in range(2))
    assert saved.read_bytes() == before  # a replay of the study writes nothing
    assert [str(c) for c in first] == [str(c) for c in second]


@pytest.mark.slow
def test_train_search_then_design_from_the_cli(home, user_yaml, tmp_path):
    path, name = user_yaml
    _train(path, home, name)
    runner = CliRunner()
    searched = runner.invoke(app, ["search", "--space", str(path), "--method", "designer", "--evaluator",
                                   "proxy:synflow", "--task", "mnist", "--budget", "4", "--storage",
                                   str(tmp_path / "s.db"), "--json"])
    assert searched.exit_code == 0, searched.output
    assert json.loads(searched.stdout)["verified"] == 4
    # the default study is named after the space, not the path it was given by
    study = json.loads(searched.stdout)["study"]
    assert study == f"designer-{name}-mnist-proxy:synflow-seed0"
    rebuilt = runner.invoke(app, ["design", "--storage", str(tmp_path / "s.db"), "--study", study, "-n", "2", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output  # no --space: the study's own
    # a proxy's scores are learned as a task of their own, never as mnist's accuracy
    assert read_manifest(home / "checkpoints" / f"predictor_{name}.pt")["tasks"] == ["mnist-synflow"]
    designed = runner.invoke(app, ["design", "--space", str(path), "--task", "mnist-synflow", "-n", "3", "--json"])
    assert designed.exit_code == 0, designed.output
    assert [r["rank"] for r in json.loads(designed.stdout)] == [1, 2, 3]


def test_train_with_one_seed_writes_the_same_weights(home, user_yaml, tmp_path):
    """The generator's initial weights come from --seed too (they came from torch's unseeded global
    generator: two runs of experiments/spaces.py trained different user-space generators)."""
    path, name = user_yaml
    runner = CliRunner()
    states = []
    for run in ("a", "b"):
        out = tmp_path / run
        result = runner.invoke(app, ["train", "--space", str(path), "--steps", "3", "--seed", "7", "--out", str(out),
                                     "--quiet"])
        assert result.exit_code == 0, result.output
        states.append(load_checkpoint(out / f"diffusion_{name}.pt", "diffusion").state)
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_train_both_kinds_and_bad_options(home, user_yaml):
    path, name = user_yaml
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--space", str(path), "--kind", "all", "--steps", "5", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["generator"] for r in rows] == ["diffusion", "vae"]
    assert all(r["used_by_designer"] and r["valid"] == 1.0 for r in rows)
    assert 0 <= rows[1]["slot_recon"] <= 1 and rows[0]["slot_recon"] is None  # a diffusion: null, not "-"
    for args, message in ((["--kind", "gan"], "generator kind"), (["--steps", "0"], "--steps"),
                          (["--steps", "5", "--epochs", "2"], "not both"), (["--lr", "-1"], "--lr")):
        bad = runner.invoke(app, ["train", "--space", str(path), *args])
        assert bad.exit_code == 2 and message in bad.stderr, (args, bad.output)
    missing = runner.invoke(app, ["train", "--space", str(path.with_name("nope.yaml"))])
    assert missing.exit_code == 2 and "nope.yaml" in missing.stderr


def test_the_train_evaluator_trains_at_the_space_s_input_size(user_yaml):
    """A user's space with `input_size: 28` was trained at 32 pixels by `--evaluator train` (the
    proxies already used the space's size): both now resize to it, at most 32."""
    from gennas.cli.search import make_evaluator

    path, name = user_yaml
    path.write_text(USER_SPACE.format(name=name).replace("input_size: 32", "input_size: 28"))
    evaluator = make_evaluator("train", gennas.load_space(path), "mnist", limit=20)
    assert evaluator.input_shape == (3, 28, 28)
    assert evaluator.inputs["resized bilinearly (align_corners=False) to"] == 28
    assert make_evaluator("train", gennas.load_space("nb201"), "mnist", limit=20).input_shape == (3, 32, 32)


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_a_resumed_search_in_a_space_without_a_shipped_predictor_goes_where_the_uninterrupted_one_went(
        tmp_path, monkeypatch, user_yaml):
    """A search begun untrained (a fresh $GENNAS_HOME) saves its predictor as it learns; resumed, it
    started from that saved predictor, replayed its results on top and verified other cells (a user
    walk: best 4.10e9 against 8.60e9). It restarts untrained, as the study records it began; a
    designer rebuilt from the study does too, whatever a later search saved."""
    import shutil

    from gennas.search.storage import ResultStore
    from gennas.search.study_record import START_ATTR

    path, _ = user_yaml
    space = gennas.load_space(str(path))
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    monkeypatch.setenv("GENNAS_HOME", str(straight))
    assert CliRunner().invoke(app, ["train", "--space", str(path), "--steps", "20", "--quiet"]).exit_code == 0
    shutil.copytree(straight, resumed)  # the same generator, no predictor yet
    score = lambda a: float(space.choices(a).count("conv3") + 0.1 * len(set(space.choices(a))))  # noqa: E731

    def run(home, budget: int, resume: bool) -> list[str]:
        monkeypatch.setenv("GENNAS_HOME", str(home))
        designer = gennas.Designer(space, task="own-score", seed=3)
        designer.search(score, budget=budget, batch_size=2, storage=str(home / "runs.db"), study_name="s",
                        resume=resume)
        return [r.arch.to_string() for r in designer.history]

    whole = run(straight, 8, False)
    run(resumed, 4, False)  # stopped after 4: the home now holds the predictor those 4 trained
    assert gennas.Designer(space, task="own-score").predictor_start == "saved"
    assert run(resumed, 8, True) == whole
    assert ResultStore.open(space, str(resumed / "runs.db"), "s", resume=True).study.user_attrs[START_ATTR] == "untrained"
    rebuilt = gennas.Designer.from_study(str(resumed / "runs.db"), "s")
    assert not rebuilt.loop.pretrained.is_trained  # the study alone, not the predictor the home holds now


def test_a_resumed_search_that_began_from_a_saved_predictor_starts_from_it_again(tmp_path, monkeypatch, user_yaml):
    """The predictor a search saved is rewritten after every refit of the next search: resumed, a
    study begun from it started from the interrupted run's refits instead and went elsewhere (a user
    walk: first different result the 15th, best 8.08e12 against 9.04e12). The study keeps a copy of
    what it began from in its work folder; without one (an older study) the resume says so."""
    import shutil

    from gennas.design.pretrained import START_COPY
    from gennas.search.storage import ResultStore
    from gennas.search.study_record import START_ATTR

    path, _ = user_yaml
    space = gennas.load_space(str(path))
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    monkeypatch.setenv("GENNAS_HOME", str(straight))
    assert CliRunner().invoke(app, ["train", "--space", str(path), "--steps", "20", "--quiet"]).exit_code == 0
    weights = {"none": 0.0, "skip": 0.3, "conv3": 1.0, "sep3": 0.8, "pool": 0.2}
    score = lambda a: float(sum(weights[c] * (i + 1) for i, c in enumerate(space.choices(a))))  # noqa: E731

    def run(home, budget: int, resume: bool, study: str = "s") -> list[str]:
        monkeypatch.setenv("GENNAS_HOME", str(home))
        designer = gennas.Designer(space, task="own-score", seed=3)
        designer.search(score, budget=budget, batch_size=2, storage=str(home / "runs.db"), study_name=study,
                        resume=resume)
        return [r.arch.to_string() for r in designer.history]

    run(straight, 6, False, "first")  # an earlier search saved a predictor: the next one starts from it
    shutil.copytree(straight, resumed)
    whole = run(straight, 14, False)
    run(resumed, 6, False)  # stopped after 6: the saved predictor now holds its refits
    assert ResultStore.open(space, str(resumed / "runs.db"), "s", resume=True).study.user_attrs[START_ATTR] == "saved"
    assert run(resumed, 14, True) == whole
    copies = list(resumed.glob(f"runs.db.work/*/{START_COPY}"))
    assert len(copies) == 1
    # rebuilt from either study, the designer starts from the copy, not from what each home saved since
    from gennas.design.pretrained import load_start_copy

    cells = space.sample_many(20, 1)
    began = load_start_copy(space, copies[0]).predict(cells, "own-score")[0]
    for home in (straight, resumed):
        monkeypatch.setenv("GENNAS_HOME", str(home))
        rebuilt = gennas.Designer.from_study(str(home / "runs.db"), "s")
        assert rebuilt.predictor_start == "saved"
        assert np.allclose(rebuilt.predictor.predict(cells, "own-score")[0], began)
    copies[0].unlink()
    with pytest.warns(gennas.GennasWarning, match="no copy of it was kept"):
        run(resumed, 16, True)


def test_a_study_begun_untrained_resumes_after_an_edit_though_the_saved_predictor_is_for_the_old_spec(
        home, user_yaml, monkeypatch):
    """A search from scratch saves its predictor; after `channels` was edited, resuming it with
    --force was refused by that saved predictor ("made for another spec"), which a resume of a
    study begun untrained never loads (a user walk)."""
    path, name = user_yaml
    runner = CliRunner()
    assert runner.invoke(app, ["train", "--space", str(path), "--steps", "20", "--quiet"]).exit_code == 0
    search = ["search", "--space", str(path), "--method", "designer", "--evaluator", "proxy:params", "--quiet",
              "--storage", f"sqlite:///{home / 'runs.db'}", "--json"]
    first = runner.invoke(app, [*search, "-b", "3"])
    assert first.exit_code == 0, first.output
    path.write_text(USER_SPACE.format(name=name).replace("channels: 8", "channels: 16"))
    from gennas.spaces import loader

    monkeypatch.delitem(loader._REGISTERED, name)  # noqa: SLF001 (a new process would load the edited spec)
    resumed = runner.invoke(app, [*search, "-b", "5", "--resume", "--force"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["resumed"] == 3


def test_a_predictor_saved_for_the_other_direction_is_not_started_from(tmp_path, monkeypatch):
    """A user walk on darts: a predictor a maximising search saved was started from by a later
    minimising search, of that task and of another, which then picked the largest networks; and
    that search rewrote the file with its own direction. Now the designer warns naming the file,
    starts untrained and leaves the file as it was."""
    from gennas.design.pretrained import OtherDirectionSaved, remember_predictor

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space = gennas.load_space("darts")
    archs = [space.sample(i) for i in range(12)]
    predictor = Predictor(space, PredictorConfig(steps=20, members=1))
    predictor.fit(archs, [space.count_params(a) / 1e6 for a in archs], "dtask")
    saved = remember_predictor(space, predictor, 12, "dtask", "maximize", False, "")
    assert saved is not None
    before = saved.read_bytes()
    assert Designer("darts", task="dtask", seed=0).predictor_start == "saved"  # the same direction starts from it
    for task, learned in (("dtask", "task 'dtask'"), ("dtask2", r"its tasks \(dtask\)")):
        with pytest.warns(OtherDirectionSaved, match=f"{learned} with scores to maximize.*minimizes") as caught:
            minimising = Designer("darts", task=task, seed=0, direction="minimize")
        assert str(saved) in str(caught[0].message)
        assert minimising.predictor_start == "untrained" and not minimising.predictor.is_trained
    told = [Result(a, space.count_params(a) / 1e6, "callable") for a in archs[:4]]
    minimising.tell(told)
    assert minimising.loop.predictor.is_trained and saved.read_bytes() == before  # learned, not written over it
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "empty"))  # without a saved file the same tell saves
    Designer("darts", task="dtask2", seed=0, direction="minimize").tell(told)
    assert (tmp_path / "empty" / "checkpoints" / "predictor_darts.pt").is_file()


def test_an_interrupted_training_resumed_ends_where_the_uninterrupted_one_did(user_yaml, tmp_path):
    """Ctrl-C during `gennas train` discarded every step (a user review): the state at the interrupt
    is saved, and resuming from it gives the very weights of a training never interrupted."""
    from gennas.generators import new_generator
    from gennas.generators.training import generator_dataset, train_generator

    path, _ = user_yaml
    space = gennas.load_space(path)

    def fresh():
        torch.manual_seed(3)
        model = new_generator(space, "diffusion")
        return model, generator_dataset(model, 200, 3)[0]

    whole, x = fresh()
    train_generator(whole, x, 25, 64, 2e-3, 3)

    def stop_at_10(step, total, loss):
        if step == 10:
            raise KeyboardInterrupt

    partial = tmp_path / "d.partial.pt"
    part, x = fresh()
    with pytest.raises(KeyboardInterrupt) as stopped:
        train_generator(part, x, 25, 64, 2e-3, 3, on_step=stop_at_10, partial=partial)
    assert stopped.value.saved_step == 10 and partial.is_file()
    with pytest.raises(GennasError, match=r"other settings \(steps 25 -> 30\)"):
        train_generator(fresh()[0], x, 30, 64, 2e-3, 3, partial=partial, resume=True)
    resumed, x = fresh()
    train_generator(resumed, x, 25, 64, 2e-3, 3, partial=partial, resume=True)
    a, b = whole.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_an_interrupt_during_an_optimizer_step_is_taken_at_its_end_and_saved(user_yaml, tmp_path, monkeypatch):
    """SIGINT or SIGTERM landing in the optimizer's update said "nothing was saved yet" and lost up to
    30 s of training, 1 time in 3 (user walk 48): the signal waits for the step's end, then saves it."""
    import os
    import signal

    from gennas.generators import new_generator
    from gennas.generators.training import generator_dataset, train_generator

    space = gennas.load_space(user_yaml[0])
    torch.manual_seed(3)
    model = new_generator(space, "diffusion")
    x = generator_dataset(model, 200, 3)[0]
    real, calls = torch.optim.AdamW.step, []  # the class the training builds (its own step once built)

    def step_with_a_signal(self, *args, **kwargs):  # the signal lands inside the update of step 6
        calls.append(1)
        if len(calls) == 6:
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step_with_a_signal)
    partial = tmp_path / "d.partial.pt"
    with pytest.raises(KeyboardInterrupt) as stopped:
        train_generator(model, x, 25, 64, 2e-3, 3, partial=partial)
    assert stopped.value.saved_step == 6 and partial.is_file()


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_interrupted_training_is_refused_naming_the_file(tmp_path, damage):
    """Walk 37 #1: an empty partial file (what a kill or a full disk leaves) made `gennas train
    --resume` end in an IndexError traceback: torch's EOFError of an empty file has no text."""
    from gennas.generators.training import load_partial

    partial = tmp_path / "d.partial.pt"
    torch.save({"settings": {"steps": 25}, "step": 3}, partial)
    partial.write_bytes(b"" if damage == "empty" else partial.read_bytes()[:40])
    with pytest.raises(GennasError, match=r"d\.partial\.pt cannot be read \(.+\): delete it and train without --resume"):
        load_partial(partial, {"steps": 25})


def test_train_refuses_to_replace_a_trained_generator_and_stops_a_diverged_one(home, user_yaml):
    """`gennas train --steps 5` replaced a 200-step generator without a word, and `--lr 1e6` ended in
    torch's "probability tensor contains inf, nan" traceback (a user review)."""
    path, name = user_yaml
    runner = CliRunner()
    train = ["train", "--space", str(path), "--quiet"]
    assert runner.invoke(app, [*train, "--steps", "8"]).exit_code == 0
    saved = home / "checkpoints" / f"diffusion_{name}.pt"
    before = saved.read_bytes()
    again = runner.invoke(app, [*train, "--steps", "3"])
    assert again.exit_code == 2 and "already holds a diffusion generator" in again.stderr
    assert "8 steps" in again.stderr and "--force" in again.stderr
    diverged = runner.invoke(app, [*train, "--steps", "20", "--lr", "1e6", "--force"])
    assert diverged.exit_code == 2, diverged.output
    assert "training diverged at step" in diverged.stderr and "lower --lr" in diverged.stderr
    assert "Traceback" not in diverged.output and saved.read_bytes() == before  # the earlier one untouched
    assert runner.invoke(app, [*train, "--steps", "3", "--force"]).exit_code == 0
    assert read_manifest(saved)["metrics"]["steps"] == 3
    nothing = runner.invoke(app, [*train, "--steps", "3", "--resume"])
    assert nothing.exit_code == 0 and "trained to the end before the interruption: kept" in nothing.stderr


def test_an_interrupt_after_the_last_step_keeps_the_trained_state(home, user_yaml, monkeypatch):
    """Ctrl-C while the trained generator is measured (sampled) lost the whole training: the state
    after the last step is saved first, and --resume only measures and saves it."""
    import gennas.generators.training as training

    path, name = user_yaml
    real = training.sample_quality

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "sample_quality", interrupted)
    runner = CliRunner()
    train = ["train", "--space", str(path), "--steps", "4", "--quiet"]
    stopped = runner.invoke(app, train)
    partial = home / "checkpoints" / f"diffusion_{name}.partial.pt"
    assert stopped.exit_code == 130 and f"(step 4/4) is saved in {partial}" in stopped.stderr
    assert not (home / "checkpoints" / f"diffusion_{name}.pt").exists()
    refused = runner.invoke(app, train)
    assert refused.exit_code == 2 and "holds an interrupted diffusion training" in refused.stderr
    monkeypatch.setattr(training, "sample_quality", real)
    resumed = runner.invoke(app, [*train, "--resume", "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)[0]["steps"] == 4 and not partial.exists()


def test_two_searches_saving_one_predictor_at_once_leave_a_file_its_manifest_describes(tmp_path, monkeypatch):
    """Walk 34 #3: search A replaced the saved predictor and hashed it, search B replaced it and
    wrote its manifest, then A wrote A's checksum beside B's file: every later designer refused
    the file as corrupt. Threads stand in for the processes; A pauses between its checksum and
    its manifest."""
    import threading
    import time

    from gennas import checkpoint
    from gennas.design.pretrained import remember_predictor

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space, trained = _fitted_darts(("task-a", "task-b"), steps=10)
    real, paused = checkpoint._write_json, threading.Event()

    def slow_manifest(out, record):  # A pauses after hashing its file, before writing the manifest
        if threading.current_thread().name == "A" and record.get("sha256"):
            paused.set()
            time.sleep(0.5)
        return real(out, record)

    monkeypatch.setattr(checkpoint, "_write_json", slow_manifest)
    a = threading.Thread(target=remember_predictor, name="A",
                         args=(space, trained["task-a"], 12, "task-a", "maximize", False, ""))
    a.start()
    paused.wait(5)
    saved = remember_predictor(space, trained["task-b"], 12, "task-b", "maximize", False, "")  # waits for A
    a.join()
    loaded = Designer("darts", task="task-b", seed=0)  # refused as corrupt before
    assert loaded.predictor_start == "saved" and "task-b" in loaded.predictor.tasks
    assert checkpoint.read_manifest(saved)["sha256"] == checkpoint.file_sha256(saved)


def test_a_saved_predictor_without_its_manifest_is_refused_naming_it(tmp_path, monkeypatch):
    """Walk 37 #2: a saved predictor whose manifest was lost (copied alone, a save cut short) was
    used without a word: its bytes went unchecked (64 random bytes changed its designs) and its
    values were stated in its internal compressed scale as synflow scores. Now refused by name,
    by a designer and by `gennas design`."""
    from gennas.design.pretrained import remember_predictor

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space, trained = _fitted_darts(("task-a",))
    predictor = trained["task-a"]
    saved = remember_predictor(space, predictor, 12, "task-a", "maximize", False, "")
    assert Designer("darts", task="task-a", seed=0).predictor_start == "saved"
    saved.with_suffix(".json").unlink()
    with pytest.raises(GennasError, match=r"predictor_darts\.pt has no manifest \(predictor_darts\.json\) beside it"):
        Designer("darts", task="task-a", seed=0)
    refused = CliRunner().invoke(app, ["design", "--space", "darts", "--task", "task-a", "-n", "2"])
    assert refused.exit_code == 2 and "has no manifest" in refused.stderr and "Traceback" not in refused.output


def test_a_study_s_damaged_start_copy_is_not_said_to_be_learned_afresh(tmp_path):
    """Walk 37 #5: deleting a study's damaged `predictor_start.pt` was said to make the next search
    learn a predictor afresh; a resume then starts from the home's saved predictor."""
    from gennas.checkpoint_remedy import remedy

    said = remedy(tmp_path / "run.db.work" / "s-1" / "predictor_start.pt")
    assert "starts from the predictor saved in $GENNAS_HOME now" in said and "afresh" not in said


def test_a_save_that_drops_another_search_s_task_says_so(tmp_path, monkeypatch):
    """Walk 37 #6: two designer searches at once in one home, for different tasks, each saved its
    refitted predictor; the last writer's was kept and the other task's learning was lost without a
    word (that search's closing advice then failed). Now the save that drops it says so."""
    import warnings

    from gennas.design.pretrained import SavedTasksReplaced, remember_predictor
    from gennas.design.saved_records import saved_tasks

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    space, trained = _fitted_darts(("task-a", "task-b"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SavedTasksReplaced)
        remember_predictor(space, trained["task-a"], 12, "task-a", "maximize", False, "")
    with pytest.warns(SavedTasksReplaced, match=r"had learned task 'task-a'"):
        remember_predictor(space, trained["task-b"], 12, "task-b", "maximize", False, "")
    assert saved_tasks(space) == ["task-b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SavedTasksReplaced)  # its own task again: nothing dropped
        remember_predictor(space, trained["task-b"], 12, "task-b", "maximize", False, "")


def test_a_second_gennas_train_of_the_same_generator_at_once_is_refused(home, user_yaml):
    """Walk 37 #10: two `gennas train` of one space at once both passed the check for a trained
    generator, shared one interrupted-training file, and the last replaced the other's generator
    without a word. The second is refused at once while the first holds the generator's lock."""
    from gennas.atomic_write import writers_lock

    path, name = user_yaml
    with writers_lock(home / "checkpoints" / f"diffusion_{name}.pt", 0):  # as a training in progress holds it
        busy = CliRunner().invoke(app, ["train", "--space", str(path), "--steps", "3", "--quiet"])
    assert busy.exit_code == 2 and "another gennas train is training the diffusion generator" in busy.stderr
    assert CliRunner().invoke(app, ["train", "--space", str(path), "--steps", "3", "--quiet"]).exit_code == 0


def _fitted_darts(tasks: tuple[str, ...], steps: int = 5) -> tuple[gennas.SearchSpace, dict[str, Predictor]]:
    """darts and, per task, a one-member predictor fitted to 12 cells' parameter counts (in millions):
    a predictor a search could have saved, without a search."""
    space = gennas.load_space("darts")
    archs = [space.sample(i) for i in range(12)]
    trained = {}
    for task in tasks:
        trained[task] = Predictor(space, PredictorConfig(steps=steps, members=1))
        trained[task].fit(archs, [space.count_params(a) / 1e6 for a in archs], task)
    return space, trained


def test_an_interrupted_training_s_state_is_never_written_through_a_planted_link(tmp_path):
    """Walk 38 #15: the state was written to the predictable `<file>.<pid>.tmp`, through a link
    planted there (a victim file outside became a zip), then the link was moved onto the name."""
    import os

    from gennas.generators.training import save_partial

    partial = tmp_path / "diffusion_x.partial.pt"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    partial.with_name(f"{partial.name}.{os.getpid()}.tmp").symlink_to(victim)
    save_partial(partial, {"step": 1})
    assert victim.read_text() == "precious" and not partial.is_symlink()
    assert torch.load(partial, weights_only=True) == {"step": 1}


def test_a_generator_whose_config_declares_other_weights_than_it_holds_is_refused_before_it_is_built(tmp_path):
    """Walk 38 #9: the shipped generator with `dim=4096, layers=4096` in its config (each within its
    field's bound) was built, allocating until memory ran out, before its weights were compared."""
    import resource

    from gennas.resources import checkpoints_dir

    blob = torch.load(checkpoints_dir() / "diffusion_nb201.pt", weights_only=True)
    blob["config"].update(dim=4096, layers=64)  # 64 layers of 4096-wide blocks: gigabytes, were it built
    crafted = tmp_path / "diffusion_nb201.pt"
    torch.save(blob, crafted)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    with pytest.raises(GennasError, match=r"its config declares other weights than it holds: .+ where \(.*4096"):
        load_generator("nb201", path=crafted)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # not built: no 0.5 GB more


def test_a_sample_of_a_large_space_is_validated_on_rows_it_did_not_train_on(home, user_yaml, tmp_path):
    """Trained and "validated" on the same 200 rows of a 9.8-million-cell space, a VAE read slot_recon
    1.0 where fresh samples gave 0.43 (user walk 53): a small sample now holds out a fifth, and the
    output says whether val_loss was held out; a whole small space is still trained on whole."""
    import torch

    from gennas.generators import new_generator
    from gennas.generators.training import generator_dataset, is_whole_space, split

    path, name = user_yaml
    big = tmp_path / "big.yaml"
    big.write_text(path.read_text().replace("nodes: 3", "nodes: 5").replace(f"name: {name}", f"name: {name}big"))
    small, large = gennas.load_space(str(path)), gennas.load_space(str(big))
    whole, _ = generator_dataset(new_generator(small, "diffusion"), 200, 0)
    sample, _ = generator_dataset(new_generator(large, "diffusion"), 200, 0)
    assert is_whole_space(new_generator(small, "diffusion"), whole) and len(whole) == small.size()
    assert not is_whole_space(new_generator(large, "diffusion"), sample)
    tr, val = split(sample, 0, whole=False)
    assert len(val) == 40 and len(tr) == 160 and not set(map(tuple, val.tolist())) & set(map(tuple, tr.tolist()))
    tr, val = split(whole, 0, whole=True)
    assert torch.equal(tr, val)
    runner = CliRunner()
    rows = json.loads(runner.invoke(app, ["train", "--space", str(big), "--samples", "200", "--steps", "5",
                                          "--json"]).stdout)
    assert rows[0]["held_out"] is True
    text = runner.invoke(app, ["train", "--space", str(path), "--steps", "5", "--force"])
    assert text.exit_code == 0, text.output
    flat = " ".join(text.stdout.split())
    assert "uniform sampling of its" in flat and "distinct architectures gives unique" in flat, flat
