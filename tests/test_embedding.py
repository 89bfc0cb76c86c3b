"""gennas embedded in another library: shared designers, the host's random streams, its grad mode
and dtype, objects freed after a search (user walk 44)."""

from __future__ import annotations

import collections
import warnings
from concurrent.futures import ThreadPoolExecutor

import gennas


def test_one_designer_asked_and_told_from_two_threads_takes_turns(bench):
    """Both threads refitted the predictor at once: a corrupted heap (6 runs in 10), a KeyError from
    the prediction memo, and the same architecture asked by both workers."""
    designer = gennas.Designer("nb201", task="cifar10", seed=0)
    asked: list[str] = []

    def worker(_: int) -> None:
        for _ in range(4):
            archs = designer.ask(2)
            asked.extend(map(str, archs))
            designer.tell([gennas.Result(a, bench.accuracy(a, "cifar10"), "train") for a in archs])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(worker, [0, 1]))  # re-raises a worker's exception
    assert len(asked) == 16 and max(collections.Counter(asked).values()) == 1
    assert len(designer.history) == 16 and designer.pending == []


FREED_PROBE = """
import gc, os, sys, warnings, weakref
import gennas
warnings.simplefilter("ignore")
db = os.path.join(sys.argv[1], "s.db")
designer, evaluator = gennas.Designer("nb201", task="cifar10", seed=0), gennas.TableEvaluator("nb201", "cifar10")
result = designer.search(evaluator, budget=2, progress=False, storage="sqlite:///" + db, study_name="s")
assert "optuna" in sys.modules
alive = [weakref.ref(designer), weakref.ref(evaluator), weakref.ref(result)]
del designer, evaluator, result
gc.collect()
fds = sum(os.readlink(f"/proc/self/fd/{fd}").startswith(db) for fd in os.listdir("/proc/self/fd")
          if os.path.exists(f"/proc/self/fd/{fd}"))
print("ALIVE", sum(ref() is not None for ref in alive), "FDS", fds)
"""


def test_the_first_search_in_a_process_is_freed_with_its_storage(tmp_path):
    """optuna, first imported inside a search, kept an ImportError (redis) whose traceback pinned
    the search's frames: designer, evaluator, result and 5 descriptors of the SQLite file lived on."""
    import os
    import subprocess
    import sys

    if not os.path.isdir("/proc/self/fd"):
        import pytest

        pytest.skip("counts open files through /proc")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", FREED_PROBE, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-4:] == ["ALIVE", "0", "FDS", "0"], done.stdout


def test_a_latency_budget_leaves_the_caller_s_torch_stream_where_it_was():
    """Building the latency estimator drew its initial weights from the caller's stream: a seeded
    host's next torch.rand depended on whether a budget was given."""
    import torch

    torch.manual_seed(123)
    expected = torch.rand(2)
    torch.manual_seed(123)
    gennas.load_latency_estimator("nb201")
    gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20, seed=None)
    assert torch.equal(torch.rand(2), expected)


def test_a_host_s_grad_mode_and_float64_default_do_not_break_the_designer(bench):
    """Under the host's no_grad a tell's refit was a raw RuntimeError after recording its results;
    under inference_mode a designer built there failed in its guidance; under a float64 default
    a designer with a device failed at its first prediction (float64 layers, float32 inputs)."""
    import torch

    def tell_two(designer: gennas.Designer) -> None:
        archs = designer.ask(2)
        designer.tell([gennas.Result(a, bench.accuracy(a, "cifar10"), "train") for a in archs])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad():
            designer = gennas.Designer("nb201", task="cifar10", seed=0)
            tell_two(designer)
        assert len(designer.history) == 2
        with torch.inference_mode():
            tell_two(gennas.Designer("nb201", task="cifar10", seed=0))
        torch.set_default_dtype(torch.float64)
        try:
            designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20, seed=0)
            assert len(designer.generate(2)) == 2
            tell_two(designer)
            assert torch.get_default_dtype() == torch.float64  # the host's default, back after each call
        finally:
            torch.set_default_dtype(torch.float32)


def test_searches_started_at_once_from_threads_on_a_new_sqlite_file_all_finish(tmp_path):
    """Threads share the process's pid, so the schema's temporary file: every one of them failed."""
    url = f"sqlite:///{tmp_path / 'same.db'}"

    def search(seed: int) -> int:
        designer = gennas.Designer("nb201", task="cifar10", seed=seed)
        result = designer.search(gennas.TableEvaluator("nb201", "cifar10"), budget=3, progress=False,
                                 storage=url, study_name=f"s{seed}")
        return len(result.rows())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ThreadPoolExecutor(3) as pool:
            assert list(pool.map(search, [0, 1, 2])) == [3, 3, 3]


def test_seeded_proxy_searches_in_two_threads_score_as_one_after_the_other():
    """Each reseeded torch's one global generator: in threads they drew from each other's streams
    and their synflow scores differed from the same searches run one after the other."""

    def search(seed: int) -> list[tuple[str, float]]:
        designer = gennas.Designer("nb201", task="cifar10-synflow", seed=seed)
        result = designer.search(gennas.ProxyEvaluator("nb201", proxy="synflow"), budget=2, progress=False)
        return [(row["arch"], row["score"]) for row in result.rows()]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = [search(0), search(1)]
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(search, [0, 1])) == alone


def test_every_error_and_warning_class_is_a_name_of_the_package():
    """A host filters or catches one by name: 20 warning classes lived in 15 internal modules."""
    import importlib
    import inspect
    import pkgutil

    classes = {}
    for module in pkgutil.walk_packages(gennas.__path__, "gennas."):
        if module.name.startswith(("gennas.cli", "gennas.testing", "gennas.__main__")):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if (inspect.isclass(value) and issubclass(value, (gennas.GennasError, gennas.GennasWarning))
                    and value.__module__ == module.name):
                classes[name] = value
    assert len(classes) >= 36
    missing = sorted(name for name, cls in classes.items() if getattr(gennas, name, None) is not cls)
    assert missing == [] and set(classes) <= set(gennas.__all__)


def test_a_search_runs_with_the_host_s_stderr_closed(monkeypatch):
    """Its progress asked the closed stream isatty(): ValueError, and the search ended."""
    import io

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stderr", closed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        designer = gennas.Designer("nb201", task="cifar10", seed=0)
        result = designer.search(gennas.CallableEvaluator(lambda arch: 50.0, kind="train"), budget=2)
    assert len(result.rows()) == 2


def test_a_search_stopped_by_a_failing_evaluator_chains_its_exception():
    """The stop kept only the message: the traceback into the caller's own code was lost."""
    import pytest

    def broken(arch):
        raise LookupError("the host's bug")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        designer = gennas.Designer("nb201", task="cifar10", seed=0)
        with pytest.raises(gennas.GennasError, match="the host's bug") as stop:
            designer.search(gennas.CallableEvaluator(broken, kind="train"), budget=5, progress=False)
    assert isinstance(stop.value.__cause__, LookupError)
    assert stop.value.__cause__.__traceback__.tb_next.tb_frame.f_code.co_name == "broken"
