"""gennas's studies and exports among other tools (optuna code, numpy numbers): walk 41's findings."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import optuna
import pytest

import gennas
from gennas.errors import GennasError, GennasWarning
from gennas.search import OPTIMIZERS, run_search

STUDY = "tiny"


def _random(space):
    return OPTIMIZERS["random"](gennas.load_space(space), 0, "cifar10")


def test_a_train_search_moved_with_its_work_folder_exports_its_trained_weights_from_any_folder(tmp_path, monkeypatch):
    """The weights' path was recorded relative to the folder the search ran in: from any other
    folder, or after moving run.db with run.db.work, exports took initial weights (exit 0)."""
    from gennas.datasets import image_loaders
    from gennas.evaluators import TrainEvaluator
    from gennas.export import export_result

    nb201 = gennas.load_space("nb201")
    train, val = image_loaders("digits", batch_size=32, channels=1, seed=0, limit=64)
    evaluator = TrainEvaluator(nb201, train, val, epochs=1, build_options=nb201.small_build_options, progress=False,
                               keep_weights=True)
    (tmp_path / "ran").mkdir()
    monkeypatch.chdir(tmp_path / "ran")
    run_search(_random("nb201"), evaluator, 1, storage="sqlite:///run.db", study_name=STUDY, progress=False)
    moved = tmp_path / "archive"
    moved.mkdir()
    for path in (tmp_path / "ran").glob("run.db*"):  # the database (with SQLite's side files) and its .work
        shutil.move(str(path), str(moved / path.name))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    (result,) = gennas.search.storage.ResultStore.open(nb201, f"sqlite:///{moved / 'run.db'}", STUDY,
                                                       resume=True).results()
    assert result.metadata["checkpoint"].startswith(str(moved / "run.db.work"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", GennasWarning)  # MissingWeights before
        built = json.loads(export_result(result, tmp_path / "exported", onnx=False)["build"].read_text())
    assert built["trained"] is True


@pytest.fixture
def table_study(tmp_path):
    """A designer search of 4 on the cifar10 table, stored at ``tmp_path / "run.db"``; returns its URL."""
    url = f"sqlite:///{tmp_path / 'run.db'}"
    gennas.Designer("nb201", task="cifar10", seed=0).search(gennas.TableEvaluator("nb201", "cifar10"), budget=4,
                                                          storage=url, study_name=STUDY, progress=False)
    return url


def test_trials_plain_optuna_added_are_skipped_by_every_reader_and_said(table_study):
    """`search --resume` skipped them silently; design, report and from_study refused the study
    with a bare KeyError 'arch'."""
    study = optuna.load_study(study_name=STUDY, storage=table_study)
    layout = next(t for t in study.trials if t.params).distributions  # gennas's own slot_0..5
    study.optimize(lambda t: 50.0 + len([t.suggest_categorical(name, d.choices) for name, d in layout.items()]),
                   n_trials=2)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    with pytest.warns(GennasWarning, match="holds 3 finished trials not written by gennas"):
        designer = gennas.Designer.from_study(table_study, STUDY)
    assert len(designer.loop.history) == 4
    resumed = designer.search(gennas.TableEvaluator("nb201", "cifar10"), budget=6, storage=table_study,
                              study_name=STUDY, resume=True, progress=False)
    assert resumed.resumed == 4 and any("3 finished trials not written by gennas" in n for n in resumed.notes)


def test_a_stored_accuracy_outside_0_100_is_read_as_a_failed_result(table_study):
    """A `table` score of 150 written with optuna was ranked first as "verified 150.00 %"."""
    study = optuna.load_study(study_name=STUDY, storage=table_study)
    trial = study.ask()
    arch = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|nor_conv_1x1~2|"
    for key, value in dict(arch=arch, space="nb201", kind="table", fidelity="full", hash="by-hand").items():
        trial.set_user_attr(key, value)
    study.tell(trial, 150.0)
    results = gennas.search.storage.ResultStore.open("nb201", table_study, STUDY, resume=True).results()
    odd = [r for r in results if r.arch.to_string() == arch]
    assert len(odd) == 1 and np.isnan(odd[0].score) and "150 for an accuracy in %" in odd[0].error
    assert max(r.score for r in results if not np.isnan(r.score)) <= 100


@pytest.mark.parametrize("made, match", [({"direction": "minimize"}, "it was made to minimize its values"),
                                         ({"directions": ["maximize", "minimize"]}, "it optimises 2 objectives")])
def test_an_empty_optuna_study_gennas_cannot_store_in_is_refused_before_anything_is_verified(tmp_path, made, match):
    """Taken over, a minimising study's best_trial named the worst result; a multi-objective one
    verified, failed to store, and said --resume would store it (it never could)."""
    url = f"sqlite:///{tmp_path / 'own.db'}"
    optuna.create_study(study_name="own", storage=url, **made)
    asked = []
    with pytest.raises(GennasError, match=rf"study 'own' .* is not a gennas study: {match}"):
        run_search(_random("nb201"), lambda arch: asked.append(arch) or 50.0, 3, storage=url, study_name="own",
                   resume=True, progress=False)
    assert asked == []


def test_numpy_numbers_are_taken_wherever_the_api_takes_numbers(tmp_path):
    from gennas.datasets import image_loaders, input_recipe
    from gennas.export import export_architecture

    table = gennas.TableEvaluator("nb201", "cifar10")
    designer = gennas.Designer("nb201", task="cifar10", seed=0, threads=np.int64(1))
    designer.search(table, budget=np.int64(3), progress=False)
    assert designer.reverify(table, budget=np.int64(1), times=np.int64(2))
    train, _ = image_loaders("digits", size=16, channels=1, batch_size=np.int64(32))
    assert train.batch_size == 32
    arch = gennas.load_space("nb201").sample(0)
    paths = export_architecture(arch, tmp_path / "export", num_classes=np.int64(10), onnx=False,
                                inputs=input_recipe("mnist", size=np.int64(32), channels=np.int64(3)))
    built = json.loads(paths["build"].read_text())  # a TypeError after 4 of 5 files were written
    assert built["num_classes"] == 10
