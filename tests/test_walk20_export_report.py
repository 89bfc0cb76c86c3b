"""User walk 20: seeded untrained exports, a report's stale figures, unseeded stored searches."""

from __future__ import annotations

import hashlib
import json
import types

import pytest
import torch
from typer.testing import CliRunner

from gennas.cli.app import app
from gennas.errors import GennasError
from gennas.export import EXPORT_FILES, export_architecture

PNG = b"\x89PNG\r\n\x1a\n"


def _digests(folder) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in EXPORT_FILES
            if (folder / name).is_file()}


def test_an_untrained_export_is_drawn_from_its_seed_and_leaves_torchs_random_state(nb201, tmp_path):
    """``gennas design --seed 0 --export`` wrote other initial weights every run (99 of 579 tensors,
    a user walk): the weights are drawn from ``seed`` (0 by default), recorded in build.json, and
    torch's global random state is as it was."""
    arch = nb201.sample_many(1, 3)[0]
    before = torch.random.get_rng_state()
    first = export_architecture(arch, tmp_path / "a")
    again = export_architecture(arch, tmp_path / "b", seed=0)
    assert torch.equal(before, torch.random.get_rng_state())  # what else the process draws is unchanged
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")  # every file, ONNX and the program too
    assert json.loads(first["build"].read_text())["seed"] == 0
    other = export_architecture(arch, tmp_path / "c", seed=1, onnx=False)
    assert json.loads(other["build"].read_text())["seed"] == 1
    w0, w1 = torch.load(again["weights"], weights_only=True), torch.load(other["weights"], weights_only=True)
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)
    unseeded = export_architecture(arch, tmp_path / "d", seed=None, onnx=False)
    assert json.loads(unseeded["build"].read_text())["seed"] is None
    assert not torch.equal(before, torch.random.get_rng_state())  # drawn from the global state, as before
    with pytest.raises(GennasError, match="export seed"):
        export_architecture(arch, tmp_path / "e", seed=-1)
    assert not (tmp_path / "e").exists()


@pytest.mark.slow  # among the default suite's slowest (--durations): it stays under 15 minutes on 2 cores
def test_design_export_twice_writes_the_same_files_and_a_rerun_with_another_seed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    threads = torch.get_num_threads()
    runner = CliRunner()
    try:
        for name in ("x", "y"):
            out = runner.invoke(app, ["design", "--task", "cifar10", "-n", "1", "--seed", "3", "--json",
                                      "--export", str(tmp_path / name)])
            assert out.exit_code == 0, out.output
        assert _digests(tmp_path / "x" / "rank01") == _digests(tmp_path / "y" / "rank01")
        assert json.loads((tmp_path / "x" / "rank01" / "build.json").read_text())["seed"] == 3
        # the same design (nb201 without a budget: seed 3's first) written from seed 3 is not kept as seed 4's
        from gennas.cli.export_ranks import kept_ranks
        from gennas.spaces import load_space

        arch = load_space("nb201").from_string((tmp_path / "x" / "rank01" / "arch.txt").read_text().strip())
        candidate = types.SimpleNamespace(rank=1, arch=arch)
        assert kept_ranks(tmp_path / "x", [candidate], 10, 3) == {1}
        with pytest.raises(GennasError, match="drawn from seed 3, not seed 4"):
            kept_ranks(tmp_path / "x", [candidate], 10, 4)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def two_storages(tmp_path_factory, nb201, bench):
    """Two SQLite storages of one 6-verification table search: with a 10 ms pixel3 budget, and without."""
    from gennas.evaluators import TableEvaluator
    from gennas.search import LatencyFilter, make_optimizer, run_search
    from gennas.search.storage import ResultStore

    folder = tmp_path_factory.mktemp("walk20")
    dbs = []
    for limit in (10.0, None):
        opt = make_optimizer("random", nb201, 0)
        attrs = {"method": "random", "task": "cifar10", "evaluator": "table"}
        if limit is not None:
            opt = LatencyFilter(opt, lambda a: bench.latency(a, "pixel3"), limit, "pixel3")
            attrs.update(device="pixel3", max_latency_ms=limit)
        found = run_search(opt, TableEvaluator(bench, "cifar10"), 6, progress=False)
        db = f"sqlite:///{folder}/{'budget' if limit else 'free'}.db"
        ResultStore.open(nb201, db, "r", attrs=attrs).add_many(found.history)
        dbs.append(db)
    return dbs


def test_a_report_leaves_no_figure_of_an_earlier_one_and_touches_nothing_else(two_storages, tmp_path):
    """An earlier report's accuracy_latency.png stayed beside a note "no accuracy-latency figure" (a
    user walk): the report's own names it did not write are removed, and a note says so."""
    from gennas.report import report

    out = tmp_path / "figs"
    first = report(two_storages[0], None, out)
    assert "accuracy_latency.png" in [p.name for p in first.files]
    (out / "accuracy_latency-cifar10_table.png").write_bytes(PNG)  # a grouped report's name
    keep = {"accuracy_latency_mine.png": PNG, "notes.txt": b"mine", "best_so_far.png.bak": PNG}
    for name, data in keep.items():
        (out / name).write_bytes(data)
    second = report(two_storages[1], None, out)
    assert sorted(p.name for p in second.files) == ["best_so_far.png", "predicted_vs_verified.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*keep, "best_so_far.png", "predicted_vs_verified.png"])
    assert any(n.startswith("removed 2 figures an earlier report left") and "accuracy_latency.png" in n
               for n in second.notes)
    again = report(two_storages[1], None, out)
    assert not any("earlier report" in n for n in again.notes)  # its own figures are not stale


def test_an_unseeded_stored_search_says_it_cannot_be_reproduced(tmp_path, monkeypatch, bench):
    """``Designer(seed=None)`` (Python's default) stored and resumed study ``...-seedNone`` without a word."""
    import gennas
    from gennas.evaluators import TableEvaluator
    from gennas.seeds import UnseededStudy

    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))
    db = str(tmp_path / "s.db")
    table = TableEvaluator(bench, "cifar10")
    with pytest.warns(UnseededStudy, match=r"'designer-nb201-cifar10-table-seedNone' is stored unseeded"):
        gennas.Designer("nb201", task="cifar10").search(table, 2, storage=db)
    with pytest.warns(UnseededStudy, match="is resumed unseeded"):
        gennas.Designer("nb201", task="cifar10").search(table, 3, storage=db, resume=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnseededStudy)
        gennas.Designer("nb201", task="cifar10", seed=0).search(table, 2, storage=db)
        gennas.Designer("nb201", task="cifar10").search(table, 2)  # in memory: nothing stored to resume


def test_help_texts_say_what_seed_and_threads_do():
    runner = CliRunner()
    design = " ".join(runner.invoke(app, ["design", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "the seed changes only which of cells computing one function" in design
    assert "initialised from --seed" in design
    top = " ".join(runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output.split())
    assert "2.9x" not in top and "took 40-49 s" in top
