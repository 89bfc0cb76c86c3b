"""What an evaluator's scores mean is a study setting; an evaluator of another space, one that keeps
weights with nowhere to keep them, or one that fails alike on every architecture is caught early."""

from __future__ import annotations

import pytest

import gennas
from gennas.baselines import RandomSearch
from gennas.datasets import image_loaders
from gennas.errors import GennasError
from gennas.evaluators import TrainEvaluator
from gennas.evaluators.base import CallableEvaluator, Result
from gennas.search import run_search
from gennas.search.evaluator_settings import WeightsNotKept, evaluator_settings
from gennas.search.blind_stop import SAME_FAILURE_STOP
from gennas.search.runs import load_runs
from gennas.search.storage import ResultStore
from gennas.search.study_record import CHANGES_ATTR

TINY = {"channels": 8, "cells_per_stage": 1}


@pytest.fixture(scope="module")
def digits():
    """64 digits, 8x8, one channel: 52 to train on, 12 to validate."""
    return image_loaders("digits", batch_size=32, channels=1, seed=0, limit=64)


def trainer(digits, **kw):
    return TrainEvaluator("nb201", *digits, **{"epochs": 1, "build_options": TINY, "progress": False, **kw})


def test_a_resume_with_another_training_setup_is_refused_and_forced_records_it(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'run.db'}"
    designer = gennas.Designer("nb201", task="mydigits", seed=0)
    first = designer.search(trainer(digits), budget=1, storage=url, study_name="my1")
    assert len(first) == 1 and not first.failures
    attrs = first.store.study.user_attrs
    assert (attrs["epochs"], attrs["lr"], attrs["build_options"], attrs["input_shape"]) == (1, 0.05, TINY, [1, 8, 8])
    assert (attrs["num_classes"], attrs["train_samples"], attrs["val_samples"]) == (10, 52, 12)

    again = gennas.Designer("nb201", task="mydigits", seed=0)
    with pytest.raises(GennasError, match=r"study 'my1' was run with epochs=1, this run has epochs=2; .*force=True"):
        again.search(trainer(digits, epochs=2), budget=2, storage=url, study_name="my1", resume=True)
    with pytest.raises(GennasError, match=r"build_options=\{'channels': 8, 'cells_per_stage': 1\}, this run has "
                                          r"build_options=\{\}"):
        again.search(trainer(digits, build_options={}), budget=2, storage=url, study_name="my1", resume=True)
    assert len(ResultStore.open("nb201", url, "my1", resume=True)) == 1  # nothing was verified
    same = again.search(trainer(digits), budget=1, storage=url, study_name="my1", resume=True)
    assert same.resumed == 1 and len(same) == 1

    forced = again.search(trainer(digits, epochs=2), budget=1, storage=url, study_name="my1", resume=True, force=True)
    attrs = forced.store.study.user_attrs
    assert attrs["epochs"] == 2 and attrs[CHANGES_ATTR] == [{"after": 1, "from": {"epochs": 1}, "to": {"epochs": 2}}]


def test_a_resume_on_other_images_of_the_same_shape_or_another_optimiser_setting_is_refused(digits, tmp_path,
                                                                                          monkeypatch):
    """Other data of the same shape and counts, or another weight decay, was resumed without a word
    and its scores mixed with the study's (user walk 52)."""
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'run.db'}"
    first = gennas.Designer("nb201", task="mydigits", seed=0).search(trainer(digits), budget=1, storage=url,
                                                                      study_name="d")
    assert set(first.store.study.user_attrs["data_keys"]) == {"train", "val"}
    other = image_loaders("digits", batch_size=32, channels=1, seed=1, limit=64)  # other images, same counts
    again = gennas.Designer("nb201", task="mydigits", seed=0)
    with pytest.raises(GennasError, match=r"study 'd' was run with data_keys=\{'train': '[0-9a-f]{12}'"):
        again.search(trainer(other), budget=2, storage=url, study_name="d", resume=True)
    with pytest.raises(GennasError, match=r"weight_decay=0.0005, this run has weight_decay=0.001"):
        again.search(trainer(digits, weight_decay=1e-3), budget=2, storage=url, study_name="d", resume=True)
    assert len(again.search(trainer(digits), budget=2, storage=url, study_name="d", resume=True)) == 2


