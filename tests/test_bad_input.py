"""Bad input never crashes: only GennasError subclasses with a message come out, and nothing hangs.

Property-based (hypothesis, derandomized so CI runs are repeatable) over architecture strings,
space names, checkpoint contents, predictor scores and steps, sample counts, evaluator
outputs and CLI arguments.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gennas.checkpoint import FORMAT, load_checkpoint
from gennas.errors import GennasError, InvalidArchitecture, UnknownSpace
from gennas.evaluators.base import Result
from gennas.spaces import load_space
from tests.conftest import BEST_C10

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=8)

# digits that str.isdigit() accepts but are not ASCII (superscripts, Arabic-Indic, fullwidth, ...)
ODD_DIGITS = "\u00b9\u00b2\u0660\u0661\u06f1\u0967\uff11\u2460"


def _nb201_like() -> st.SearchStrategy[str]:
    """Strings close to nb201 cells: real op names, separators and index characters mixed up."""
    op = st.sampled_from(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "conv", ""])
    idx = st.text(alphabet="0123" + ODD_DIGITS + " -+|~", min_size=0, max_size=3)
    term = st.builds(lambda o, i: f"{o}~{i}", op, idx)
    group = st.lists(term, min_size=0, max_size=4).map(lambda ts: "|" + "|".join(ts) + "|")
    return st.lists(group, min_size=1, max_size=4).map("+".join)


@FUZZ
@given(text=st.one_of(st.text(max_size=80), _nb201_like()))
def test_architecture_strings_parse_or_raise_invalid_architecture(text):
    for name in ("nb201", "mbv3"):
        try:
            graph = load_space(name).from_string(text)
        except InvalidArchitecture as exc:
            assert str(exc)
        else:
            assert graph.to_string() == load_space(name).to_string(graph)


@pytest.mark.parametrize("digit", ODD_DIGITS)
def test_only_ascii_digits_index_inputs(digit):
    text = BEST_C10.replace("~1|+|skip", f"~{digit}|+|skip")
    with pytest.raises(InvalidArchitecture, match="must look like op~input_index"):
        load_space("nb201").from_string(text)


@FUZZ
@given(name=st.one_of(st.text(max_size=30), st.sampled_from(["../spaces/nb201", "/etc/passwd", "nb201/", "./nb201",
                                                              "nb201.yaml", "NB201"])))
def test_space_names_load_or_raise_unknown_space(name):
    try:
        space = load_space(name)
    except UnknownSpace as exc:
        assert "unknown search space" in str(exc)
    else:
        assert space.name == name and "/" not in name and "." not in name


# ---------------------------------------------------------------- checkpoints
def _values() -> st.SearchStrategy:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                     st.text(max_size=8), st.just(torch.zeros(2)), st.just(torch.ones(3, 2)))
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                        max_leaves=6)


@FUZZ
@given(kind=st.sampled_from(["predictor", "latency", "diffusion", "vae", "supernet", "train"]),
       config=st.dictionaries(st.text(max_size=12), _values(), max_size=4),
       state=st.dictionaries(st.text(max_size=12), _values(), max_size=4),
       meta=st.one_of(st.dictionaries(st.text(max_size=8), _values(), max_size=3), _values()))
def test_random_checkpoint_contents_load_or_raise_gennas_error(kind, config, state, meta):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.pt"
        torch.save({"format": FORMAT, "kind": kind, "config": config, "state": state, "meta": meta}, path)
        try:
            load_checkpoint(path, kind)
        except GennasError as exc:
            assert str(path) in str(exc)


def _loader(name):
    from gennas.generators import load_generator
    from gennas.surrogates.latency import LatencyEstimator
    from gennas.surrogates.predictor import Predictor

    return {"predictor_nb201": lambda p: Predictor.load(p),
            "latency_nb201": lambda p: LatencyEstimator.load(p, "nb201"),
            "diffusion_nb201": lambda p: load_generator("nb201", "diffusion", path=p),
            "vae_nb201": lambda p: load_generator("nb201", "vae", path=p)}[name]


@pytest.mark.parametrize("name", ["predictor_nb201", "latency_nb201", "diffusion_nb201", "vae_nb201"])
def test_one_field_replaced_through_the_model_loaders(name):
    from gennas.resources import checkpoints_dir

    shipped = torch.load(checkpoints_dir() / f"{name}.pt", weights_only=True)
    fields = [(section, key) for section in ("config", "state", "meta") for key in list(shipped[section])[:12]]

    @settings(FEW, max_examples=4 if name.startswith("predictor") else 12)  # a predictor loads in ~0.5 s
    @given(field=st.sampled_from(fields), value=_values())
    def check(field, value):
        section, key = field
        blob = {**shipped, section: {**shipped[section], key: value}}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.pt"
            torch.save(blob, path)
            try:
                _loader(name)(path)
            except GennasError as exc:
                assert str(path) in str(exc)

    check()


# ---------------------------------------------------------------- predictor and generator limits
@pytest.fixture(scope="module")
def tiny_predictor():
    from gennas.surrogates.predictor import Predictor
    from gennas.surrogates.predictor_model import PredictorConfig

    return Predictor("nb201", PredictorConfig(hidden=8, members=1, augment=0))


@pytest.mark.parametrize("scores, match", [
    ([1e308, 1.0, 2.0], r"scores must be within \+/-1e\+30, got 1e\+308"),
    ([-1e31, 1.0, 2.0], "scores must be within"),
    ([math.nan, 1.0, 2.0], "NaN or infinite"),
    ([math.inf, 1.0, 2.0], "NaN or infinite"),
])
def test_predictor_refuses_scores_it_cannot_learn(tiny_predictor, nb201, scores, match):
    archs = nb201.sample_many(3, 0)
    with pytest.raises(GennasError, match=match):
        tiny_predictor.fit(archs, scores, task="t", steps=1)
    with pytest.raises(GennasError, match=match):
        tiny_predictor.update(archs, scores, task="t", steps=1)


@pytest.mark.parametrize("steps", [0, -1, 1.5, True, "10"])
def test_predictor_steps_must_be_a_positive_integer(tiny_predictor, nb201, steps):
    archs = nb201.sample_many(3, 0)
    with pytest.raises(GennasError, match="steps must be a positive integer"):
        tiny_predictor.fit(archs, [1.0, 2.0, 3.0], task="t", steps=steps)
    if type(steps) is int and steps == 0:  # update(steps=0) remembers the results for later updates, no step
        before = {name: p.detach().clone() for name, p in tiny_predictor.members[0].named_parameters()}
        tiny_predictor.update(archs, [1.0, 2.0, 3.0], task="t", steps=0)
        assert all(torch.equal(p, before[name]) for name, p in tiny_predictor.members[0].named_parameters())
        return
    with pytest.raises(GennasError, match="steps must be a positive integer"):
        tiny_predictor.update(archs, [1.0, 2.0, 3.0], task="t", steps=steps)


def test_refused_fit_leaves_a_trained_predictor_as_it_was(tiny_predictor, nb201):
    archs = nb201.sample_many(4, 2)
    tiny_predictor.fit(archs, [1.0, 2.0, 3.0, 4.0], task="kept", steps=2)
    before = tiny_predictor.predict(archs, task="kept")[0]
    for scores, steps in (([1.0, 2.0, 3.0, 4.0], 0), ([1e308, 1.0, 2.0, 3.0], 2), (["a", "b", "c", "d"], 2)):
        with pytest.raises(GennasError, match="steps must be|scores must be"):
            tiny_predictor.fit(archs, scores, task="other", steps=steps)
    assert tiny_predictor.tasks == ["kept"] and (tiny_predictor.predict(archs, task="kept")[0] == before).all()


def test_huge_but_allowed_scores_predict_finite(tiny_predictor, nb201):
    archs = nb201.sample_many(4, 1)
    tiny_predictor.fit(archs, [1e29, -1e29, 5e28, 0.0], task="t", steps=2)
    mean, std = tiny_predictor.predict(archs, task="t")
    assert all(map(math.isfinite, [*mean, *std]))


@FUZZ
@given(n=st.one_of(st.integers(-10, 10**12), st.floats(), st.booleans(), st.none(), st.text(max_size=3)))
def test_sample_counts_are_checked_before_anything_is_allocated(n):
    from gennas.generators.base import MAX_COUNT, check_count

    try:
        assert check_count(n) == n and 1 <= n <= MAX_COUNT
    except GennasError as exc:
        assert "number of architectures" in str(exc)


def test_generating_a_billion_is_refused_at_once():
    from gennas.generators import load_generator

    with pytest.raises(GennasError, match="at most 100,000 per call"):
        load_generator("nb201", "diffusion").sample(10**9)
    with pytest.raises(GennasError, match="at most 100,000 per call"):
        load_generator("nb201", "vae").sample_choices(10**9)


# ---------------------------------------------------------------- evaluator outputs
class _Scripted:
    """An evaluator returning whatever score (or object) it is given."""

    kind = "scripted"

    def __init__(self, values):
        self.values = list(values)

    def evaluate(self, archs):
        return [Result(a, self.values.pop(0) if self.values else 1.0, "scripted") for a in archs]


@FUZZ
@given(values=st.lists(st.one_of(st.none(), st.floats(), st.integers(-10**30, 10**30), st.text(max_size=5),
                                 st.booleans(), st.just([1.0])), min_size=3, max_size=3))
def test_odd_evaluator_outputs_become_failed_results_never_crashes(nb201, values):
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    out = run_search(RandomSearch(nb201, seed=0), _Scripted(values), 3, progress=False)
    assert len(out) == 3
    for result, value in zip(out.history, values):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        assert result.failed == (not is_number or not math.isfinite(float(value)))
        if not is_number:
            assert "not a number" in result.error


def test_callable_outputs_never_crash(nb201):
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    values = iter([None, "x", math.inf, 1e308, -1e308, float("nan"), [1], 3])
    out = run_search(RandomSearch(nb201, seed=0), lambda arch: next(values), 8, storage=None, progress=False)
    assert [r.failed for r in out.history] == [True, True, True, False, False, True, True, False]
    assert out.best.score == 1e308


def test_one_element_numpy_arrays_and_torch_tensors_are_scores_alike(nb201):
    """A user walk: an evaluator returning np.array([x]) failed every verification while
    torch.tensor([x]) was taken; both are their one value now, and neither of more values is."""
    import numpy as np

    import gennas
    from gennas.evaluators.base import CallableEvaluator

    arch = nb201.sample(0)
    score = lambda value: CallableEvaluator(lambda a: value).evaluate([arch])[0]  # noqa: E731
    for one in (np.array([93.5]), torch.tensor([93.5]), np.array(93.5), torch.tensor(93.5), np.float32(93.5)):
        assert score(one).score == 93.5 and not score(one).failed
    for many in (np.array([93.5, 1.0]), torch.tensor([93.5, 1.0])):
        assert score(many).failed and "an array of 2 values, not one number" in score(many).error
    for slip in (np.array([True]), np.True_):
        assert score(slip).failed and "bool True, not a number" in score(slip).error
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    designer.tell(arch, np.array([93.5]))  # tell takes them as the evaluator does
    assert designer.history[-1].score == 93.5
    with pytest.raises(GennasError, match="score must be a number"):
        designer.tell(nb201.sample(1), torch.tensor([1.0, 2.0]))


def test_an_evaluator_returning_no_results_is_named(nb201):
    from gennas.baselines import RandomSearch
    from gennas.search import run_search

    class Broken:
        def evaluate(self, archs):
            return [0.5 for _ in archs]

    with pytest.raises(GennasError, match="Broken.evaluate returned float items; it must return gennas Result"):
        run_search(RandomSearch(nb201, seed=0), Broken(), 2, progress=False)


# ---------------------------------------------------------------- command line
runner = CliRunner()


def _one_line_or_ok(result) -> None:
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


@FUZZ
@given(arch=st.one_of(st.text(min_size=1, max_size=60).filter(lambda t: not t.startswith("-")), _nb201_like()))
def test_cli_show_any_string(arch):
    from gennas.cli.app import app

    _one_line_or_ok(runner.invoke(app, ["show", arch, "--json"]))


@FEW
@given(seed=st.integers(-2**70, 2**70), n=st.integers(-5, 10**10))
def test_cli_sample_any_seed_and_count(seed, n):
    from gennas.cli.app import app

    _one_line_or_ok(runner.invoke(app, ["sample", "--seed", str(seed), "-n", str(min(n, 3) if n < 10**5 else n),
                                        "--json"]))


@FEW
@given(method=st.sampled_from(["random", "evolution", "tpe", "local"]), seed=st.integers(-2**40, 2**40),
       budget=st.integers(-2, 2))
def test_cli_search_any_seed_and_budget(method, seed, budget):
    from gennas.cli.app import app

    with tempfile.TemporaryDirectory() as tmp:
        _one_line_or_ok(runner.invoke(app, ["search", "--method", method, "--seed", str(seed), "-b", str(budget),
                                            "--storage", str(Path(tmp) / "s.db"), "-q", "--json"]))


@pytest.mark.parametrize("method", ["random", "evolution", "local", "tpe", "bananas"])
def test_python_baselines_refuse_a_negative_seed_by_name(method):
    from gennas.baselines import make_baseline

    with pytest.raises(GennasError, match="seed must be a non-negative integer"):
        make_baseline(method, "nb201", -1)


@pytest.mark.parametrize("seed", ["x", -1, 1.5, True, 2**40])
def test_designer_seeds_are_checked_where_they_enter(seed):
    """A seed that numpy, torch or optuna would refuse deep inside (a plain TypeError from
    generate) is a GennasError naming it when the designer is made."""
    import gennas

    with pytest.raises(GennasError, match="seed must be an integer from 0 to"):
        gennas.Designer("nb201", task="cifar10", seed=seed)


def test_a_score_that_is_not_finite_is_warned_at_the_users_line(bench):
    """``Designer.tell`` runs under its thread setting's wrapper: the warning named
    gennas/threads.py until it looked for the first frame outside the package."""
    import warnings

    import gennas

    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        designer.tell(bench.archs()[5], float("nan"))
    assert [Path(w.filename).name for w in caught if "not finite" in str(w.message)] == [Path(__file__).name]


def test_an_architecture_told_again_with_another_score_warns(bench):
    """``tell(a, 93.76)`` then ``tell(a, 50.0)`` was taken silently (and the second score then set
    every statement); the same score again is a repeat, not a conflict: learned once (walk 29 #5)."""
    import warnings

    import gennas
    from gennas.design.scores import RepeatedArchitecture, ToldTwice

    designer, arch = gennas.Designer("nb201", task="cifar10", seed=0), bench.archs()[7]
    designer.tell(arch, 93.76)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RepeatedArchitecture)
        with pytest.warns(ToldTwice):
            designer.tell(arch, 93.76)
    with pytest.warns(RepeatedArchitecture, match="was told 93.76 before"):
        designer.tell(arch, 50.0)
    assert len(designer.history) == 2


