"""What a search verified (:class:`SearchResult`, :func:`~gennas.search.harness.run_search`'s return)
and how it shows: a few lines, a notebook table, flat rows for a data frame."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gennas.design.candidate import same_keys
from gennas.display import Figures, ReprInIPython, cell, html_table, shortened
from gennas.errors import GennasError, GennasWarning
from gennas.evaluators.base import Result
from gennas.graph import ArchGraph
from gennas.search.storage import ResultStore


@dataclass
class SearchResult(ReprInIPython):
    """What a search verified.

    Attributes:
        history: every result in verification order (resumed ones first), failed included.
        study_name: the optuna study holding them.
        resumed: how many results were reloaded from storage rather than verified now.
        exhausted: the optimizer stopped proposing new architectures before the budget was spent.
        direction: ``"maximize"`` or ``"minimize"``: which scores are best.
        notes: what the user should know about the run (for example that it learned nothing).
        verified_here: how many of ``history`` this process verified and stored (the rest were
            resumed, or verified meanwhile by other processes sharing the study).
        elapsed_s: wall-clock seconds the search took (0 where it was not run by :func:`run_search`).
        cpu_s: CPU seconds this process spent in it (``time.process_time``, every thread: the
            optimizer, the harness, an in-process evaluator; not a Ray worker's): on a shared
            machine wall time alone hides a search that waits for a core or spins two threads.

    In a notebook it shows as a few lines (``repr``) or a table of its best results
    (``_repr_html_``); :meth:`rows` are flat dicts: ``pandas.DataFrame(result.rows())``.
    """

    history: list[Result]
    study_name: str | None = None
    resumed: int = 0
    exhausted: bool = False
    store: ResultStore | None = field(default=None, repr=False)
    direction: str = "maximize"
    notes: list[str] = field(default_factory=list)
    verified_here: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    def _sign(self) -> float:
        return -1.0 if self.direction == "minimize" else 1.0

    @property
    def results(self) -> list[Result]:
        """Verified results, best score first (failed ones left out)."""
        return sorted((r for r in self.history if not r.failed), key=lambda r: -self._sign() * r.score)

    @property
    def failures(self) -> list[Result]:
        """The failed verifications, in the order they happened."""
        return [r for r in self.history if r.failed]

    @property
    def best(self) -> Result | None:
        """The best verified result (by the search's direction); None when none succeeded."""
        ranked = self.results
        return ranked[0] if ranked else None

    def top(self, n: int) -> list[Result]:
        """The ``n`` best verified results, best first."""
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

    def pareto(self, latency: Callable[[list[ArchGraph]], Any]) -> list[tuple[Result, float]]:
        """The verified results no other beats on both score (by the search's direction) and
        latency, fastest first, each with its latency in ms. ``latency`` maps architectures to ms
        ``(n,)``: ``lambda archs: bench.latency_of(archs, "pixel3")``, an estimator's
        ``predict(archs, device)``; one call per device gives each device's front (the report's
        figure draws them; a user walk wanted them as data to choose from)."""
        from gennas.fronts import pareto_front

        done = [r for r in self.history if not r.failed]
        if not done:
            return []
        ms = np.asarray(latency([r.arch for r in done]), dtype=np.float64).reshape(-1)
        if ms.shape != (len(done),) or not np.isfinite(ms).all():
            raise GennasError(f"pareto(latency): latency(archs) must give one finite ms per architecture "
                              f"({len(done)}), got {ms.shape[0]} values{'' if np.isfinite(ms).all() else ' with NaN'}")
        front = pareto_front(ms, self._sign() * np.array([r.score for r in done], dtype=np.float64))
        return [(done[i], float(ms[i])) for i in front]

    def plot(self, path: str | Path = "gennas-report") -> Figures:
        """PNG figures of this search written into folder ``path`` (best so far, predicted vs
        verified, accuracy-latency under a budget; see :mod:`gennas.report`); returns their paths,
        a list that a notebook shows as the figures. Where none is written it warns why (an
        all-failed search returned ``[]`` without a word)."""
        from gennas.report import write_report
        from gennas.search.runs import run_of

        report = write_report([run_of(self)], path)
        if not report.files:
            warnings.warn("no figure written: " + "; ".join(report.notes), GennasWarning, stacklevel=2)
        return Figures(report.files)

    def __len__(self) -> int:
        return len(self.history)

    def rows(self, results: Sequence[Result] | None = None) -> list[dict[str, Any]]:
        """One flat dict per result of ``history`` (default; in verification order, failed ones
        too) or of ``results``: :func:`result_row`'s keys, every row with every key (None where
        a result has no such metadata). ``pandas.DataFrame(result.rows())`` is a table."""
        return same_keys([result_row(r) for r in (self.history if results is None else results)])

    def __repr__(self) -> str:
        # the dataclass repr printed the whole history: 9k characters at 30 results
        # "2 verified, 2 failed" read as four, or as two successes
        failed = len(self.failures)
        failed_text = "" if not failed else " (all failed)" if failed == len(self.history) else f" ({failed} failed)"
        lines = [f"SearchResult of study {self.study_name!r}: {len(self.history)} verified{failed_text}"
                 + (f", {self.resumed} resumed" if self.resumed else "")
                 + (f", {self.elapsed_s:.1f} s ({self.cpu_s:.1f} s CPU)" if self.elapsed_s else "")
                 + f" ({self.direction})"]
        best = self.best
        if best is not None:
            lines.append(f"  best {cell(float(best.score))} ({best.kind}) {shortened(best.arch.to_string(), 100)}")
        more = f"{len(self.notes)} note{'' if len(self.notes) == 1 else 's'} in .notes; " if self.notes else ""
        lines.append(f"  {more}.results: best first; .rows(): every result, in verification order")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A notebook's display: the successful results best first as a table of
        :data:`HTML_COLUMNS`, the notes under it."""
        failed = f" ({len(self.failures)} failed, not shown)" if self.failures else ""
        caption = (f"study {self.study_name!r}: {len(self.history)} verified{failed}, best first "
                   "(.rows(): every field, in verification order)")
        rows = [{key: row[key] for key in HTML_COLUMNS} for row in self.rows(self.results)]
        return html_table(rows, caption, self.notes)


#: what a search's notebook table shows: a training's metadata (its epochs' history, hashes of its
#: data, 20 settings) made one row 1,700 characters and 25 columns wide; ``rows()`` keeps it all
HTML_COLUMNS = ("arch", "score", "kind", "fidelity", "cost_s")


def result_row(result: Result) -> dict[str, Any]:
    """``result`` as a flat dict: ``arch`` (its string), ``score``, ``kind``,
    ``fidelity``, ``cost_s``, ``failed``, ``error``, then its metadata's keys (a key named as one
    of those prefixed ``metadata_``)."""
    row: dict[str, Any] = {"arch": result.arch.to_string(), "score": float(result.score), "kind": result.kind,
                           "fidelity": result.fidelity, "cost_s": result.cost_s, "failed": result.failed,
                           "error": result.error}
    for key, value in result.metadata.items():
        row[f"metadata_{key}" if key in row else key] = value
    return row
