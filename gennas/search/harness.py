"""The search harness: ask an optimizer, verify, store, tell, until the budget is spent.

Any object with ``ask(k) -> list[ArchGraph]`` and ``tell(results)`` is an
:class:`~gennas.search.optimizer.Optimizer` (the baselines in :mod:`gennas.baselines`, and the
designer's :class:`~gennas.design.loop.DesignLoop`). A batch of results is told at once. :func:`run_search` drives it
against any evaluator (an :class:`~gennas.evaluators.base.Evaluator` or a plain callable
``ArchGraph -> float``), writes every result to an optuna study as soon as it is verified
(:mod:`gennas.search.storage`), and never verifies two architectures with the same canonical hash.
With ``resume=True`` the stored results are told to the optimizer first and only the rest of
the budget is spent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gennas.errors import GennasError
from gennas.evaluators.base import Evaluator, Result, as_evaluator
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space
from gennas.search.optimizer import Optimizer, check_optimizer
from gennas.search.storage import ResultStore

#: consecutive asks that bring nothing new before the harness concludes the optimizer is exhausted
MAX_STALE_ASKS = 20


@dataclass
class SearchResult:
    """What a search verified.

    Attributes:
        history: every result in verification order (resumed ones first), failed included.
        study_name: the optuna study holding them.
        resumed: how many results were reloaded from storage rather than verified now.
        exhausted: the optimizer stopped proposing new architectures before the budget was spent.
        direction: ``"maximize"`` or ``"minimize"``: which scores are best.
        notes: what the user should know about the run (for example that it learned nothing).
    """

    history: list[Result]
    study_name: str | None = None
    resumed: int = 0
    exhausted: bool = False
    store: ResultStore | None = field(default=None, repr=False)
    direction: str = "maximize"
    notes: list[str] = field(default_factory=list)

    def _sign(self) -> float:
        return -1.0 if self.direction == "minimize" else 1.0

    @property
    def results(self) -> list[Result]:
        """Verified results, best score first (failed ones left out)."""
        return sorted((r for r in self.history if not r.failed), key=lambda r: -self._sign() * r.score)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.history if r.failed]

    @property
    def best(self) -> Result | None:
        ranked = self.results
        return ranked[0] if ranked else None

    def top(self, n: int) -> list[Result]:
        return self.results[:n]

    def best_so_far(self) -> np.ndarray:
        """Best score after each verification, float64 ``(len(history),)``; NaN until the first success."""
        out = np.full(len(self.history), np.nan)
        best, sign = -math.inf, self._sign()
        for i, r in enumerate(self.history):
            if not r.failed:
                best = max(best, sign * r.score)
            if best > -math.inf:
                out[i] = sign * best
        return out

    def __len__(self) -> int:
        return len(self.history)


def _space_of(optimizer: Any, space: SearchSpace | str | None) -> SearchSpace:
    if space is not None:
        return resolve_space(space)
    found = getattr(optimizer, "space", None)
    if isinstance(found, (SearchSpace, str)):
        return resolve_space(found)
    raise GennasError(f"{type(optimizer).__name__} has no .space; pass space= to run_search")


def _evaluate(evaluator: Evaluator, batch: list[ArchGraph]) -> list[Result]:
    """Verify a batch; an evaluator that raises fails the whole batch instead of ending the search."""
    try:
        results = list(evaluator.evaluate(batch))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # third-party evaluators may raise anything; record it
        error = f"{type(exc).__name__}: {exc}"
        return [Result(a, math.nan, getattr(evaluator, "kind", "unknown"), error=error) for a in batch]
    if len(results) != len(batch):
        raise GennasError(f"evaluator returned {len(results)} results for {len(batch)} architectures")
    return [_checked(r, evaluator) for r in results]


def _checked(result: Any, evaluator: Evaluator) -> Result:
    """A stored-safe Result: a score that is not a real number (None, a string) fails the
    result with that said; other fields of the wrong type are made plain. Not a Result at all
    is a bug of the evaluator: a GennasError names it."""
    if not isinstance(result, Result) or not isinstance(result.arch, ArchGraph):
        raise GennasError(f"{type(evaluator).__name__}.evaluate returned {type(result).__name__} items; "
                          "it must return gennas Result objects, one per architecture")
    fixes: dict[str, Any] = {}
    real = (int, float, np.integer, np.floating)
    if isinstance(result.score, bool) or not isinstance(result.score, real):
        fixes.update(score=math.nan, error=f"evaluator returned score {result.score!r}, not a number")
    elif not isinstance(result.score, float):
        fixes["score"] = float(result.score)
    if not isinstance(result.kind, str):
        fixes["kind"] = str(result.kind)
    if not isinstance(result.fidelity, str):
        fixes["fidelity"] = str(result.fidelity)
    if isinstance(result.cost_s, bool) or not isinstance(result.cost_s, real) or not math.isfinite(result.cost_s):
        fixes["cost_s"] = 0.0
    if not isinstance(result.metadata, dict):
        fixes["metadata"] = {"value": str(result.metadata)}
    if result.error is not None and not isinstance(result.error, str):
        fixes["error"] = str(result.error)
    return dataclasses.replace(result, **fixes) if fixes else result


def run_search(optimizer: Optimizer, evaluator: Evaluator | Callable[[ArchGraph], float], budget: int,
               storage: Any = None, study_name: str | None = None, batch_size: int = 1,
               progress: bool = True, resume: bool = False, space: SearchSpace | str | None = None,
               attrs: dict[str, Any] | None = None, direction: str = "maximize", force: bool = False) -> SearchResult:
    """Search until ``budget`` architectures have been verified (failed ones count).

    Args:
        optimizer: ask/tell optimizer; its ``.space`` (or ``space=``) names the search space.
        evaluator: an Evaluator or a callable ``ArchGraph -> float`` (higher is better).
        budget: total verifications, stored ones included when resuming; must be > 0.
        storage: optuna storage URL, ``.db`` path, storage object, or None (in memory).
        study_name: the study to write (and, with ``resume``, to read).
        batch_size: architectures asked and verified per round.
        progress: show a rich progress bar (on stderr).
        resume: reload the study's results, tell them to the optimizer, spend only the rest.
        attrs: study user attributes to record (method, task, seed, ...); resuming with other
            settings (see :data:`gennas.search.storage.SETTINGS`) is refused unless ``force``.
        direction: ``"maximize"`` (accuracy) or ``"minimize"`` (a loss): which scores are best.
        force: resume even though ``attrs`` changes the study's settings (the change is recorded).

    Raises:
        GennasError: bad budget or batch size, storage that cannot be opened or written, a study
            that already has results without ``resume`` or was run with other settings: all
            before anything is verified. A result the storage refuses later is kept in a
            journal (stored when the study is next opened) and the search stops with a
            GennasError saying where.
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
        raise GennasError(f"budget must be a positive number of verifications, got {budget!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise GennasError(f"batch_size must be a positive integer, got {batch_size!r}")
    optimizer = check_optimizer(optimizer)
    evaluator = as_evaluator(evaluator)
    search_space = _space_of(optimizer, space)
    if direction not in ("maximize", "minimize"):
        raise GennasError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    store = ResultStore.open(search_space, storage, study_name, resume=resume, attrs=attrs, direction=direction,
                             force=force)
    history: list[Result] = store.results() if resume else []
    remaining = int(budget) - len(history)
    if remaining > 0:
        store.check_writable()  # a read-only storage fails here, not after the first verification
    if history:
        optimizer.tell(list(history))
    seen = {r.arch.canonical_hash() for r in history}
    out = SearchResult(history, store.study_name, resumed=len(history), store=store, direction=direction)
    with _Progress(progress, int(budget), len(history), out) as bar:
        stale = 0
        while remaining > 0:
            k = min(int(batch_size), remaining)
            batch: list[ArchGraph] = []
            for arch in optimizer.ask(k):
                search_space.validate(arch)  # an optimizer proposing foreign graphs is a bug: say so
                h = arch.canonical_hash()
                if h not in seen and len(batch) < k:
                    seen.add(h)
                    batch.append(arch)
            if not batch:
                stale += 1
                if stale >= MAX_STALE_ASKS:
                    out.exhausted = True
                    break
                continue
            stale = 0
            results = _evaluate(evaluator, batch)
            # written now: an interrupt later loses nothing verified; a refused write keeps them
            # in the journal and raises
            store.add_many(results)
            history.extend(results)
            optimizer.tell(results)
            remaining -= len(results)
            bar.update(len(results))
    return out


class _Progress:
    """A rich progress bar on stderr showing the best score, or nothing when disabled."""

    def __init__(self, enabled: bool, total: int, done: int, result: SearchResult) -> None:
        self.enabled, self.total, self.done, self.result = enabled, total, done, result
        self._progress: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.description}"), TimeElapsedColumn(),
                                      console=Console(stderr=True))
            self._progress.__enter__()
            self._task = self._progress.add_task(self._describe(), total=self.total, completed=self.done)
        return self

    def _describe(self) -> str:
        best = self.result.best
        failed = len(self.result.failures)
        text = f"best {best.score:.4g}" if best else "best -"
        return text + (f"  failed {failed}" if failed else "")

    def update(self, n: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n, description=self._describe())

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


