"""The search harness: budget, storage, resume, failures, deduplication, latency filter, CLI."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

import gennas
from gennas.baselines import RandomSearch, RegularizedEvolution
from gennas.cli.app import app
from gennas.errors import GennasError
from gennas.search import LatencyFilter, SearchResult, make_optimizer, run_search
from gennas.search.storage import ResultStore


class Counting:
    """Table accuracy on cifar10, remembering every architecture it was asked about."""

    def __init__(self, bench, fail_on=None, interrupt_at=None):
        self.bench, self.calls, self.fail_on, self.interrupt_at = bench, [], fail_on, interrupt_at

    def __call__(self, arch):
        self.calls.append(arch)
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        if self.fail_on is not None:
            outcome = self.fail_on(arch)
            if outcome == "raise":
                raise ValueError("cannot train this one")
            if outcome == "nan":
                return math.nan
        return self.bench.accuracy(arch, "cifar10")


def test_run_search_budget_ranking_and_storage(tmp_path, bench):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    fn = Counting(bench)
    result = run_search(RegularizedEvolution("nb201", seed=0), fn, budget=30, storage=url, study_name="evo",
                        progress=False)
    assert isinstance(result, SearchResult) and len(result) == 30 == len(fn.calls)
    hashes = [r.arch.canonical_hash() for r in result.history]
    assert len(set(hashes)) == 30  # never two isomorphic cells
    scores = [r.score for r in result.results]
    assert scores == sorted(scores, reverse=True) and result.best.score == max(scores)
    curve = result.best_so_far()
    assert all(b >= a for a, b in zip(curve, curve[1:])) and curve[-1] == result.best.score
    stored = ResultStore.open("nb201", url, "evo", resume=True).results()
    assert [(r.arch, r.score) for r in stored] == [(r.arch, r.score) for r in result.history]


def test_failures_are_recorded_and_the_search_goes_on(bench, nb201):
    def fail_on(arch):
        first = nb201.choices(arch)[0]
        return "raise" if first == "none" else "nan" if first == "avg_pool_3x3" else None

    fn = Counting(bench, fail_on)
    result = run_search(RandomSearch("nb201", seed=1), fn, budget=40, progress=False)
    assert len(result) == 40
    failed = result.failures
    assert failed and all(nb201.choices(r.arch)[0] in ("none", "avg_pool_3x3") for r in failed)
    assert any("ValueError: cannot train this one" in r.error for r in failed)
    assert len(result.results) == 40 - len(failed)
    trials = result.store.study.get_trials()
    assert sum(t.state.name == "FAIL" for t in trials) == len(failed)
    # the user is told (the CLI prints notes), with the commonest error
    assert any(note.startswith(f"{len(failed)} of 40 verifications failed") and "cannot train this one" in note
               or "returned nan" in note for note in result.notes)
    broken = run_search(RandomSearch("nb201", seed=1), lambda a: float("inf"), budget=3, progress=False)
    assert broken.best is None and broken.notes == [
        "all 3 verifications failed (each spent one of the budget); nothing was learned: "  # in memory: not kept
        "'evaluator returned inf' (3x)"]


def test_bad_input_fails_before_any_work(bench):
    fn = Counting(bench)
    for budget in (0, -3, 2.5, True):
        with pytest.raises(GennasError, match="budget"):
            run_search(RandomSearch("nb201", 0), fn, budget=budget, progress=False)
    with pytest.raises(GennasError, match="batch_size"):
        run_search(RandomSearch("nb201", 0), fn, budget=5, batch_size=0, progress=False)
    with pytest.raises(GennasError, match="cannot open storage"):
        run_search(RandomSearch("nb201", 0), fn, budget=5, storage="sqlite:////no/such/dir/run.db", progress=False)
    with pytest.raises(GennasError, match="not an optimizer"):
        run_search(object(), fn, budget=5, progress=False)
    with pytest.raises(GennasError, match="unknown search method"):
        make_optimizer("gradient-descent", "nb201")
    assert fn.calls == []


def test_resume_after_interrupt(tmp_path, bench):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    fn = Counting(bench, interrupt_at=8)
    with pytest.raises(KeyboardInterrupt):
        run_search(RandomSearch("nb201", 3), fn, budget=20, storage=url, study_name="r", progress=False)
    stored = ResultStore.open("nb201", url, "r", resume=True).results()
    assert len(stored) == 7 and not any(r.failed for r in stored)  # every verified result, nothing half-written

    fresh = RandomSearch("nb201", 4)
    fn2 = Counting(bench)
    result = run_search(fresh, fn2, budget=20, storage=url, study_name="r", resume=True, progress=False)
    assert result.resumed == 7 and len(result) == 20 and len(fn2.calls) == 13
    assert fresh.history[:7] == stored  # the optimizer was told the stored history first
    assert len({r.arch.canonical_hash() for r in result.history}) == 20


@pytest.mark.parametrize("method, batch", [("random", 1), ("evolution", 1), ("tpe", 3), ("designer", 2)])
def test_a_seeded_search_resumed_after_an_interrupt_goes_where_it_would_have_gone(tmp_path, bench, method, batch):
    """Resumed, the same seed verified other architectures than an uninterrupted run from the
    first one after the interrupt (the stored results were told at once; the optimizer's draws
    started afresh). Now they are replayed as the run told them."""
    from gennas.search import make_optimizer

    url = f"sqlite:///{tmp_path / 'run.db'}"
    straight = run_search(make_optimizer(method, "nb201", seed=5), Counting(bench), budget=14, batch_size=batch,
                          progress=False)
    with pytest.raises(KeyboardInterrupt):  # in the middle of a batch: that batch is verified again
        run_search(make_optimizer(method, "nb201", seed=5), Counting(bench, interrupt_at=8), budget=14,
                   batch_size=batch, storage=url, study_name="r", progress=False)
    fn = Counting(bench)
    resumed = run_search(make_optimizer(method, "nb201", seed=5), fn, budget=14, batch_size=batch, storage=url,
                         study_name="r", resume=True, progress=False)
    assert [r.arch.to_string() for r in resumed.history] == [r.arch.to_string() for r in straight.history]
    assert len(fn.calls) == 14 - resumed.resumed


def test_batches_and_duplicate_proposals(bench, nb201):
    seen_batches = []

    class BatchEvaluator:
        def evaluate(self, archs):
            from gennas.evaluators.base import Result

            seen_batches.append(len(archs))
            return [Result(a, bench.accuracy(a, "cifar100"), "table") for a in archs]

    result = run_search(RandomSearch(nb201, 2), BatchEvaluator(), budget=10, batch_size=4, progress=False)
    assert seen_batches == [4, 4, 2] and len(result) == 10

    class Stubborn:  # proposes the same cell forever: verified once, then the harness stops
        space = nb201

        def ask(self, k):
            return [nb201.sample(0)] * k

        def tell(self, results):
            pass

    result = run_search(Stubborn(), lambda a: 1.0, budget=5, progress=False)
    assert len(result) == 1 and result.exhausted


def test_latency_filter_spends_no_budget_on_slow_archs(bench):
    limit = 9.0
    inner = RandomSearch("nb201", 5)
    filtered = LatencyFilter(inner, lambda a: bench.latency(a, "1080ti_1"), limit, "1080ti_1")
    result = run_search(filtered, lambda a: bench.accuracy(a, "cifar10"), budget=15, progress=False)
    assert len(result) == 15 and not result.failures
    assert all(bench.latency(r.arch, "1080ti_1") <= limit for r in result.history)
    assert filtered.rejected > 0 and sum(r.failed for r in inner.history) == filtered.rejected
    # an optimizer in a fixed order (big, slow cells first) reaches a tight budget's cells only
    # after thousands of proposals: the filter keeps looking (100 rounds of one verified nothing)
    ranked = make_optimizer("transfer-topk", "nb201", seed=0, task="cifar10")
    tight = LatencyFilter(ranked, lambda a: bench.latency(a, "pixel3"), 4.0, "pixel3")
    found = run_search(tight, lambda a: bench.accuracy(a, "cifar10"), budget=3, progress=False)
    assert len(found) == 3 and all(bench.latency(r.arch, "pixel3") <= 4.0 for r in found.history)
    assert tight.rejected > 2000


def test_a_baseline_made_with_a_budget_keeps_it(bench):
    """make_optimizer(<baseline>, device=, max_latency_ms=) kept no budget (10 of 10 verified over
    2 ms on pixel3), and under a tight one every baseline verified only constant-output cells
    (pixel3 times them at 0.003 ms): the registry's baselines keep the budget as the designer does."""
    for method in ("random", "evolution"):
        optimizer = make_optimizer(method, "nb201", seed=0, task="cifar10", device="pixel3", max_latency_ms=3.27)
        result = run_search(optimizer, lambda a: bench.accuracy(a, "cifar10"), budget=10, progress=False)
        assert len(result) == 10 and all(bench.latency(r.arch, "pixel3") <= 3.27 for r in result.history)
        assert not any(bench.space.output_is_constant(r.arch) for r in result.history)
    tight = make_optimizer("random", "nb201", seed=0, task="cifar10", device="pixel3", max_latency_ms=1.07)
    found = run_search(tight, lambda a: bench.accuracy(a, "cifar10"), budget=4, progress=False)
    # none of the constant-output cells it verified before (at chance); random may not reach the two working ones
    assert not any(bench.space.output_is_constant(r.arch) for r in found.history) and len(found) <= 2
    with pytest.raises(GennasError, match="needs a device"):
        make_optimizer("random", "nb201", seed=0, max_latency_ms=2.0)