def test_a_cli_study_resumes_from_python_where_its_settings_agree(digits, tmp_path, bench):
    """The CLI recorded epochs and limit only: the settings it lacks are not changes."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli_attrs = {"method": "random", "task": "digits", "evaluator": "train", "seed": 0, "epochs": 1, "limit": 64}
    scores = CallableEvaluator(lambda a: bench.accuracy(a, "cifar10"), kind="train")
    run_search(RandomSearch("nb201", seed=0), scores, 1, storage=url, study_name="cli", attrs=cli_attrs,
               progress=False)
    python_attrs = {key: value for key, value in cli_attrs.items() if key not in ("epochs", "limit")}
    out = run_search(RandomSearch("nb201", seed=0), trainer(digits), 1, storage=url, study_name="cli",
                     attrs=python_attrs, resume=True, progress=False)
    assert out.resumed == 1 and out.store.study.user_attrs["lr"] == 0.05
    with pytest.raises(GennasError, match="epochs=1, this run has epochs=3"):
        run_search(RandomSearch("nb201", seed=0), trainer(digits, epochs=3), 2, storage=url, study_name="cli",
                   attrs=python_attrs, resume=True, progress=False)


def test_settings_of_supernet_and_proxy_evaluators_and_of_those_without(bench):
    import torch

    from gennas.evaluators.proxy import ProxyEvaluator
    from gennas.evaluators.supernet import Supernet

    supernet = Supernet("nb201", num_classes=3, in_channels=1, **TINY)
    assert evaluator_settings(supernet) == {"build_options": TINY, "in_channels": 1, "num_classes": 3, "epochs": 0}
    proxy = ProxyEvaluator("nb201", "synflow", data=(torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)))
    assert evaluator_settings(proxy) == {"build_options": {}, "input_shape": [1, 8, 8]}
    assert evaluator_settings(CallableEvaluator(lambda a: 1.0)) == {}
    assert evaluator_settings(gennas.TableEvaluator(bench, "cifar10")) == {}


def test_an_evaluator_of_another_space_is_refused_before_anything_is_verified(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    darts = TrainEvaluator("darts", *digits, epochs=1, progress=False)
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with pytest.raises(GennasError, match="evaluator .*TrainEvaluator.* is for space 'darts'.* verifies 'nb201'"):
        gennas.Designer("nb201", task="x").search(darts, budget=3, storage=url)
    assert not (tmp_path / "other.db").exists()  # refused before a database was made


def test_keep_weights_with_nowhere_to_keep_them_warns_at_search_start(digits, tmp_path):
    seen = []

    class Watch:  # fails fast, so the test trains nothing: the warning comes before any verification
        space, keep_weights, checkpoint_dir = "nb201", True, None

        def evaluate(self, archs):
            seen.append(len(archs))
            return CallableEvaluator(lambda a: 1.0).evaluate(archs)

    with pytest.warns(WeightsNotKept, match=r"keep_weights=True\) has nowhere to keep the trained weights"):
        run_search(RandomSearch("nb201", seed=0), Watch(), 1, progress=False)
    stored = Watch()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", WeightsNotKept)  # a stored search gives it the study's work folder
        run_search(RandomSearch("nb201", seed=0), stored, 1, storage=f"sqlite:///{tmp_path / 'k.db'}", progress=False)
    assert seen == [1, 1] and stored.checkpoint_dir is None  # given for the run, then given back


def test_a_failure_alike_for_every_architecture_stops_the_search(tmp_path):
    calls = []

    def broken(arch):
        calls.append(arch)
        raise ValueError("val_loader yielded labels outside 0..2")

    url = f"sqlite:///{tmp_path / 'fail.db'}"
    with pytest.raises(GennasError, match=r"first 3 verifications .* all failed with the same raised error.*"
                                          r"'ValueError: val_loader yielded labels outside 0..2'; stopped with 17 .*"
                                          r"the 3 failures are set aside in study 's': .*resume it"):
        run_search(RandomSearch("nb201", seed=0), broken, 20, storage=url, study_name="s", progress=False)
    assert len(calls) == SAME_FAILURE_STOP
    # set aside: not results of their architectures, so they count neither as verified nor against the budget
    assert len(ResultStore.open("nb201", url, "s", resume=True)) == 0
    assert load_runs(url, ["s"])[0].notes == ["s: 3 failures set aside (the evaluator failed alike whatever the "
                                              "architecture): not counted as results of their architectures"]
    fixed = run_search(RandomSearch("nb201", seed=0), lambda a: 50.0, 5, storage=url, study_name="s", resume=True,
                       progress=False)
    new = run_search(RandomSearch("nb201", seed=0), lambda a: 50.0, 5, progress=False)
    assert [r.arch for r in fixed.history] == [r.arch for r in new.history]  # as a new study: the 3 verified again
    assert fixed.resumed == 0 and not fixed.failures

    # a score of the wrong type is the evaluator's whatever the architecture (a user walk spent 12 of 12 on it)
    with pytest.raises(GennasError, match=r"TypeError: the evaluator returned str '93.1', not a number"):
        run_search(RandomSearch("nb201", seed=0), lambda a: "93.1", 12, progress=False)

    def per_arch(arch):  # errors naming the architecture: they may depend on it, the search goes on
        raise RuntimeError(f"out of memory on {arch.to_string()}")

    out = run_search(RandomSearch("nb201", seed=0), per_arch, 6, progress=False)
    assert len(out.failures) == 6
    flaky = iter([None, "x", "x", "x", "x"])

    def after_a_success(arch):  # one success: the failures that follow are not the evaluator's alone
        if next(flaky) is None:
            return 1.0
        raise ValueError("x")

    assert len(run_search(RandomSearch("nb201", seed=0), after_a_success, 5, progress=False).failures) == 4


class _OneBadArchitecture:
    """Raises for the second architecture it is given, as an out-of-memory network would: the whole
    batch fails with one text (a code review: a first rule stopped this search)."""

    def __init__(self) -> None:
        self.seen = 0

    def evaluate(self, archs):
        self.seen += len(archs)
        if self.seen - len(archs) < 2 <= self.seen:
            raise RuntimeError("out of memory")
        return CallableEvaluator(lambda a: 50.0).evaluate(archs)


def test_failures_that_may_depend_on_the_architecture_do_not_stop_a_search():
    # one batch of 4 failed alike by one architecture: one evaluation, not three
    out = run_search(RandomSearch("nb201", seed=0), _OneBadArchitecture(), 12, batch_size=4, progress=False)
    assert len(out.failures) == 4 and len(out.history) == 12
    # a returned NaN (a training that diverged) depends on the architecture, however often it comes first
    calls = iter(range(100))
    out = run_search(RandomSearch("nb201", seed=0), lambda a: float("nan") if next(calls) < 3 else 50.0, 6,
                     progress=False)
    assert len(out.failures) == 3 and len(out.history) == 6

    class Diverging:  # a TrainEvaluator's on_diverge="record": one text, yet the architecture's
        def evaluate(self, archs):
            return [Result(a, float("nan"), "train", metadata={"diverged": True}, error="loss diverged")
                    for a in archs]

    assert len(run_search(RandomSearch("nb201", seed=0), Diverging(), 5, progress=False).failures) == 5

    def broken(arch):
        raise ValueError("wrong data")

    # in memory: stopped at the third evaluation, and the message says nothing was kept
    with pytest.raises(GennasError, match="first 6 verifications .*3 evaluations.*in memory: nothing was stored"):
        run_search(RandomSearch("nb201", seed=0), broken, 20, batch_size=2, progress=False)


def test_a_trainevaluator_keeping_weights_in_an_in_memory_search_warns(digits, tmp_path):
    import json

    from gennas.export import export_result

    with pytest.warns(WeightsNotKept, match="TrainEvaluator"):
        out = run_search(RandomSearch("nb201", seed=0), trainer(digits, keep_weights=True), 1, progress=False)
    assert out.best.metadata["checkpoint"] is None  # nothing was kept: the warning said so before training
    # the fresh export is the network verified (1x8x8 digits, the tiny build), not a 3x32x32 full-size one
    build = json.loads(export_result(out.best, tmp_path / "e5", onnx=False)["build"].read_text())
    assert (build["input_shape"], build["build_options"], build["trained"]) == ([1, 1, 8, 8], TINY, False)


def test_a_stored_search_that_kept_no_weights_exports_a_fresh_network_without_a_missing_file_warning(
        digits, tmp_path):
    """keep_weights=False (the default): the checkpoint its metadata names was the training's resume
    state, deleted once stored, and every export warned it missing (a code review)."""
    import json
    import warnings

    from gennas.export import export_result

    url = f"sqlite:///{tmp_path / 'e.db'}"
    out = run_search(RandomSearch("nb201", seed=0), trainer(digits), 1, storage=url, progress=False)
    assert out.best.metadata["keep_weights"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no MissingWeights: nothing was to be kept
        build = json.loads(export_result(out.best, tmp_path / "x", onnx=False)["build"].read_text())
    assert build["trained"] is False and "kept no trained weights" in build["weights"]


def test_ask_and_tell_store_nothing_and_from_study_says_only_a_search_stores(tmp_path, bench, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'tell.db'}"
    designer = gennas.Designer("nb201", task="cifar10", seed=0, storage=url)
    (arch,) = designer.ask(1)
    designer.tell(arch, bench.accuracy(arch, "cifar10"))
    assert len(designer.history) == 1 and not (tmp_path / "tell.db").exists()  # no empty database left
    with pytest.raises(GennasError, match=r"no such file .*only a search stores results .*Designer.ask/tell keep"):
        gennas.Designer.from_study(url, "anything")
    with pytest.raises(GennasError, match=r"storage URL such as sqlite:///run.db, got 123$"):  # no ask/tell matter
        gennas.Designer.from_study(123, "anything")
    designer.search(lambda a: bench.accuracy(a, "cifar10"), budget=2, study_name="s")  # the search stores
    with pytest.raises(GennasError, match=r"no study 'anything'; it holds: s$"):
        gennas.Designer.from_study(url, "anything")


def test_a_search_minimizing_accuracies_is_refused_before_anything_is_verified():
    """Accuracies of a table (kind "table") minimised: the search would look for the worst cells
    (a user walk's designer returned its lowest accuracy, 92.18, without a word); a baseline's
    run_search is refused alike."""
    table = gennas.TableEvaluator("nb201", "cifar10")
    with pytest.raises(GennasError, match=r"kind 'table', which are accuracies in % .*direction='minimize'"):
        run_search(RandomSearch("nb201", seed=0), table, 5, direction="minimize", progress=False)



def test_running_out_of_memory_in_the_same_words_on_the_first_cells_does_not_stop_a_search():
    """A trainer out of GPU memory on the largest cells, which a designer picks first, fails them
    with one text: that depends on the architecture (walk 30 #9: the search stopped as blind, and
    every resume stopped again on the same cells)."""
    def big_cells_fail(arch):
        if arch.to_string().count("nor_conv_3x3") >= 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return 50.0 + arch.to_string().count("skip_connect")

    def always_fails(arch):
        raise MemoryError("Unable to allocate 8.00 GiB for an array")

    out = run_search(RandomSearch("nb201", seed=0), always_fails, 5, progress=False)
    assert len(out.failures) == 5  # each spent one of the budget; none stopped the search
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    result = designer.search(CallableEvaluator(big_cells_fail, kind="train"), budget=6)
    assert len(result.history) == 6


def test_a_score_that_is_no_number_says_what_came_back():
    """None (a timed-out training, a missing return) read "float() argument must be a string or a real
    number, not 'NoneType'", and a tuple likewise (walk 30 #2, #13)."""
    none = CallableEvaluator(lambda a: None).evaluate(gennas.load_space("nb201").sample_many(1, 0))[0]
    assert none.failed and "the evaluator returned None, not a number (a missing return?" in none.error
    pair = CallableEvaluator(lambda a: (93.1, 0.2)).evaluate(gennas.load_space("nb201").sample_many(1, 0))[0]
    assert pair.failed and "the evaluator returned tuple (93.1, 0.2), not a number" in pair.error


def test_an_evaluator_with_retries_tries_a_raised_error_again_and_not_a_returned_nan(bench):
    """One transient crash lost a search its best cell for good: a failed architecture is never asked
    again (walk 30 #3). ``retries`` calls the function again on a raise, within one verification."""
    archs = gennas.load_space("nb201").sample_many(3, 0)
    calls = []

    def crashes_first(arch):
        calls.append(arch)
        if calls.count(arch) == 1:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return 50.0

    out = CallableEvaluator(crashes_first, kind="train", retries=1).evaluate(archs)
    assert [r.score for r in out] == [50.0] * 3 and all(r.metadata == {"attempts": 2} for r in out)
    assert len(calls) == 6
    diverged = CallableEvaluator(lambda a: calls.append(a) or float("nan"), retries=2).evaluate(archs[:1])
    assert diverged[0].failed and len(calls) == 7  # NaN is the architecture's: not tried again
    assert "retries=2" in repr(CallableEvaluator(lambda a: 1.0, retries=2))
    for bad in (-1, 1.5, True):
        with pytest.raises(GennasError, match="retries must be a whole number"):
            CallableEvaluator(lambda a: 1.0, retries=bad)


def test_an_evaluator_returning_no_finite_score_from_the_first_stops_after_five_evaluations():
    """A training that diverges whatever the architecture (a learning rate) spent a walk's whole
    budget of 25 on NaN (walk 30 #16); one diverged architecture among results never stops a search."""
    calls = []

    def diverges(arch):
        calls.append(arch)
        return float("nan")

    with pytest.raises(GennasError, match=r"first 5 verifications .* all failed alike: 'the evaluator returned no "
                                          r"finite score \(NaN or inf.*stopped with 20 of the budget of 25 left"):
        run_search(RandomSearch("nb201", seed=0), diverges, 25, progress=False)
    assert len(calls) == 5
    flaky = iter([float("nan")] * 4 + [50.0] + [float("nan")] * 10)
    assert len(run_search(RandomSearch("nb201", seed=0), lambda a: next(flaky), 12, progress=False).failures) == 11


def test_an_accuracy_in_percent_outside_0_to_100_is_a_failed_verification():
    """kind="train" declares accuracies in %: 150 or 1e308 became a search's best and generate's #1
    without a word (walk 30 #19)."""
    archs = gennas.load_space("nb201").sample_many(3, 0)
    out = CallableEvaluator(lambda a: 150.0, kind="train").evaluate(archs[:1])[0]
    assert out.failed and "returned 150 for an accuracy in % (kind 'train'): outside 0-100" in out.error
    assert not CallableEvaluator(lambda a: 150.0).evaluate(archs[:1])[0].failed  # no unit claimed: any score
    assert not CallableEvaluator(lambda a: 0.93, kind="train").evaluate(archs[:1])[0].failed
