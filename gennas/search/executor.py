"""Where verifications run: in this process (:class:`LocalExecutor`, the default) or as Ray tasks
(:class:`RayExecutor`, ``pip install -e .[ray]``).

An executor takes claimed architectures (:meth:`submit`) and hands back ``(arch, Result)`` pairs
as they finish (:meth:`wait`). The local one verifies a submitted batch at once, in one call of
the evaluator (synchronous, as a search always did); the Ray one runs one task per architecture
and returns whichever finish first, so the harness asks new architectures as workers free up.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import signal
import threading
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gennas.errors import GennasError, first_line
from gennas.evaluators.base import Evaluator, Result, as_number, outside_accuracy
from gennas.graph import ArchGraph

#: Ray retries a task whose worker died this many times before the architecture is recorded failed
RAY_TASK_RETRIES = 1


@runtime_checkable
class Executor(Protocol):
    """Runs verifications. ``free()`` says how many more architectures it takes now."""

    def start(self, evaluator: Evaluator) -> None: ...

    def free(self) -> int: ...

    def pending(self) -> int: ...

    def submit(self, archs: list[ArchGraph]) -> None: ...

    def wait(self) -> list[tuple[ArchGraph, Result]]: ...

    def close(self) -> None: ...


def evaluate_batch(evaluator: Evaluator, batch: list[ArchGraph]) -> list[Result]:
    """Verify a batch; an evaluator that raises fails the whole batch instead of ending the search."""
    try:
        returned = evaluator.evaluate(batch)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # third-party evaluators may raise anything; record it
        error = f"{type(exc).__name__}: {exc}"
        return [Result(a, math.nan, getattr(evaluator, "kind", "unknown"), error=error) for a in batch]
    if isinstance(returned, (Result, str, bytes)) or not hasattr(returned, "__iter__"):
        # a bare float read "TypeError: 'float' object is not iterable", recorded as every result's failure
        raise GennasError(f"{type(evaluator).__name__}.evaluate returned {type(returned).__name__}; it must return a "
                          "list of gennas Result objects, one per architecture")
    results = list(returned)
    if len(results) != len(batch):
        raise GennasError(f"evaluator returned {len(results)} results for {len(batch)} architectures")
    return in_batch_order([checked(r, evaluator) for r in results], batch, evaluator)


def in_batch_order(results: list[Result], batch: list[ArchGraph], evaluator: Evaluator) -> list[Result]:
    """``results`` in the order of ``batch``, matched by canonical hash (an evaluator may return
    them in the order they finished). A result of an architecture not asked for is a bug of the
    evaluator, named: stored, it left the asked one's claim open and the search waited for it
    forever (a user walk's evaluator returned results of other architectures)."""
    asked = [a.canonical_hash() for a in batch]
    got = [r.arch.canonical_hash() for r in results]
    if got == asked:
        return results
    by_hash = {h: r for h, r in zip(got, results)}
    if sorted(got) == sorted(asked):
        return [by_hash[h] for h in asked]
    i = next(i for i, h in enumerate(got) if h not in asked or got.count(h) > asked.count(h))
    raise GennasError(f"{type(evaluator).__name__}.evaluate returned a result of {results[i].arch.to_string()} "
                      f"(result {i}), which was not asked for; asked: "
                      f"{', '.join(a.to_string() for a in batch)}. Each Result must name the architecture it "
                      "verified, one per asked architecture")


def checked(result: Any, evaluator: Evaluator) -> Result:
    """A stored-safe Result: a score that is not a real number (None, a string), or an accuracy
    in % outside 0-100, fails the result with that said; other fields of the wrong type are made
    plain. Not a Result at all is a bug of the evaluator: a GennasError names it."""
    if not isinstance(result, Result) or not isinstance(result.arch, ArchGraph):
        raise GennasError(f"{type(evaluator).__name__}.evaluate returned {type(result).__name__} items; "
                          "it must return gennas Result objects, one per architecture")
    fixes: dict[str, Any] = {}
    real = (int, float, np.integer, np.floating)
    if not isinstance(result.score, float):  # a 0-d tensor or numpy scalar is its number, as a callable's
        try:
            fixes["score"] = as_number(result.score, "evaluator returned score")
        except TypeError as exc:
            fixes.update(score=math.nan, error=str(exc))
    if not isinstance(result.kind, str):
        fixes["kind"] = str(result.kind)
    score = fixes.get("score", result.score)
    outside = outside_accuracy(score, str(result.kind)) if result.error is None and math.isfinite(score) else None
    if outside is not None:  # as CallableEvaluator's own: whichever evaluator wrote the Result
        fixes.update(score=math.nan, error=outside)
    if not isinstance(result.fidelity, str):
        fixes["fidelity"] = str(result.fidelity)
    if isinstance(result.cost_s, bool) or not isinstance(result.cost_s, real) or not math.isfinite(result.cost_s):
        fixes["cost_s"] = 0.0
    if not isinstance(result.metadata, dict):
        fixes["metadata"] = {"value": str(result.metadata)}
    if result.error is not None and not isinstance(result.error, str):
        fixes["error"] = str(result.error)
    return dataclasses.replace(result, **fixes) if fixes else result


class LocalExecutor:
    """In this process, ``batch_size`` architectures per call of the evaluator, synchronously."""

    def __init__(self, batch_size: int = 1) -> None:
        self.batch_size = int(batch_size)
        self.evaluator: Evaluator | None = None
        self._done: list[tuple[ArchGraph, Result]] = []

    def start(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator

    def free(self) -> int:
        return 0 if self._done else self.batch_size

    def pending(self) -> int:
        return len(self._done)

    def submit(self, archs: list[ArchGraph]) -> None:
        assert self.evaluator is not None, "start(evaluator) first"
        self._done += list(zip(archs, evaluate_batch(self.evaluator, archs)))

    def wait(self) -> list[tuple[ArchGraph, Result]]:
        done, self._done = self._done, []
        return done

    def close(self) -> None:
        self._done = []


#: in a Ray worker process: object-ref id -> the evaluator it holds, deserialized once per worker
_WORKER_EVALUATORS: dict[str, Evaluator] = {}


def ray_task(evaluator_ref: list, arch: ArchGraph) -> Result:
    """Body of one Ray task: verify ``arch`` on a worker. A worker given a GPU trains on it (the
    evaluator was made on the driver, which may have none).

    ``evaluator_ref`` is ``[ObjectRef]``: wrapped, so Ray does not deserialize the evaluator for every
    task (a supernet with its data took ~4 s a task); each worker process keeps its own copy.
    """
    import ray

    key = evaluator_ref[0].hex()
    if key not in _WORKER_EVALUATORS:
        _WORKER_EVALUATORS.clear()  # one search at a time per worker: drop another search's evaluator
        _WORKER_EVALUATORS[key] = ray.get(evaluator_ref[0])
    evaluator = _WORKER_EVALUATORS[key]
    if ray.get_gpu_ids() and hasattr(evaluator, "torch_device"):
        import torch

        evaluator = copy.copy(evaluator)
        evaluator.torch_device = torch.device("cuda")  # Ray sets CUDA_VISIBLE_DEVICES to this task's GPU
    return evaluate_batch(evaluator, [arch])[0]


class RayExecutor:
    """One Ray task per architecture, ``workers`` at a time.

    Args:
        workers: tasks in flight at once (each takes one CPU, and ``num_gpus`` GPUs).
        address: a running cluster (``ray://head:10001`` or ``auto``); None starts a local
            Ray instance with ``workers`` CPUs (or uses the one this process already started).
        num_gpus: GPUs per task; None gives 1 when the evaluator trains (has ``torch_device``)
            and the cluster has GPUs, else 0.
    """

    def __init__(self, workers: int = 2, address: str | None = None, num_gpus: float | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers <= 0:
            raise GennasError(f"workers must be a positive integer, got {workers!r}")
        try:
            import ray
        except ImportError:
            raise GennasError("the Ray executor needs Ray: pip install -e '.[ray]' (or pip install 'ray[default]')") \
                from None
        self.ray, self.workers, self.num_gpus = ray, int(workers), num_gpus
        self._owned = False
        self._sigterm_before: Any = None
        if not ray.is_initialized():
            main = threading.current_thread() is threading.main_thread()
            before = signal.getsignal(signal.SIGTERM) if main else None
            try:
                ray.init(address=address, num_cpus=None if address else self.workers, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except Exception as exc:  # ray raises ConnectionError, RuntimeError, ValueError...
                raise GennasError(f"cannot start or reach Ray at {address or 'a new local instance'}: "
                                  f"{first_line(exc)}") from None
            self._owned = True
            if main:
                self._sigterm_before = before
                _take_back_sigterm(before)
        self._tasks: dict[Any, ArchGraph] = {}
        self._remote: Any = None
        self._evaluator: Any = None

    def start(self, evaluator: Evaluator) -> None:
        gpus = self.num_gpus
        if gpus is None:
            gpus = 1 if hasattr(evaluator, "torch_device") and self.ray.cluster_resources().get("GPU", 0) else 0
        self._kind = getattr(evaluator, "kind", "unknown")
        self._evaluator = self.ray.put(evaluator)  # shipped once, not with every task
        self._remote = self.ray.remote(num_cpus=1, num_gpus=gpus, max_retries=RAY_TASK_RETRIES)(ray_task)

    def free(self) -> int:
        return self.workers - len(self._tasks)

    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, archs: list[ArchGraph]) -> None:
        for arch in archs:
            self._tasks[self._remote.remote([self._evaluator], arch)] = arch

    def wait(self) -> list[tuple[ArchGraph, Result]]:
        """Block until at least one task finishes; every finished one is returned. A task whose
        worker died (after Ray's retries) is a failed Result saying so."""
        if not self._tasks:
            return []
        self.ray.wait(list(self._tasks), num_returns=1)
        ready, _ = self.ray.wait(list(self._tasks), num_returns=len(self._tasks), timeout=0)  # all finished by now
        out = []
        for ref in ready:
            arch = self._tasks.pop(ref)
            try:
                out.append((arch, self.ray.get(ref)))
            except self.ray.exceptions.RayError as exc:
                reason = first_line(exc)
                out.append((arch, Result(arch, math.nan, self._kind,
                                         error=f"{type(exc).__name__}: {reason} (after {RAY_TASK_RETRIES} retry)")))
        return out

    def close(self) -> None:
        for ref in list(self._tasks):
            self.ray.cancel(ref, force=True)
        self._tasks = {}
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()
        if self._sigterm_before is not None:  # Ray leaves its handler after shutdown: a later fork inherited it
            signal.signal(signal.SIGTERM, self._sigterm_before)
            self._sigterm_before = None


def _take_back_sigterm(before: Any) -> None:
    """After ``ray.init`` (main thread): SIGTERM goes to the handler held ``before`` it where that
    is a Python callable (the CLI's, which prints how to resume and exits 143, or a host's), else to
    Ray's own (``sys.exit``). Set anew either way, so Python's handler takes the signal back from
    the C++ one Ray's core worker installs, which printed a stack dump for every ``timeout``.
    Under ``gennas search --executor ray`` a SIGTERM exited 15 after that dump, without the
    "interrupted ... --resume" line."""
    signal.signal(signal.SIGTERM, before if callable(before) else signal.getsignal(signal.SIGTERM))


def make_executor(executor: Executor | str | None, workers: int | None = None, address: str | None = None,
                  batch_size: int = 1) -> Executor:
    """An executor from ``"local"`` (or None), ``"ray"`` or an Executor object."""
    if executor is None or executor == "local":
        if address is not None or workers is not None:
            raise GennasError("workers= and address= go with executor='ray' (the local executor verifies "
                              "batch_size architectures at a time in this process)")
        return LocalExecutor(batch_size)
    if executor == "ray":
        return RayExecutor(2 if workers is None else workers, address)
    if isinstance(executor, str):
        raise GennasError(f"unknown executor {executor!r}; use 'local' or 'ray'")
    missing = [m for m in ("start", "free", "pending", "submit", "wait", "close") if not callable(getattr(executor, m, None))]
    if missing:
        raise GennasError(f"{type(executor).__name__} is not an executor (missing {', '.join(missing)})")
    return executor
