"""Stop a search whose evaluator fails alike whatever the architecture.

A user review's search spent its whole budget on "val_loader yielded labels outside 0..2": every
verification failed with that text, and each failed cell counted as verified in the study. The
rule stops only what cannot depend on the architecture, since a code review found a first rule
(the first 3 results failing with one text) stopping sound searches:

* an evaluator that raises fails its whole batch with one text, so one out-of-memory
  architecture made a batch of 4 look blind: the failures must come from
  :data:`SAME_FAILURE_STOP` separate evaluations (batches, or single verifications);
* a score the evaluator returned (NaN), a training that diverged (recorded with
  ``on_diverge="record"``) and a verifier that died depend on the architecture: they never count;
* a success anywhere in the study (resumed ones included) shows the evaluator can work.
"""

from __future__ import annotations

from collections.abc import Sequence

from gennas.errors import GennasError
from gennas.evaluators.base import Result

#: separate evaluations (batches) of a search that, every result failed with one raised error in a
#: study where none succeeded, stop it with that error
SAME_FAILURE_STOP = 3
#: error texts of failures that depend on the architecture: a returned non-finite score (the
#: CallableEvaluator's and the harness's wording) or a verifier that died (gennas.search.claims)
ARCHITECTURE_FAILURES = ("evaluator returned", "died")


def blind_failure(history: Sequence[Result], resumed: int, evaluations: int) -> str | None:
    """The error text when every result of this run (after the ``resumed`` ones of ``history``),
    from ``evaluations`` separate evaluations (at least :data:`SAME_FAILURE_STOP`), failed with that
    one raised error and no result of the study succeeded; else None."""
    own = history[resumed:]
    if evaluations < SAME_FAILURE_STOP or not own or not all(r.failed for r in history):
        return None
    if any(isinstance(r.metadata, dict) and r.metadata.get("diverged") for r in own):
        return None  # a TrainEvaluator's recorded divergence: the architecture's
    errors = {r.error or "" for r in own}
    error = errors.pop() if len(errors) == 1 else ""
    return error if error and not any(word in error for word in ARCHITECTURE_FAILURES) else None


def stop_if_blind(history: Sequence[Result], resumed: int, evaluations: int, budget: int, study_name: str,
                  stored: bool) -> None:
    """Raise GennasError quoting :func:`blind_failure`'s error while budget is left to spend;
    ``stored``: whether the study is kept (else nothing was: the message says so)."""
    error = blind_failure(history, resumed, evaluations)
    if error is None or len(history) >= budget:
        return  # the budget is spent anyway: the search returns, its notes say every verification failed
    kept = (f"the failures are kept in study {study_name!r}, where their architectures count as verified: a new "
            "study verifies them again" if stored else "the search was in memory: nothing was stored")
    raise GennasError(f"the first {len(history) - resumed} verifications of this search ({evaluations} evaluations) "
                      f"all failed with the same raised error, whatever the architecture: {error!r}; stopped with "
                      f"{budget - len(history)} of the budget of {budget} left ({kept}). Fix the evaluator or its "
                      "data first")
