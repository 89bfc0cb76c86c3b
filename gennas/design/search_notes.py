"""What a design loop's search tells the user at its end (read by :func:`gennas.search.run_search`)."""

from __future__ import annotations

from typing import Any

from gennas.design.pool import unseen
from gennas.design.scores import scale_mismatch_note


def search_notes(loop: Any, exhausted: bool, seen: set[str]) -> list[str]:
    """What the user should know after a design loop's search (a
    :class:`~gennas.design.loop.DesignLoop`'s, read by :func:`gennas.search.run_search`): that the
    evaluator taught nothing, or why proposals ran out (``exhausted``; ``seen``: the canonical
    hashes of what the loop asked or was told)."""
    notes = []
    if loop.learned_nothing():
        notes.append("every verified architecture got the same score: the evaluator told the designer nothing to learn "
                     "from, " + ("so its ranking is the pretrained one" if loop.pretrained.is_trained else
                                 "and with no pretrained predictor it has no ranking to design by"))
    notes += [m for m in [scale_mismatch_note(loop.task, [r.score for r in loop.history if not r.failed])] if m]
    notes += [m for m in [dropped_tables_note(loop)] if m]
    cells = loop.cells_within_budget() if exhausted else None
    if cells is not None:
        left, b = len(unseen(cells, seen)), loop.budget
        judged = "measured" if b.exact else f"by the latency model's {b.confidence:.0%} upper bound"
        done = len(cells) - left
        # the cells are told apart as the benchmark does (canonical_hash()): "2 distinct architectures"
        # under 1.1 ms on pixel3 both output their input, one function
        functions = len({a.canonical_hash(functional=True) for a in cells})
        same = "" if functions == len(cells) else (
            f", {'all' if len(cells) > 2 else 'both'} computing one function" if functions == 1 else
            f", computing {functions} distinct functions")
        told = "" if functions == len(cells) else " (cells the benchmark tells apart)"
        notes.append(f"only {len(cells)} distinct architecture{'s' * (len(cells) != 1)}{told} whose output can "
                     f"depend on the input keep{'s' * (len(cells) == 1)} {b.max_latency_ms:g} ms on {b.device} "
                     f"({judged}){same}; {done} of them {'was' if done == 1 else 'were'} verified"
                     + (f", {left} not" if left else ""))
    return notes


#: a tau this low orders the results nearly against the tables: the mark of a loss searched as maximised
#: (log(100 / accuracy) maximised, user walk 57: tau -0.76); noise alone dropped them at -0.13 to -0.63
REVERSED_TAU = -0.7
REVERSED_HINT = ("; the results order the cells nearly against the tables: if lower scores are better (a loss, an "
                 "error rate), search with direction='minimize'")


def dropped_tables_note(loop: Any) -> str | None:
    """Where the designer stopped ranking a new task by the bundled tables (``loop.prior.dropped_at``),
    that it did and why (a user reading the first picks would see the tables' best cells); said after
    a search and by ``generate`` (a designer rebuilt from a study had said nothing: walk 56)."""
    if loop.prior.dropped_at is None:
        return None
    first = [r.arch.canonical_hash() for r in loop.history if not r.failed][:loop.prior.dropped_at]
    probes = sum(h in loop.prior.probed for h in first)  # none where the results were told, not asked
    return (f"the first {loop.prior.dropped_at} results of task {loop.task.name!r}"
            + (f", {probes} random cells of the bundled tables among them," if probes else "")
            + f" did not rank as the bundled tables do (Kendall's tau {loop.prior.dropped_tau:+.2f}): the designer "
            "stopped ranking by the tables and learned the task from its results (noisy scores can do this by chance)"
            + (REVERSED_HINT if loop.prior.dropped_tau <= REVERSED_TAU and loop.scale.direction == "maximize" else ""))