def test_a_proxy_searched_under_a_dataset_s_name_is_warned_at_the_users_line():
    """`Designer(task="mnist").search(ProxyEvaluator(..."synflow"...))` learned synflow scores as
    mnist's own, without a word on mbv3 (the CLI names the task 'mnist-synflow')."""
    import warnings

    import gennas
    from gennas.evaluators.proxy import ProxyEvaluator
    from gennas.search.studies import designer_study

    space = gennas.load_space("nb201")
    for task, warned in (("mnist", True), ("mnist-synflow", False)):
        designer = gennas.Designer(space, task=task, seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            designer_study(designer, ProxyEvaluator(space, "synflow"), None, None)
        said = [w for w in caught if "names no proxy" in str(w.message)]
        assert bool(said) == warned
        assert all("task='mnist-synflow'" in str(w.message) and Path(w.filename).name == Path(__file__).name
                   for w in said)


def test_results_told_by_hand_in_the_wrong_unit_or_kind_are_warned_about(bench):
    """A user walk told `Result(arch, 0.91, "train")` (a fraction) and read "verified 0.91 %", told 102
    with kind "train" and a kind "trained", all without a word."""
    import warnings

    import gennas
    from gennas.evaluators import Result

    archs = bench.archs()[:6]
    designer = gennas.Designer("nb201", task="my-images", seed=0)
    with pytest.warns(UserWarning, match=r"all at most 1 \(e.g. 0.91, read as 0.91 %\)"):
        designer.tell([Result(archs[0], 0.91, "train"), Result(archs[1], 0.88, "train")])
    with pytest.warns(UserWarning, match="1 of them lie outside 0-100 \\(e.g. 102\\)"):
        designer.tell([Result(archs[2], 102.0, "train")])
    with pytest.raises(GennasError, match="kind 'trained' .did you mean 'train'.., which gennas does not know"):
        designer.tell([Result(archs[3], 91.0, "trained")])  # walk 26 #4: refused, not a unit-less score
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # accuracies in % of two kinds, and a proxy of one's own alone: nothing to say
        designer.tell([Result(archs[4], 91.0, "train"), Result(archs[5], 93.0, "table")])
        gennas.Designer("nb201", task="my-images", seed=0).tell([Result(archs[5], 0.5, "proxy:my-proxy")])
    # accuracies beside a score of no unit are learned as one unit (walk 21: 31.70 stated for 70.36)
    with pytest.warns(UserWarning, match="'train' .accuracies in %. and of kind 'callable' are told together"):
        gennas.Designer("nb201", task="my-images", seed=0).tell([Result(archs[4], 91.0, "train"),
                                                                 Result(archs[5], 93.5, "callable")])


def test_tell_checks_results_as_it_checks_arch_and_score(bench):
    """A walk's notebook: `Result("<string>", 40.0, "train")` raised a raw AttributeError, a string
    score inside a Result a raw TypeError, and `tell(result, 5.0)` dropped the 5.0 silently."""
    import gennas
    from gennas.evaluators import Result

    designer, arch = gennas.Designer("nb201", task="my-images", seed=0), bench.archs()[5]
    with pytest.raises(gennas.GennasError, match="a Result carries its score"):
        designer.tell(Result(arch, 41.0, "train"), 5.0)
    with pytest.raises(gennas.GennasError, match="has score '40', not a number; nothing was told"):
        designer.tell([Result(arch, "40", "train")])
    designer.tell([Result(arch.to_string(), 40.0, "train")])  # a string arch, as tell(string, score) takes
    assert designer.history[-1].arch == arch and len(designer.history) == 1


def test_ask_says_when_it_finds_fewer_than_asked_and_limits_k_itself(bench):
    import gennas
    from gennas.design.budget import FewerDesigns

    designer = gennas.Designer("nb201", task="cifar10", seed=0, device="pixel3", max_latency_ms=4.0)
    with pytest.warns(FewerDesigns, match=r"ask\(500\) found \d+ architectures not verified or asked before"):
        asked = designer.ask(500)
    assert 0 < len(asked) < 500
    with pytest.raises(gennas.GennasError, match="at most 10,000 per call, got 20,000$"):
        designer.ask(20_000)


def test_an_interrupted_tell_says_its_results_are_recorded(bench, monkeypatch):
    """Ctrl-C during tell's refit left the results in the history; told again, they counted twice,
    without a word (a user walk)."""
    import gennas
    from gennas.design.scores import InterruptedTell
    from gennas.evaluators import Result

    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    archs = bench.archs()[:2]

    def interrupted(new):
        raise KeyboardInterrupt

    monkeypatch.setattr(designer.loop, "_refit", interrupted)
    with pytest.warns(InterruptedTell, match="recorded these 2 results .* do not tell them again"):
        with pytest.raises(KeyboardInterrupt):
            designer.tell([Result(a, float(bench.accuracy(a, "cifar10")), "table") for a in archs])
    assert [r.arch for r in designer.history] == archs
