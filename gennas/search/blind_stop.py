"""Stop a search whose evaluator fails alike whatever the architecture.

A search spent its whole budget on "val_loader yielded labels outside 0..2": every
verification failed with that text, and each failed cell counted as verified in the study. The
rule stops only what cannot depend on the architecture, since a first rule (the first
3 results failing with one text) stopped sound searches:

* an evaluator that raises fails its whole batch with one text, so one out-of-memory
  architecture made a batch of 4 look blind: the failures must come from
  :data:`SAME_FAILURE_STOP` separate evaluations (batches, or single verifications);
* a score the evaluator returned (NaN), a training that diverged (recorded with
  ``on_diverge="record"``) and a verifier that died depend on the architecture: they never count;
* a success anywhere in the study (resumed ones included) shows the evaluator can work.

A stored study sets the failures aside (:data:`gennas.search.storage.SET_ASIDE_ATTR`): they are
not results of their architectures, so a resume with the evaluator fixed verifies those again
rather than counting them against the budget (a lead of the thirty-fifth session's note).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gennas.errors import GennasError
from gennas.evaluators.base import Result
from gennas.search.storage import ResultStore

#: separate evaluations (batches) of a search that, every result failed with one raised error in a
#: study where none succeeded, stop it with that error
SAME_FAILURE_STOP = 3
#: separate evaluations of a search that, every score returned non-finite (NaN, inf) in a study where
#: none succeeded, stop it: one diverged training is the architecture's, every one from the first
#: is the training's whatever the architecture (a learning rate, the data). An all-NaN evaluator
#: spent a search's whole budget of 25; more than SAME_FAILURE_STOP, as such a score
#: may be the architecture's
NON_FINITE_STOP = 5
#: what a returned non-finite score's error starts with (CallableEvaluator)
NON_FINITE = ("evaluator returned nan", "evaluator returned inf", "evaluator returned -inf")
#: error texts (lower case) of failures that depend on the architecture: a returned non-finite score
#: (the CallableEvaluator's wording: a training that diverged), a verifier that died
#: (gennas.search.claims), or memory run out (the designer's first picks are the largest cells: a
#: trainer ran out of GPU memory on cells of 5-6 3x3 convolutions, the search stopped
#: as blind and every resume stopped again on the same cells). A score of the wrong
#: type ("the evaluator returned str '93.1'") is the evaluator's whatever the architecture: a
#: search spent its whole budget on it
ARCHITECTURE_FAILURES = (*NON_FINITE, "died", "out of memory", "outofmemoryerror", "memoryerror")


def blind_failure(history: Sequence[Result], resumed: int, evaluations: int) -> str | None:
    """The error text when every result of this run (after the ``resumed`` ones of ``history``),
    from ``evaluations`` separate evaluations (at least :data:`SAME_FAILURE_STOP`), failed with that
    one raised error, or (from :data:`NON_FINITE_STOP` evaluations) returned a non-finite score,
    and no result of the study succeeded; else None."""
    own = history[resumed:]
    if evaluations < SAME_FAILURE_STOP or not own or not all(r.failed for r in history):
        return None
    if any(isinstance(r.metadata, dict) and r.metadata.get("diverged") for r in own):
        return None  # a TrainEvaluator's recorded divergence: the architecture's
    if evaluations >= NON_FINITE_STOP and all((r.error or "").startswith(NON_FINITE) for r in own):
        return "the evaluator returned no finite score (NaN or inf: a training that diverges whatever the " \
               "architecture? its learning rate, its data)"
    errors = {r.error or "" for r in own}
    error = errors.pop() if len(errors) == 1 else ""
    return error if error and not any(word in error.lower() for word in ARCHITECTURE_FAILURES) else None


def stop_if_blind(history: Sequence[Result], resumed: int, evaluations: int, budget: int,
                  store: ResultStore, evaluator: Any = None) -> None:
    """Raise GennasError quoting :func:`blind_failure`'s error while budget is left to spend, after
    setting the failures aside in ``store`` (:meth:`ResultStore.set_aside`): they say nothing of
    their architectures, so a resume with the evaluator fixed verifies those again. The
    ``evaluator``'s ``last_exception`` raising that error (a CallableEvaluator's, in this
    process) is chained, its traceback leading into the evaluator's code."""
    error = blind_failure(history, resumed, evaluations)
    if error is None or len(history) >= budget:
        return  # the budget is spent anyway: the search returns, its notes say every verification failed
    if getattr(store.backend, "url", None) is None:
        kept = "the search was in memory: nothing was stored"
    else:
        try:
            n = store.set_aside(error)
            kept = (f"the {n} failure{'s are' if n != 1 else ' is'} set aside in study {store.study_name!r}: once the "
                    "evaluator is fixed, resume it (resume=True / --resume) and their architectures are verified again, "
                    "within the same budget")
        except GennasError as exc:  # the stop's reason comes first; the storage's problem is said beside it
            kept = (f"the failures stay in study {store.study_name!r}, counted as verified, since they could not be "
                    f"set aside ({exc}): a new study verifies their architectures again")
    how = "failed alike" if error.startswith("the evaluator returned no finite") else \
        "failed with the same raised error, whatever the architecture"
    cause = getattr(evaluator, "last_exception", None)
    raise GennasError(f"the first {len(history) - resumed} verifications of this search ({evaluations} evaluations) "
                      f"all {how}: {error!r}; stopped with "
                      f"{budget - len(history)} of the budget of {budget} left ({kept}). Fix the evaluator or its "
                      "data first") from (cause if isinstance(cause, Exception)
                                          and f"{type(cause).__name__}: {cause}" == error else None)
