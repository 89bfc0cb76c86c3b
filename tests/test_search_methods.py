"""Search methods of one's own: registered in Python, installed through the ``gennas.methods``
entry points for ``gennas search --method``, and the method every study records (a resume by
another optimizer was accepted unsaid)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap

import pytest

from gennas.baselines import RandomSearch
from gennas.errors import GennasError
from gennas.search import OPTIMIZERS, make_optimizer, method_names, register_method, run_search
from gennas.search.optimizer import method_name
from gennas.search.storage import ResultStore


class FirstCells:
    """A user's optimizer: the space's cells in enumeration order (no name of its own)."""

    def __init__(self, space, seed=None, task=None):
        self.space, self.given = space, 0

    def ask(self, k):
        cells = [a for _, a in zip(range(self.given + k), self.space.enumerate())][self.given:]
        self.given += len(cells)
        return cells

    def tell(self, results):
        pass


@pytest.fixture
def registered():
    """Registers methods for one test and removes them after (OPTIMIZERS is process-wide)."""
    before = dict(OPTIMIZERS)
    yield register_method
    OPTIMIZERS.clear()
    OPTIMIZERS.update(before)


def test_a_registered_method_is_made_by_name_and_keeps_a_latency_budget(registered, bench):
    registered("first-cells", FirstCells)
    assert "first-cells" in method_names()
    plain = make_optimizer("first-cells", "nb201", seed=0)
    assert isinstance(plain, FirstCells)
    assert method_name(plain) == "first-cells"  # as `gennas search --method first-cells` records it
    budgeted = make_optimizer("first-cells", "nb201", seed=0, device="pixel3", max_latency_ms=3.27)
    result = run_search(budgeted, lambda a: bench.accuracy(a, "cifar10"), budget=5, progress=False)
    ms = [bench.latency(r.arch, "pixel3") for r in result.history]
    assert len(ms) == 5 and max(ms) <= 3.27  # the first cells over the budget were never verified
    assert budgeted.rejected > 0 and method_name(budgeted) == "first-cells"


def test_register_method_refuses_taken_names_and_what_is_not_a_factory(registered):
    with pytest.raises(GennasError, match="'random' is a shipped method"):
        registered("random", FirstCells, replace=True)
    registered("mine", FirstCells)
    with pytest.raises(GennasError, match="registered already"):
        registered("mine", FirstCells)
    registered("mine", lambda space, seed, task: FirstCells(space), replace=True)
    with pytest.raises(GennasError, match="must be callable"):
        registered("other", "FirstCells")
    with pytest.raises(GennasError, match="non-empty string"):
        registered(" ", FirstCells)


def test_a_factory_that_fails_or_makes_no_optimizer_is_named(registered):
    def broken(space, seed, task):
        raise KeyError("no such setting")

    registered("broken", broken)
    with pytest.raises(GennasError, match=r"'broken' \(.*broken\) failed to make its optimizer: KeyError"):
        make_optimizer("broken", "nb201")
    registered("not-one", lambda space, seed, task: object())
    with pytest.raises(GennasError, match="is not an optimizer"):
        make_optimizer("not-one", "nb201")


def test_the_method_a_study_records_and_a_resume_by_another_is_refused(tmp_path, bench):
    assert method_name(RandomSearch("nb201", seed=0)) == "random"
    assert method_name(make_optimizer("designer", "nb201", seed=0)) == "designer"
    filtered = make_optimizer("evolution", "nb201", seed=0, device="pixel3", max_latency_ms=3.27)
    assert method_name(filtered) == "evolution"  # a latency filter is named by what it wraps
    assert method_name(FirstCells(None)) == f"{__name__}.FirstCells"

    url = f"sqlite:///{tmp_path / 'run.db'}"
    accuracy = lambda a: bench.accuracy(a, "cifar10")  # noqa: E731
    run_search(RandomSearch("nb201", seed=0), accuracy, budget=3, storage=url, study_name="s", progress=False)
    store = ResultStore.open("nb201", url, "s", resume=True, read_only=True)
    assert store.study.user_attrs["method"] == "random"
    with pytest.raises(GennasError, match=r"was run with method='random', this run has method='.*FirstCells'"):
        run_search(FirstCells(bench.space), accuracy, budget=5, storage=url, study_name="s", resume=True,
                   progress=False)
    again = run_search(make_optimizer("random", "nb201", seed=0), accuracy, budget=5, storage=url, study_name="s",
                       resume=True, progress=False)
    assert len(again.history) == 5


def _installed_package(root, factory_body: str) -> dict[str, str]:
    """A package ``mine_pkg`` installed under ``root`` with a ``gennas.methods`` entry point
    ``first-cells``; the environment a subprocess finds it in."""
    (root / "mine_pkg").mkdir()
    (root / "mine_pkg" / "__init__.py").write_text(textwrap.dedent(factory_body))
    info = root / "mine_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mine-pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[gennas.methods]\nfirst-cells = mine_pkg:make\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    paths = [str(root), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(paths), "GENNAS_HOME": str(root / "home")}


def test_gennas_search_runs_an_installed_package_s_method(tmp_path):
    # the package's module: this file's FirstCells and a factory of it
    env = _installed_package(tmp_path, inspect.getsource(FirstCells) + "\n\ndef make(space, seed, task):\n"
                                       "    return FirstCells(space)\n")
    db = tmp_path / "run.db"
    run = subprocess.run([sys.executable, "-m", "gennas", "search", "--method", "first-cells", "--budget", "3",
                          "--storage", str(db), "--json", "--quiet"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    store = ResultStore.open("nb201", f"sqlite:///{db}", "first-cells-nb201-cifar10-table-seed0", resume=True,
                             read_only=True)
    assert store.study.user_attrs["method"] == "first-cells"
    assert len(store.results()) == 3
    unknown = subprocess.run([sys.executable, "-m", "gennas", "search", "--method", "first-cell", "--budget", "3",
                              "--storage", str(tmp_path / "other.db")], env=env, capture_output=True, text=True,
                             timeout=300)
    assert unknown.returncode == 2 and "first-cells" in unknown.stderr  # the installed one is offered


def test_an_installed_method_that_fails_to_load_is_named(tmp_path):
    env = _installed_package(tmp_path, "import a_module_nobody_installed\n")
    run = subprocess.run([sys.executable, "-m", "gennas", "search", "--method", "first-cells", "--budget", "3",
                          "--storage", str(tmp_path / "run.db")], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2
    assert "search method 'first-cells' of mine-pkg (mine_pkg:make) failed to load: ModuleNotFoundError" in run.stderr
    assert "Traceback" not in run.stderr
