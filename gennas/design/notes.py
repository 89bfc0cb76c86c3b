"""What a user should know about a list of designs, beside the designs themselves.

The notes ``gennas design`` prints under its table and :meth:`gennas.Designer.generate` returns as
``designs.notes`` (:class:`Designs`): why no accuracy is stated (a rank only), why some designs state
none, where statements extrapolate below every verified result, where designs share one stated
value, where no interval is stated, and where timed architectures joined the guided samples. The Python API
had shown none of them: a design's "rank only, until 10
distinct architectures are verified" read so after 12 results that a budget set later excluded.
Each returns the note's text (no "note: " prefix) or None where it does not apply.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from typing import Any, SupportsIndex, overload

import numpy as np

from gennas.design.budget_notes import loose_budget_note, tight_budget_note
from gennas.design.candidate import Candidate, candidate_row, with_every_column
from gennas.design.search_notes import dropped_tables_note
from gennas.design.verified import scores_by
from gennas.display import ReprInIPython, html_table, number, shortened
from gennas.graph import ArchGraph

#: designs a Designs' repr lists (the rest counted), the width each line is cut to, and its arch's
REPR_DESIGNS = 3
REPR_WIDTH = 180
ARCH_WIDTH = 100


def short_line(candidate: Candidate) -> str:
    """``str(candidate)`` with its architecture cut to :data:`ARCH_WIDTH` characters, so that the
    line keeps what is stated (a darts cell's string alone is hundreds of characters)."""
    arch = candidate.arch.to_string()
    return str(candidate).replace(arch, shortened(arch, ARCH_WIDTH), 1)


class Designs(ReprInIPython, list[Candidate]):
    """:meth:`gennas.Designer.generate`'s designs (a list of :class:`Candidate`, best first) with
    ``notes``: what the user should know about them (:func:`design_notes`), empty where nothing.

    A slice (``designs[1:3]``) is a Designs with the same notes (they speak of the whole list);
    ``designs + other``, ``copy()`` and ``sorted(designs, key=...)`` are plain lists (a design has
    no order of its own). ``task``: the task's name where the caller gave it (shown by the repr)."""

    def __init__(self, designs: Sequence[Candidate], notes: Sequence[str] = (), task: str | None = None) -> None:
        super().__init__(designs)
        self.notes: list[str] = list(notes)
        self.task = task

    @overload
    def __getitem__(self, index: SupportsIndex) -> Candidate: ...
    @overload
    def __getitem__(self, index: slice) -> Designs: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Candidate | Designs:
        # a slice lost .notes and .rows()
        return Designs(super().__getitem__(index), self.notes, self.task) if isinstance(index, slice) else \
            super().__getitem__(index)

    def __repr__(self) -> str:
        # each Candidate's dataclass repr made 10 designs a 4,347-character wall
        task = f" for task {self.task!r}" if self.task else ""
        head = f"Designs: {len(self)} design{'' if len(self) == 1 else 's'}{task}, best first"
        notes = f"; {len(self.notes)} note{'' if len(self.notes) == 1 else 's'} in .notes" if self.notes else ""
        lines = [head + notes + " (.rows(): a table)"]
        lines += ["  " + shortened(short_line(c), REPR_WIDTH) for c in list.__getitem__(self, slice(REPR_DESIGNS))]
        if len(self) > REPR_DESIGNS:
            lines.append(f"  ... and {len(self) - REPR_DESIGNS} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A notebook's display: :meth:`rows` as a table, the notes under it."""
        task = f" for task {self.task!r}" if self.task else ""
        return html_table(self.rows(), f"{len(self)} designs{task}, best first", self.notes)

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per design (the arch as its string; ``pandas.DataFrame(designs.rows())`` is
        a table): the keys ``gennas design --json`` prints up to ``verified``, then ``latency_ms`` and
        ``latency_measured`` where the designer has a device (the JSON's ``pred_ms`` or
        ``measured_ms``, beside ``bound_ms_*``); not the JSON's ``table_acc``, ``export``, ``direction``."""
        return with_every_column([{**candidate_row(c), **({} if c.predicted_latency_ms is None else {
            "latency_ms": c.predicted_latency_ms, "latency_measured": c.latency_measured})} for c in self],
            self[0].unit if len(self) else "%")


def design_notes(designer: Any, candidates: Sequence[Candidate], task: str | None = None, space: str | None = None,
                 time_here: bool = False) -> list[str]:
    """Every note that applies to ``candidates`` designed by ``designer`` (``task``: the task's name as given,
    default the designer's; ``space``: the space as the user named it, for the commands a note suggests;
    ``time_here``: designs judged by their timing on this machine), in the order ``gennas design`` prints them."""
    from gennas.design.statement import MIN_STATED
    from gennas.spaces.identity import space_argument

    task = task if task is not None else (designer.task.name if designer.task is not None else "")
    space = space if space is not None else space_argument(designer.space)  # as a command names it
    notes: list[str | None] = []
    if any(c.predicted_accuracy is None and c.verified_score is None
           and not (c.unstated_below or c.unstated_above or c.unlike_results) for c in candidates):
        notes.append(rank_only_note(designer, task, space, MIN_STATED))
    capped = samples_reach_note(designer, candidates)  # it says why they share a value: no calibration
    notes += [unstated_note(candidates), unstated_above_note(candidates, bool(designer.loop.history)), unlike_results_note(candidates),
              below_results_note(designer, candidates),
              None if capped else shared_statement_note(candidates, designer), no_interval_note(designer, candidates),
              capped, dropped_tables_note(designer.loop),
              left_out_by_bound_note(designer, time_here), measured_designs_note(designer, candidates, time_here),
              all_verified_note(candidates), noisy_verifications_note(designer.loop.history, candidates),
              loose_budget_note(designer.loop.budget, designer.space), tight_budget_note(designer, candidates),
              unrecorded_saved_note(designer, task)]
    return [note for note in notes if note]


def unrecorded_saved_note(designer: Any, task: str) -> str | None:
    """Where the designer starts from a predictor a search saved whose record of ``task`` lacks the
    score range and architectures it learned from (saved by an earlier gennas): no design predicted
    above or unlike those results can be withheld. It stated 1.7e11 where the best result was 1.3e11,
    without a word (user walk 47)."""
    from gennas.design.saved_records import saved_record

    record = saved_record(designer.space, task) if getattr(designer, "predictor_start", None) == "saved" else None
    if not record or designer.loop.history or ("score_range" in record and "architectures" in record):
        return None
    return (f"the predictor a search saved for {designer.space.name} records neither the score range nor the "
            f"architectures it learned task {task!r} from (saved by an earlier gennas): a design predicted above or "
            "unlike those results states its value all the same; a search here (a resumed one) records them")


def judged_within(budget: Any) -> str:
    """"within X ms on DEVICE" as ``budget`` judges it: measured, or (a device without measured
    latencies) by the latency model's upper bound. "2 of the 20 successful results are within 54
    ms on here" read as a fact about the cells, of which 8 ran within it."""
    where = f"within {budget.max_latency_ms:g} ms on {budget.device}"
    return where if budget.exact else f"judged {where} by the latency model's {budget.confidence:.0%} upper bound"


def left_out_by_bound_note(designer: Any, time_here: bool = False) -> str | None:
    """Where verified results the latency model estimates within the budget are left out of the
    designs by its upper bound, how many, and what admits them (``--time-here`` where the device
    can be timed here): at 54 ms on a darts device the three best verified cells, timed at 51-53 ms
    and estimated within 1 %, were left out by a bound about 15 % higher, without a word.
    None elsewhere, and under ``time_here`` (the estimate judges the pool there)."""
    from gennas.design.timed_here import can_time_here
    from gennas.errors import ON_COMMAND_LINE

    budget = designer.loop.budget
    ok = [r.arch for r in designer.history if not r.failed]
    if time_here or budget is None or budget.exact or not ok:
        return None
    left = int(sum((budget.latency_ms(ok) <= budget.max_latency_ms) & ~budget.within(ok)))
    if not left:
        return None
    if not ON_COMMAND_LINE.get():
        admit = "a lower latency_confidence admits them"
    elif can_time_here(budget.device, designer.space):
        admit = "--time-here judges them by timing them on this machine instead"
    else:
        admit = "a lower --latency-confidence admits them"
    results = "1 verified result the latency model estimates" if left == 1 else \
        f"{left} verified results the latency model estimates"
    return (f"{results} within {budget.max_latency_ms:g} ms on {budget.device} {'is' if left == 1 else 'are'} left "
            f"out of the designs by its {budget.confidence:.0%} upper bound (a bound, not a measurement: "
            f"{'it' if left == 1 else 'they'} may run within the budget); {admit}")


def measured_designs_note(designer: Any, candidates: Sequence[Any], time_here: bool) -> str | None:
    """Where designs are architectures the device's own timings measured (mbv3's table subnets, a
    registered device's timed cells), that they join the guided samples only when those hold too
    few within the budget, so a looser budget can return designs predicted worse (mbv3
    on cpu_ort_1t, best predicted 26.6 at 8 ms, 22.5 at 9 ms); None otherwise."""
    budget = designer.loop.budget
    if time_here or budget is None or budget.exact or not any(c.latency_measured for c in candidates):
        return None
    measured = sum(c.latency_measured for c in candidates)
    which = "1 of these designs is an architecture" if measured == 1 else f"{measured} of these designs are architectures"
    return (f"{which} timed on {budget.device} (judged by their timing), "
            "which join the guided samples only when those hold too few within the budget: a looser budget can "
            "return designs predicted worse (docs/results.md, \"A looser budget can return designs predicted worse\")")


def no_interval_note(designer: Any, candidates: Sequence[Any]) -> str | None:
    """Why unverified designs state a score with no interval, where that is so (the columns read
    "-" without a word, after a search hint had promised intervals); None otherwise."""
    bare = [c for c in candidates if c.verified_score is None and c.predicted_accuracy is not None and c.interval is None]
    if not bare:
        return None
    why = "nothing calibrated its predictor's spread for this task"  # from scratch the results do, cross-fitted
    designs = "1 unverified design states" if len(bare) == 1 else f"{len(bare)} unverified designs state"
    return f"{designs} a score with no interval: {why}"


def samples_reach_note(designer: Any, candidates: Sequence[Any]) -> str | None:
    """Where a task described by samples states designs at the best sample's score, that it is the
    samples' reach and not a prediction: stated beyond them, 12 random cifar100 samples (best 69.96)
    read 74.54 % for a task whose best cell is 73.51; None otherwise."""
    task = designer.task
    capped = [c for c in candidates if c.verified_score is None and c.predicted_accuracy is not None
              and c.interval is None and c.beyond_calibration]
    if task is None or task.kind != "samples" or not capped:
        return None
    designs = "1 design is" if len(capped) == 1 else f"{len(capped)} designs are"
    value = f"{number(capped[0].predicted_accuracy)}{capped[0].unit and ' ' + capped[0].unit}"
    return (f"{designs} predicted beyond every sample that describes the task: stated at the best sample's score, "
            f"{value}, as far as the samples reach (nothing calibrates the predictor beyond them, so they may be "
            "better; their order is the predictor's); verify them (tell) to know")


def ranked_below(count: int, tables: bool) -> str:
    """"N of the designs rank below every verified result", by what the flag is: the predictor's score
    (or, in a space with ``tables``, the measured tables' accuracies) below the results', not the value
    stated. "7 of the designs lie below every verified result" sat over 7 designs stated above 8 of
    the 20 results."""
    by = "the predictor's score or the measured tables" if tables else "the predictor's score"
    designs = "1 of the designs ranks" if count == 1 else f"{count} of the designs rank"
    return f"{designs} below every verified result by {by}"


def unstated_note(candidates: Sequence[Any]) -> str | None:
    """Why some designs state no accuracy beside stated ones: below every verified result further
    than anything tells how far the truth falls (:mod:`gennas.design.source_line`); None otherwise."""
    unstated = sum(c.unstated_below for c in candidates)
    if not unstated:
        return None
    return (f"{ranked_below(unstated, True)}, further than the results and the line to the measured tables "
            "tell how far the truth falls: no accuracy is stated for them (ranked by the model); verify some of "
            "them, or search on, to state them")


def which_designs(ranks: Sequence[int]) -> str:
    """"design #3 ... is" / "3 of the designs (#3, #5, #9) are": the designs a note is of, by rank."""
    if len(ranks) == 1:
        return f"design #{ranks[0]} is"
    shown = ", ".join(f"#{r}" for r in ranks[:6]) + (", ..." if len(ranks) > 6 else "")
    return f"{len(ranks)} of the designs ({shown}) are"


def unstated_above_note(candidates: Sequence[Any], held: bool = True) -> str | None:
    """Why designs predicted above every verified result by a predictor learned from scratch
    state no value (:func:`gennas.design.scratch_statement.unstated_above_results`), and where they
    rank: as the median verified result where the designer ``held`` results, else first (a later
    session of a saved predictor, which holds none: the note had said "the median" of
    them); None where no design is."""
    ranks = [c.rank for c in candidates if c.unstated_above]
    if not ranks:
        return None
    where = ("they are ranked as a typical (the median) verified result" if held else
             "with no result here they keep the predictor's lead; the search's own results are in its study "
             "(gennas design --storage ... --study ...)")
    return (f"{which_designs(ranks)} predicted above every verified result by a predictor learned from "
            "scratch: no value is stated (nothing calibrates it above its results, where a value would only "
            f"repeat the best result's), and {where}; verify them to know")


def unlike_results_note(candidates: Sequence[Any]) -> str | None:
    """Why designs unlike every verified result state no value from scratch
    (:mod:`gennas.design.scratch_statement`); None otherwise."""
    ranks = [c.rank for c in candidates if c.unlike_results]
    if not ranks:
        return None
    return (f"{which_designs(ranks)} unlike every verified result (some operation held more or fewer times than by "
            "each, or more changes away from every one than they lie from one another): a predictor learned from "
            "scratch knows the space only through its results, so no value is "
            "stated (it would be the results' level) and they rank after the designs it states; verify some, or "
            "search on, to state them")


def told_apart(value: float, others: Sequence[float]) -> str:
    """``value`` with enough significant digits (6 to 15) to differ from each of ``others`` that is
    not equal to it: "6 verified designs show the same prediction 1.00" hid, in 3 significant digits,
    both the prediction and measurements of 1 + 9.4e-8 (scores 1 + accuracy * 1e-9)."""
    for digits in range(6, 16):
        text = f"{value:.{digits}g}"
        if all(f"{other:.{digits}g}" != text for other in others if abs(other - value) > 1e-12 * abs(value)):
            return text
    return repr(float(value))


def shared_statement_note(candidates: Sequence[Candidate], designer: Any = None) -> str | None:
    """A note when unverified designs share one stated value: the calibration (monotone, fitted on
    what it has seen) maps the predictor's top scores to one value, and they look interchangeable
    (six cifar100 designs all read 70.82 % where the table has 70.21-71.11); None otherwise.
    ``designer`` (that designed them) tells whether a calibration learned from its verified results
    found no order at all; without one, no such check is claimed."""
    stated = [c.predicted_accuracy for c in candidates if c.predicted_accuracy is not None and c.verified_score is None]
    verified = [c.predicted_accuracy for c in candidates if c.predicted_accuracy is not None and c.verified_score is not None]
    value, count = Counter(stated).most_common(1)[0] if stated else (float("nan"), 0)  # count 0: no value is said
    if count < 2:
        # verified designs beside one prediction: six mbv3 rows read 1.535e+24 over measurements
        # of 5.8e23-1.5e24 without a word; their own measurements tell them apart
        value, count = Counter(verified).most_common(1)[0] if verified else (float("nan"), 0)
        measured = [c.verified_score for c in candidates if c.verified_score is not None]
        return None if count < 2 else (
            f"{count} verified designs show the same prediction {told_apart(value, measured)} beside their measurements: "
            "the calibration does not tell the predictor's top scores apart there; their measurements do")
    if count == len(stated) and len(stated) > 2 and getattr(designer, "states_by_flat_learned_calibration", False):
        # every design one value: after 24 results on a user's images the calibration had found no
        # order in the predictions and stated the results' typical value for all 84.
        # Only then: `design -n 4 --task cifar100` (no result, the shipped calibration's flat top)
        # was told of a check on verified results that never ran
        return (f"all {count} unverified designs state {told_apart(value, verified)}: checked on the verified results "
                "(each predicted by models that never saw it), the predictions did not tell better from worse, "
                "so the calibration states one typical value; their order is the predictor's uncalibrated "
                "score's. Verify more to know which is best")
    designs = f"all {count} unverified designs" if count == len(stated) else f"{count} unverified designs"
    return (f"{designs} share the stated value {told_apart(value, stated + verified)}: the calibration does not "
            "tell the predictor's top scores apart there (their order is the predictor's uncalibrated score's); "
            "verify them to know which is best")



def all_verified_note(candidates: Sequence[Candidate]) -> str | None:
    """Where every design returned was verified already: nothing unverified ranks above them, and
    new candidates come from ``ask`` (after 30 results generate(10) returned only
    cells it had trained, with no word on where new ones come from); None otherwise."""
    if not candidates or any(c.verified_score is None for c in candidates):
        return None
    return (f"all {len(candidates)} designs are architectures verified already: none unverified ranks above them. "
            "For new candidates to verify, use Designer.ask (or a search), or generate more designs")


def noisy_verifications_note(history: Sequence[Any], candidates: Sequence[Any] = ()) -> str | None:
    """Where architectures verified more than once in ``history`` scored differently (a noisy
    evaluator: a real training): the noise's pooled std, and that the best of many single
    verifications over-states its architecture (+0.76 and +1.63 points after 30 noisy verifications
    on cifar10 / cifar100, ``python experiments/noisy_evaluator.py``); what the intervals of
    ``candidates`` are for, where any states one (a rank-only call printed none, user walk 58);
    None otherwise."""
    repeated = [np.asarray(v) for v in scores_by(history, ArchGraph.canonical_hash).values() if len(v) > 1]
    if not repeated:
        return None
    freedom = sum(len(v) - 1 for v in repeated)
    std = float(np.sqrt(sum(float(((v - v.mean()) ** 2).sum()) for v in repeated) / freedom))
    if std == 0.0:
        return None  # an exact evaluator: a verification again scored the same
    return (f"verifications of one architecture differ (std {std:.3g}, from {len(repeated)} verified more than "
            "once): a verified design states the mean of its verifications, and the best of many verified once is "
            "the luckiest, over-stated; Designer.reverify verifies the best again until it is confirmed"
            + (". Intervals are for an architecture's mean score: one training of it varies about that by this std"
               if any(c.interval is not None for c in candidates) else ""))


def below_results_note(designer: Any, candidates: Sequence[Any]) -> str | None:
    """Where designs the predictor scores below every verified result state an accuracy on a task no
    shipped calibration checks (a new dataset): say that their statements extrapolate and where that failed. After a
    search the results are its picks, and the line to the measured tables that states the designs
    below them is flattened by the search's own selection (docs/calibration.md, "Where the line's
    error comes from"); None elsewhere."""
    below = [c for c in candidates if c.below_calibration and c.verified_score is None
             and c.predicted_accuracy is not None]
    if not below or not designer.history or designer.has_stored_calibration:
        return None
    return (f"{ranked_below(len(below), bool(designer.space.benchmark))} (flagged below; the values stated for "
            "them can still lie among the results'): their statements extrapolate the results downwards and are not "
            "checked there; after a search of 20-30 verifications "
            "on a held-out table, such intervals held from 3 to 99 % of the designs (docs/results.md, \"After searches "
            "other than the measured one\"). Verify a few of them before trusting the figures.")


def rank_only_note(designer: Any, task: str, space: str | None, min_stated: int) -> str:
    """Why ``design`` states ranks only, and the commands that would let it state scores."""
    from gennas.design.saved_records import saved_results

    known = list(getattr(designer.predictor, "tasks", []))
    # a user's space has no measured tables: its notes had named them
    ranked_by = "what the results and the tables say" if designer.space.benchmark else "the predictor refitted on the results"
    if designer.history:
        ok = [r for r in designer.history if not r.failed]
        miss = getattr(designer, "own_results_miss", None)
        if miss is not None:
            return (f"no score is stated on task {task!r}: the predictor, learned here from scratch, predicts its "
                    f"own {len(ok)} verified results a median {miss:.1f} of their standard deviations away from "
                    f"them, so its values are not in their units: the verified designs are ranked by their scores, "
                    "the others after them by the predictor.")
        budget = designer.loop.budget
        if budget is not None and ok:
            # under a budget a statement learns from the results within it (docs/results.md, "Statements under
            # a budget set after the search"): 24 differing results, none within, read "needs 10 ... differ"
            within = [r for r, fits in zip(ok, budget.within([r.arch for r in ok])) if fits]
            if len(within) < min_stated:
                return (f"no score is stated on task {task!r}: under a budget a statement learns from the "
                        f"results within it, and {len(within)} of the {len(ok)} successful results are "
                        f"{judged_within(budget)} ({min_stated} whose scores differ are "
                        f"needed); the designs are ranked by {ranked_by}. Verify designs "
                        "under this budget (a search with it) to state scores.")
        distinct = len({r.arch.canonical_hash() for r in ok})  # isomorphic cells (two nb201 rows) count once
        return (f"no score is stated on task {task!r} from {len(ok)} successful results ({distinct} distinct "
                f"architectures): a calibrated statement needs {min_stated} whose scores differ; the designs are "
                f"ranked by {ranked_by}.")
    if getattr(designer, "states_accuracy_of_minimized", False):
        return (f"no score is stated on task {task!r} before results: the pretrained predictor predicts accuracy "
                "(higher is better) and this designer minimizes its scores, so a predicted accuracy is not in "
                "their units; the designs are ranked with the highest predicted accuracy first (the likeliest "
                f"lowest score). Scores are stated after {min_stated} verified architectures whose scores differ.")
    saved = saved_results(designer.space, task)
    if task in known and saved is not None:  # a predictor a search saved, after too few results
        return (f"the predictor a search saved for {designer.space.name} learned task {task!r} from {saved} "
                f"results; a statement needs {min_stated}: the designs are ranked only. Verify more (a longer "
                "`gennas search --method designer`, or Designer.tell) to state scores.")
    # not an error (what transfers still ranks), but a typo in a dataset name must be visible (the designer asks)
    from gennas.errors import ON_COMMAND_LINE

    where = "" if space in (None, "nb201") else f" --space {shlex.quote(str(space))}"
    commands = (f"`gennas search{where} --method designer --task {shlex.quote(str(task))} --evaluator ... --storage "
                "runs.db`, then `gennas design --storage runs.db --study <the study it names>` (a proxy evaluator's "
                f"scores are learned as a task of their own, e.g. '{task}-synflow')")
    python = ("Designer(task=gennas.Task.from_images(x, y)) to describe it by its images from the start, "
              "Designer.search with your own evaluator, or Designer.ask and tell() the scores of your own training")
    # the way the user is working first: a notebook was pointed to the command line before Python
    ways = f"{commands}, or {python}" if ON_COMMAND_LINE.get() else f"{python}, or on the command line {commands}"
    return (f"the predictor was not trained on task {task!r} (it knows: {', '.join(known) or 'none'}); the "
            f"designs are ranked by what transfers, with no accuracy claimed. To learn the task, verify some and "
            f"design from them: {ways}.")
