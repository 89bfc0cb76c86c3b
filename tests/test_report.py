"""``gennas report`` / SearchResult.plot: PNG figures of stored searches, with and without a
latency budget; the Pareto front; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import gennas
from gennas.cli.app import app
from gennas.evaluators import TableEvaluator
from gennas.report import best_so_far, pareto_front, report
from gennas.search.runs import load_runs
from gennas.search import LatencyFilter, make_optimizer, run_search
from gennas.search.storage import ResultStore

PNG = b"\x89PNG\r\n\x1a\n"
BUDGET_MS = 10.0


def _png(path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG)


@pytest.fixture(scope="module")
def storage(tmp_path_factory, nb201, bench):
    """One SQLite storage with three table searches of 12 verifications: random and evolution
    under a 10 ms pixel3 budget, and random without one. (Searched in memory, then stored as the
    harness stores them: a SQLite search pays ~0.3 s per verification for its claims.)"""
    db = f"sqlite:///{tmp_path_factory.mktemp('report')}/r.db"
    table = TableEvaluator(bench, "cifar10")
    settings = {"task": "cifar10", "evaluator": "table"}
    budget = {"device": "pixel3", "max_latency_ms": BUDGET_MS}
    for method, limit in (("random", BUDGET_MS), ("evolution", BUDGET_MS), ("random", None)):
        opt = make_optimizer(method, nb201, 0)
        if limit is not None:
            opt = LatencyFilter(opt, lambda a: bench.latency(a, "pixel3"), limit, "pixel3")
        found = run_search(opt, table, 12, progress=False)
        name = f"{method}-{'budget' if limit else 'free'}"
        attrs = {"method": method, **settings, **(budget if limit else {})}
        ResultStore.open(nb201, db, name, attrs=attrs).add_many(found.history)
    return db


def test_report_with_a_latency_budget_writes_three_figures(storage, tmp_path):
    out = report(storage, ["random-budget", "evolution-budget"], tmp_path / "figs")
    assert sorted(p.name for p in out.files) == ["accuracy_latency.png", "best_so_far.png", "predicted_vs_verified.png"]
    assert all(_png(p) for p in out.files)


def test_report_without_a_budget_says_why_there_is_no_latency_figure(storage, tmp_path):
    out = report(storage, ["random-free"], tmp_path / "figs")
    assert sorted(p.name for p in out.files) == ["best_so_far.png", "predicted_vs_verified.png"]
    assert all(_png(p) for p in out.files)
    assert any("no study has a latency budget" in n for n in out.notes)


def test_best_so_far_counts_only_results_within_the_budget(storage, bench):
    runs = {r.name: r for r in load_runs(storage)}
    assert set(runs) == {"random-budget", "evolution-budget", "random-free"}
    run = runs["random-budget"]
    curve, what = best_so_far(run)
    lat = np.array([bench.latency(r.arch, "pixel3") for r in run.results])
    ok = np.array([r.score for r in run.results])[lat <= BUDGET_MS]
    assert "within 10 ms" in what and curve[-1] == ok.max() and np.all(np.diff(curve[~np.isnan(curve)]) >= 0)


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(0)
    lat, acc = rng.uniform(1, 10, 200), rng.uniform(50, 95, 200)
    front = set(pareto_front(lat, acc).tolist())
    dominated = {i for i in range(200) for j in range(200)
                 if lat[j] <= lat[i] and acc[j] >= acc[i] and (lat[j] < lat[i] or acc[j] > acc[i])}
    assert front == set(range(200)) - dominated


def test_search_result_plot(nb201, bench, tmp_path):
    result = run_search(make_optimizer("random", nb201, 2), TableEvaluator(bench, "cifar10"), 5, progress=False)
    files = result.plot(tmp_path / "plot")
    assert [p.name for p in files] == ["best_so_far.png", "predicted_vs_verified.png"] and all(map(_png, files))

    def broken(arch):
        raise RuntimeError("cannot train")

    failed = run_search(make_optimizer("random", nb201, 2), broken, 2, progress=False)
    with pytest.warns(UserWarning, match="no figure written: .*no verification succeeded"):
        assert failed.plot(tmp_path / "failed") == []  # it returned [] without a word


def test_cli_report(storage, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["report", "--storage", storage, "--out", str(tmp_path / "cli"), "--json"])
    assert ok.exit_code == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert {s["method"] for s in data["studies"]} == {"random", "evolution"} and len(data["figures"]) == 3
    bad = runner.invoke(app, ["report", "--storage", storage, "--study", "nope"])
    assert bad.exit_code == 2 and "unknown study 'nope'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_the_report_gives_each_study_s_pareto_front_as_data(storage, tmp_path, bench):
    """The front was only drawn: a user walk wanted to choose from it (`report --json`, and a table)."""
    runner = CliRunner()
    ok = runner.invoke(app, ["report", "--storage", storage, "--out", str(tmp_path / "f"), "--json"])
    assert ok.exit_code == 0, ok.stderr
    for study in json.loads(ok.stdout)["studies"]:
        run = load_runs(storage, [study["study"]])[0]
        front = study["pareto"]
        if study["device"] is None:  # no device, no latency: no front
            assert front is None
            continue
        assert front["device"] == "pixel3" and front["latency"] == "table latency"
        points = [(bench.latency(r.arch, "pixel3"), r.score) for r in run.results if not r.failed]
        # brute force: a point is on the front if no other is at least as fast and as good, and better in one
        expected = {(ms, acc) for ms, acc in points
                    if not any(m <= ms and a >= acc and (m, a) != (ms, acc) for m, a in points)}
        got = [(p["latency_ms"], p["score"]) for p in front["points"]]
        assert set(got) == expected and [ms for ms, _ in got] == sorted(ms for ms, _ in got)
        assert all(bench.latency(gennas.load_space("nb201").from_string(p["arch"]), "pixel3") == p["latency_ms"]
                   for p in front["points"])
    text = runner.invoke(app, ["report", "--storage", storage, "--out", str(tmp_path / "t")])
    assert text.exit_code == 0 and "Pareto front of random-budget on pixel3 (table latency)" in text.stdout


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_the_report_command_keeps_matplotlib_s_cache_where_home_is_read_only(storage, tmp_path):
    """`gennas report` under a read-only HOME printed matplotlib's two-line warning into the log (user
    walk 48): its cache goes under $GENNAS_HOME there (and to matplotlib's own place otherwise)."""
    import os
    import subprocess
    import sys

    (tmp_path / "user").mkdir()
    env = {**{k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")},
           "HOME": str(tmp_path / "user"), "GENNAS_HOME": str(tmp_path / "gh")}
    probe = ("import os, sys; real = os.access; "
             "os.access = lambda path, mode: False if str(path) == os.environ['HOME'] else real(path, mode); "
             "sys.argv = ['gennas', *sys.argv[1:]]; from gennas.entry import main; main()")
    done = subprocess.run([sys.executable, "-c", probe, "report", "--storage", storage, "--out",
                           str(tmp_path / "figs"), "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr.lower() and (tmp_path / "gh" / "matplotlib").is_dir()


def test_studies_of_other_tasks_or_evaluators_get_figures_of_their_own(nb201, bench, tmp_path):
    """Synflow's 1e49 and accuracies in % shared one axis (the accuracies a flat line at 0), and one
    Pareto front took cifar10 and cifar100 cells: each task and evaluator now has its own figures."""
    db = f"sqlite:///{tmp_path / 'mixed.db'}"
    for name, task, evaluator, score in (("acc10", "cifar10", "table", lambda a: bench.accuracy(a, "cifar10")),
                                         ("acc100", "cifar100", "table", lambda a: bench.accuracy(a, "cifar100")),
                                         ("syn", "cifar10", "proxy:synflow", lambda a: 1e49 * bench.accuracy(a, "cifar10"))):
        found = run_search(make_optimizer("random", nb201, 0), score, 4, progress=False)
        ResultStore.open(nb201, db, name, attrs={"method": "random", "task": task, "evaluator": evaluator}).add_many(
            found.history)
    out = report(db, None, tmp_path / "figs")
    names = sorted(p.name for p in out.files if p.name.startswith("best_so_far"))
    assert names == ["best_so_far-cifar100_table.png", "best_so_far-cifar10_proxy_synflow.png",
                     "best_so_far-cifar10_table.png"]
    assert any("3 different things" in n for n in out.notes) and all(_png(p) for p in out.files)


def test_a_report_folder_that_is_a_file_is_named(storage, tmp_path):
    """`gennas report --out FILE` ended in a FileExistsError traceback."""
    taken = tmp_path / "taken.py"
    taken.write_text("x = 1\n")
    out = CliRunner().invoke(app, ["report", "--storage", storage, "--out", str(taken)])
    assert out.exit_code == 2 and "is a file: name a folder" in out.stderr and "Traceback" not in out.output
    assert taken.read_text() == "x = 1\n"


def test_scores_spanning_orders_of_magnitude_are_drawn_on_a_log_scale():
    """synflow's 5.8e49 beside another method's 5.0e36 drew the latter as a flat line at 0."""
    from gennas.report import value_scale

    assert value_scale(np.array([np.nan, 5.0e36, 5.8e49])) == "log"
    assert value_scale(np.array([-3.0e12, 1.0, 2.0e9])) == "symlog"
    assert value_scale(np.array([np.nan, 91.2, 93.7, 94.37])) == "linear"
    assert value_scale(np.array([np.nan])) == "linear"


def test_a_study_whose_every_verification_failed_gets_a_note_not_an_empty_figure(nb201, tmp_path):
    """It drew empty axes (-0.04 to 0.04, "score ()"), and the study table had no failed count."""
    url = f"sqlite:///{tmp_path / 'failed.db'}"

    def broken(arch):
        raise RuntimeError("cannot train")

    run_search(make_optimizer("random", nb201, 0), broken, 3, progress=False, storage=url, study_name="allfail")
    out = CliRunner().invoke(app, ["report", "--storage", url, "--out", str(tmp_path / "r"), "--json"])
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["studies"][0]["results"] == 3 and data["studies"][0]["failed"] == 3
    assert not any("best_so_far" in f for f in data["figures"])
    assert any("no verification succeeded" in n for n in data["notes"])


def test_a_budget_off_the_tables_is_drawn_by_what_judged_it():
    """mbv3 on a device without a measured table: the figure drew the estimator's point prediction
    beside the budget line (estimates 10.6-11.5 ms under 16, judged by bounds of 15.2-15.98): it
    draws the bound that judged the budget, and the estimate without a budget."""
    from gennas.report import latencies
    from gennas.search.runs import StudyRun
    from gennas.surrogates.latency import load_latency_estimator

    from gennas.bench import sampled_timings

    space = gennas.load_space("mbv3")
    device = load_latency_estimator(space).devices[0]
    measured = sampled_timings("mbv3", device)  # subnets of the bundled table: judged by their timing
    archs = [a for a in space.sample_many(20, 1) if a.to_string() not in measured][:5]
    point = load_latency_estimator(space).predict(archs, device)
    budgeted = StudyRun("s", space, {"device": device, "max_latency_ms": 16.0, "latency_confidence": 0.95}, [])
    drawn, source = latencies(budgeted, archs)
    assert source.startswith("latency bound at 95 %") and np.all(drawn >= point - 1e-9) and np.any(drawn > point)
    in_table = space.parse(next(iter(measured)))
    drawn, source = latencies(budgeted, archs + [in_table])
    assert source.startswith("measured latency, else the latency bound") and drawn[-1] == measured[in_table.to_string()]
    drawn, source = latencies(StudyRun("s", space, {"device": device}, []), archs)
    assert source == "estimated latency" and np.allclose(drawn, point)


def test_predicted_against_verified_draws_the_results_the_search_predicted(tmp_path, user_cell_space):
    """A user's study whose first results were verified before the designer stated scores had no
    figure at all (and a note to train nb201's shipped predictor): the results with a stored
    prediction are drawn, the others named in a note."""
    from gennas.evaluators.base import Result
    from gennas.report import PREDICTED_KEY, predictions
    from gennas.search.runs import StudyRun

    space = gennas.load_space(str(user_cell_space("report_test_space")))
    archs = space.sample_many(6, 0)
    results = [Result(a, 50.0 + i, "train", metadata={} if i < 2 else {PREDICTED_KEY: 49.0 + i,
                                                                          f"{PREDICTED_KEY}_interval": [40.0, 60.0]})
               for i, a in enumerate(archs)]
    run = StudyRun("mine", space, {"task": "mnist"}, results)
    done, predicted, low, high, source = predictions(run)
    assert [r.arch for r in done] == archs[2:] and predicted.tolist() == [51.0, 52.0, 53.0, 54.0]
    assert low.tolist() == [40.0] * 4 and source == "predicted by the search before verifying"
    assert run.notes == ["mine: 2 of 6 results were verified before the designer stated scores (a rank only): not "
                         "in the predicted-vs-verified figure"]
    bare = StudyRun("bare", space, {"task": "mnist"}, [Result(a, 50.0, "train") for a in archs])
    assert predictions(bare) is None and "ships no pretrained predictor" in bare.notes[0]
    # a task described by its images: the shipped predictor states ranks there, and the note says so
    # (it said the predictor could not predict "unknown task 'images:e1a6b3ecee'", a user walk)
    from gennas.search.studies import TASK_ATTR

    images = StudyRun("digits", gennas.load_space("nb201"), {"task": "images:e1a6b3ecee", TASK_ATTR: {"kind": "images"}},
                      [Result(a, 90.0, "train") for a in gennas.load_space("nb201").sample_many(3, 0)])
    assert predictions(images) is None and "states ranks, not accuracies" in images.notes[0]


def test_a_figure_replaces_a_link_planted_in_the_report_folder_and_never_writes_through_it(storage, tmp_path):
    """Walk 38 #8: `best_so_far.png -> ../outside/victim.txt` in the `--out` folder: the victim
    outside it became a PNG."""
    figs, outside = tmp_path / "figs", tmp_path / "outside"
    figs.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_text("precious")
    (figs / "best_so_far.png").symlink_to(outside / "victim.txt")
    out = report(storage, ["random-free"], figs)
    assert (outside / "victim.txt").read_text() == "precious"
    assert not (figs / "best_so_far.png").is_symlink() and all(_png(p) for p in out.files)


def test_studies_of_other_spaces_scored_alike_get_figures_of_their_own(nb201, tmp_path):
    """Synflow studies of nb201 and darts (not comparable) shared one axis (user walk 47)."""
    darts = gennas.load_space("darts")
    db = f"sqlite:///{tmp_path / 'spaces.db'}"
    for name, space in (("n", nb201), ("d", darts)):
        found = run_search(make_optimizer("random", space, 0), lambda a: float(len(a.to_string())), 3, progress=False)
        ResultStore.open(space, db, name, attrs={"method": "random", "task": "cifar10-synflow",
                                                 "evaluator": "proxy:synflow"}).add_many(found.history)
    out = report(db, None, tmp_path / "figs")
    names = sorted(p.name for p in out.files if p.name.startswith("best_so_far"))
    assert names == ["best_so_far-darts_cifar10-synflow_proxy_synflow.png",
                     "best_so_far-nb201_cifar10-synflow_proxy_synflow.png"]