runner = CliRunner()


def test_cli_search_and_resume(tmp_path):
    db = str(tmp_path / "cli.db")
    args = ["search", "--method", "local", "--budget", "6", "--storage", db, "--seed", "0", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert out["verified"] == 6 and out["resumed"] == 0 and len(out["top"]) == 6
    assert out["top"][0]["score"] >= out["top"][-1]["score"] and out["top"][0]["kind"] == "table"
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = runner.invoke(app, [*args[:4], "9", *args[5:], "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["resumed"] == 6 and json.loads(resumed.stdout)["verified"] == 9


def test_cli_designer_search_says_how_to_design_from_what_it_learned(tmp_path):
    """nb201 ships its predictor, which a search never overwrites: what it learned is in the study,
    so the hint names the study (``--task`` alone would design from the shipped predictor: a circle)."""
    db = str(tmp_path / "d.db")
    out = runner.invoke(app, ["search", "--method", "designer", "--budget", "2", "--storage", db, "--quiet"])
    assert out.exit_code == 0, out.output
    hint = [line for line in out.stderr.splitlines() if line.startswith("design from what it learned")]
    assert hint == [f"design from what it learned: gennas design --storage {db} --study "
                    "designer-nb201-cifar10-table-seed0"]


def test_a_budget_no_cell_keeps_fails_before_a_study_is_made(tmp_path):
    """The designer's search (CLI and API) names the fastest cell before it creates a study (an
    empty study was left behind)."""
    import gennas
    import optuna

    db = tmp_path / "inf.db"
    out = runner.invoke(app, ["search", "--method", "designer", "--budget", "2", "--device", "pixel3",
                              "--max-latency-ms", "0.01", "--storage", str(db)])
    assert out.exit_code == 2 and "fastest" in out.stderr
    designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=0.01, seed=0)
    with pytest.raises(GennasError, match="fastest"):
        designer.search(lambda a: 1.0, budget=2, storage=str(db), study_name="api")
    assert optuna.get_all_study_names(f"sqlite:///{db}") == []


@pytest.mark.parametrize("args, message", [
    (["--budget", "0"], "budget"),
    (["--storage", "sqlite:////no/such/dir/x.db"], "cannot open storage"),
    (["--task", "imagenet"], "unknown nb201 table dataset"),
    (["--evaluator", "oracle"], "unknown evaluator"),
    (["--method", "magic"], "unknown search method"),
    (["--device", "pixel3"], "go together"),
])
def test_cli_bad_input(tmp_path, args, message):
    defaults = {"--method": "random", "--storage": str(tmp_path / "x.db")}  # each option once: a repeat is refused
    given = [token for option, value in defaults.items() if option not in args for token in (option, value)]
    result = runner.invoke(app, ["search", *given, *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_objects_without_the_protocol_are_refused_before_verifying(bench, nb201):
    verified = []

    class AskOnly:  # no tell(results): not an optimizer, whatever else it has
        space = nb201

        def ask(self, k):
            return RandomSearch(nb201, 6).ask(k)

    with pytest.raises(GennasError, match="not an optimizer.*missing tell"):
        run_search(AskOnly(), lambda a: verified.append(a) or 1.0, budget=3, progress=False)
    assert verified == []


def test_cli_is_seeded_and_respects_latency(tmp_path, bench):
    runs = [runner.invoke(app, ["search", "--method", "evolution", "--budget", "5", "--seed", "3", "--json",
                                "--storage", str(tmp_path / f"{i}.db"), "--device", "pixel3",
                                "--max-latency-ms", "5"]) for i in range(2)]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    tops = [[row["arch"] for row in json.loads(r.stdout)["top"]] for r in runs]
    assert tops[0] == tops[1] and len(tops[0]) == 5
    assert all(bench.latency(a, "pixel3") <= 5 for a in tops[0])


def test_transfer_topk_verifies_what_was_best_on_the_other_datasets(bench, nb201):
    optimizer = make_optimizer("transfer-topk", nb201, seed=0, task="cifar10")
    assert optimizer.sources == ["cifar100"]  # the target's own labels are left out
    # named as the designer's held-out runs name a table standing in (it ranked by cifar100's own table)
    assert make_optimizer("transfer-topk", nb201, seed=0, task="new-cifar100").sources == ["cifar10"]
    first = optimizer.ask(3)
    on_cifar100 = bench.accuracy_of(first, "cifar100")
    assert on_cifar100[0] == bench.accuracy_of(None, "cifar100").max()
    assert list(on_cifar100) == sorted(on_cifar100, reverse=True)
    result = run_search(make_optimizer("transfer-topk", nb201, seed=0, task="cifar10"),
                        lambda a: bench.accuracy(a, "cifar10"), budget=5, progress=False)
    assert len({r.arch.canonical_hash() for r in result.history}) == 5


def test_a_minimised_score_is_minimised_by_every_baseline(bench):
    """Baselines take higher scores as better; run_search(direction="minimize") tells them the
    negation, so an error rate is searched exactly as its accuracy (it used to be climbed: mean
    accuracy of evolution's last 10 picks 65.4 % against 92.1 %), while the scores stored and
    returned stay the evaluator's."""
    accuracy = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    for method in ("evolution", "local"):
        up = run_search(make_optimizer(method, "nb201", seed=0), accuracy, budget=15, progress=False)
        down = run_search(make_optimizer(method, "nb201", seed=0), lambda a: 100.0 - accuracy(a), budget=15,
                          progress=False, direction="minimize")
        assert [r.arch for r in down.history] == [r.arch for r in up.history], method
        assert down.best.score == pytest.approx(100.0 - up.best.score)
    import gennas

    loop = gennas.Designer("nb201", task="cifar10", seed=0).loop  # reads its own direction
    with pytest.raises(GennasError, match="maximizes its scores, but the search was asked to minimize"):
        run_search(loop, accuracy, budget=1, progress=False, direction="minimize")


def test_tell_checks_what_it_is_told_for_every_method(bench):
    """A string score told by hand broke every later ask() of BANANAS and the designer (TypeError),
    random stored it; a string arch failed deep inside. Every method now refuses them by name, and
    a callable evaluator's bool or string is a failed verification, not 1.0 or a parsed number."""
    from gennas.evaluators.base import Result

    arch = bench.archs()[11]
    for method in ("random", "evolution", "bananas", "designer"):
        optimizer = make_optimizer(method, "nb201", seed=0, task="cifar10")
        with pytest.raises(GennasError, match="score must be a number"):
            optimizer.tell([Result(arch, "91", "table")])
        with pytest.raises(GennasError, match="must be an ArchGraph"):
            optimizer.tell([Result(arch.to_string(), 91.0, "table")])
        optimizer.tell(Result(arch, 91.0, "table"))  # one Result, not a list: taken
        assert optimizer.ask(1)
    values = iter([True, "93.2", 90.0])
    out = run_search(make_optimizer("random", "nb201", seed=0), lambda a: next(values), 3, progress=False)
    assert [r.failed for r in out.history] == [True, True, False] and "not a number" in out.history[0].error


def test_a_baseline_out_of_proposals_under_a_budget_says_why(bench):
    """Random under a pixel3 budget that 2 working cells keep stopped saying only that it
    "proposed nothing new in 20 asks in a row"."""
    from gennas.search import make_optimizer

    out = run_search(make_optimizer("random", "nb201", seed=0, device="pixel3", max_latency_ms=1.07),
                     Counting(bench), budget=3, progress=False)
    assert out.exhausted
    assert any("over the 1.07 ms budget on pixel3" in n and "2 distinct working architectures keep it" in n
               for n in out.notes), out.notes


def test_replay_stops_on_an_optimizer_that_repeats_itself(nb201):
    """An optimizer asking only what was told already must not keep a resume replaying forever
    while an interrupted run's architecture waits."""
    from gennas.evaluators.base import Result
    from gennas.search.harness import replay

    cell = nb201.sample(0)

    class Stubborn:
        space = nb201
        told: list = []

        def ask(self, k):
            return [cell] * k

        def tell(self, results):
            self.told += results

    stubborn = Stubborn()
    assert replay(stubborn, [Result(cell, 90.0, "table")], 2, unverified={"orphan"}) == ([], [])
    assert [r.score for r in stubborn.told] == [90.0]


def test_the_failure_note_counts_errors_by_their_kind():
    """Five RuntimeErrors with different messages were five kinds, so two NaN scores were named
    the commonest error."""
    from gennas.evaluators.base import Result
    from gennas.search.harness import failure_note
    from gennas.spaces import load_space

    arch = load_space("nb201").sample(0)
    failed = [Result(arch, float("nan"), "x", error=f"RuntimeError: boom {i}") for i in range(5)]
    failed += [Result(arch, float("nan"), "x", error="evaluator returned nan")] * 2
    assert failure_note(failed, 15) == ("7 of 15 verifications failed (each spent one of the budget and is kept in "
                                        "the study; their architectures are not asked again): 'RuntimeError: boom "
                                        "0' (5x RuntimeError), and 1 other kind of "
                                        "error: 'evaluator returned nan' (2x)")


def test_a_designer_search_says_when_it_left_the_saved_predictor_untouched(tmp_path, monkeypatch, user_cell_space):
    """A task new to the predictor a search saved for a user space is learned into it only from
    FEW_SHOT_RESULTS results on: a user walk's digits searches never saved it, and nothing said so."""
    from gennas.design.loop import FEW_SHOT_RESULTS
    from gennas.design.saved_records import saved_tasks

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    path = user_cell_space("untouched_space")
    assert runner.invoke(app, ["train", "--space", str(path), "--steps", "5", "--quiet"]).exit_code == 0
    url = f"sqlite:///{tmp_path / 's.db'}"
    base = ["search", "--space", str(path), "--task", "digits", "--storage", url, "-q"]
    first = runner.invoke(app, [*base, "--evaluator", "proxy:synflow", "--study", "first", "-b", "11"])
    assert first.exit_code == 0 and "not retrained" not in first.stderr, first.output
    assert saved_tasks(gennas.load_space(path)) == ["digits-synflow"]
    second = runner.invoke(app, [*base, "--evaluator", "proxy:jacov", "--study", "second", "-b", "3"])
    assert second.exit_code == 0, second.output
    assert (f"was not retrained on task 'digits-jacov': a task new to it is learned into the network from "
            f"{FEW_SHOT_RESULTS} results on, and this study has 3") in " ".join(second.stderr.split())
    assert saved_tasks(gennas.load_space(path)) == ["digits-synflow"]  # as the note says


def test_a_budget_beyond_the_space_is_capped_and_said(user_cell_space):
    """`gennas search -b 10000000` on nb201 (15,625 cells) ran towards it without a word; a
    budget is capped at the space's size, and the notes say so."""
    space = gennas.load_space(user_cell_space("capped"))
    assert space.size() == 64
    out = run_search(RandomSearch(space, seed=0), lambda a: float(len(a.to_string())), 100, progress=False)
    assert len(out.history) <= 64  # fewer: cells that differ only in dead edges are one architecture
    assert out.notes[0] == ("the budget of 100 exceeds the 64 architectures of capped: at most 64 can be verified, "
                            "fewer where some compute the same network (each is verified once)")
