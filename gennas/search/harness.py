"""The search harness: ask an optimizer, verify, store, tell, until the budget is spent.

Any object with ``ask(k) -> list[ArchGraph]`` and ``tell(results)`` is an
:class:`~gennas.search.optimizer.Optimizer` (the baselines in :mod:`gennas.baselines`, and the
designer's :class:`~gennas.design.loop.DesignLoop`). A batch of results is told at once. :func:`run_search` drives it
against any evaluator (an :class:`~gennas.evaluators.base.Evaluator` or a plain callable
``ArchGraph -> float``), writes every result to an optuna study as soon as it is verified
(:mod:`gennas.search.storage`), and never verifies two architectures with the same canonical hash.
With ``resume=True`` the stored results the optimizer does not hold are told to it first (:func:`replay`: as the
run that stored them told them, so a seeded search resumed goes where it would have gone) and
only the rest of the budget is spent. A search whose first
:data:`~gennas.search.blind_stop.SAME_FAILURE_STOP` evaluations all fail with one raised error, in a study where none succeeded, stops with a
GennasError quoting it (:mod:`gennas.search.blind_stop`) instead of spending the rest of the budget.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Any, SupportsFloat

import numpy as np

from gennas.design.scores import check_kind_direction
from gennas.errors import GennasError
from gennas.evaluators.base import Evaluator, Result, as_evaluator
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space
from gennas.search.blind_stop import stop_if_blind
from gennas.search.claims import MAX_ATTEMPTS, Claims, StudyView
from gennas.search.evaluator_settings import (check_evaluator_space, evaluator_settings, run_settings,
                                              warn_weights_not_kept)
from gennas.search.executor import Executor, make_executor
from gennas.search.interrupted import stops_on_sigterm, time_limit_note, warn_interrupted
from gennas.search.optimizer import Optimizer, check_optimizer, method_name, untold
from gennas.search.progress import SearchProgress, attach_work_dir, release_work, work_dirs
from gennas.search.search_result import SearchResult
from gennas.search.storage import ResultStore
from gennas.search.study_record import START_ATTR
from gennas.search.stored_trials import foreign_notes
from gennas.versions import versions

#: consecutive asks that bring nothing new before the harness concludes the optimizer is exhausted
MAX_STALE_ASKS = 20
#: seconds between two looks at a study whose remaining budget other processes are verifying
POLL_S = 0.2


class _Negated:
    """An optimizer that takes higher scores as better, told a minimised score's negation (its
    own direction): the scores stored and returned stay the evaluator's."""

    def __init__(self, inner: Optimizer) -> None:
        self.inner = inner

    def ask(self, k: int) -> list[ArchGraph]:
        return self.inner.ask(k)

    def tell(self, results: list[Result]) -> None:
        self.inner.tell([r if r.failed else replace(r, score=-r.score) for r in results])

    @property
    def history(self) -> list[Result]:
        """What the optimizer was told, in the evaluator's direction (as the study holds it: :func:`untold`)."""
        return [r if r.failed else replace(r, score=-r.score) for r in getattr(self.inner, "history", ())]

    def __getattr__(self, name: str) -> Any:  # .space, .search_notes, ... of the optimizer
        return getattr(self.inner, name)


def higher_is_better(optimizer: Optimizer, direction: str) -> Optimizer:
    """``optimizer`` as it should be told scores of ``direction``: one that declares a
    ``direction`` reads them itself (the designer's loop) and must declare this one; every
    baseline takes higher as better, so a minimised score reaches it negated."""
    declared = getattr(optimizer, "direction", None)
    if declared is not None:
        if declared != direction:
            raise GennasError(f"the optimizer ({type(optimizer).__name__}) {declared}s its scores, but the search was "
                              f"asked to {direction} them; for the designer: Designer(..., direction={direction!r})"
                              ".search(...) (make_optimizer's designer maximizes)")
        return optimizer
    return _Negated(optimizer) if direction == "minimize" else optimizer


def failure_note(failures: Sequence[Result], verified: int, stored: bool = True) -> str:
    """What a user should know of ``failures`` among ``verified`` verifications: how many, that
    they spent budget, and the commonest kind of error (an exception's class: "boom 1" and "boom
    2" were counted apart, so two NaN scores outnumbered five RuntimeErrors), with its first
    message, the first kind of equal counts; ``stored``: the search kept them in a study (not in memory)."""
    messages = [r.error or f"score {r.score}" for r in failures]
    kinds = Counter(error_kind(m) for m in messages)
    kind, count = kinds.most_common(1)[0]
    example = next(m for m in messages if error_kind(m) == kind)
    how_many = f"all {verified}" if len(failures) == verified else f"{len(failures)} of {verified}"
    nothing = "; nothing was learned" if len(failures) == verified else ""
    kept = " and is kept in the study" if stored else ""
    times = f" ({count}x {kind})" if count > 1 and kind != example else f" ({count}x)" if count > 1 else ""
    # a failed architecture is never asked again: where an evaluator may fail by chance, one crash
    # loses the cell; CallableEvaluator(..., retries=1) tries a raised error again
    again = "" if len(failures) == verified else "; their architectures are not asked again"
    return (f"{how_many} verifications failed (each spent one of the budget{kept}{again}){nothing}: "
            f"{example!r}{times}" + _others(kinds, kind))


def _others(kinds: Counter, named: str) -> str:
    """The kinds of error besides ``named``, each with its count (the note said "1 other kind(s)
    of error" without naming it): at most three, long messages cut."""
    rest = [(k if len(k) <= 60 else k[:57] + "...", n) for k, n in kinds.most_common() if k != named]
    if not rest:
        return ""
    shown = ", ".join(f"{k!r} ({n}x)" for k, n in rest[:3]) + (f" and {len(rest) - 3} more" if len(rest) > 3 else "")
    return f", and {len(rest)} other kind{'s' if len(rest) > 1 else ''} of error: {shown}"


def error_kind(message: str) -> str:
    """An error message's kind: the exception class that starts it (``"RuntimeError: boom 3"`` ->
    ``"RuntimeError"``), else the whole message."""
    head, sep, _ = message.partition(": ")
    return head if sep and head.isidentifier() else message


def _space_of(optimizer: Any, space: SearchSpace | str | None) -> SearchSpace:
    if space is not None:
        return resolve_space(space)
    found = getattr(optimizer, "space", None)
    if isinstance(found, (SearchSpace, str)):
        return resolve_space(found)
    raise GennasError(f"{type(optimizer).__name__} has no .space; pass space= to run_search")


@stops_on_sigterm
def run_search(optimizer: Optimizer, evaluator: Evaluator | Callable[[ArchGraph], SupportsFloat], budget: int, *,
               storage: Any = None, study_name: str | None = None, batch_size: int = 1,
               progress: bool | None = None, resume: bool = False, space: SearchSpace | str | None = None,
               attrs: dict[str, Any] | None = None, direction: str = "maximize", force: bool = False,
               executor: Executor | str | None = None, workers: int | None = None,
               address: str | None = None, max_seconds: float | None = None) -> SearchResult:
    """Search until ``budget`` architectures have been verified (failed ones count).

    Args:
        optimizer: ask/tell optimizer; its ``.space`` (or ``space=``) names the search space.
        evaluator: an Evaluator or a callable ``ArchGraph -> float`` (higher is better).
        budget: total verifications, stored ones included when resuming; must be > 0.
        storage: optuna storage URL, ``.db`` path, storage object, or None (in memory).
        study_name: the study to write (and, with ``resume``, to read).
        batch_size: architectures asked and verified per round.
        progress: show progress on stderr (a bar on a terminal, plain lines in a log); None (the
            default): shown unless the evaluator looks scores up in a table (milliseconds each).
        resume: reload the study's results, tell them to the optimizer, spend only the rest.
        attrs: study user attributes to record (method, task, seed, ...; the optimizer's method
            (:func:`~gennas.search.optimizer.method_name`) and the evaluator's kind, unless given as
            ``method`` and ``evaluator``, and its epochs, build options, input shape, ... are added:
            ``evaluator_settings``); resuming with other
            settings (see :data:`gennas.search.study_record.SETTINGS`) is refused unless ``force``
            (another task is refused even then: its scores would mix two datasets).
        direction: ``"maximize"`` (accuracy) or ``"minimize"`` (a loss): which scores are best.
        force: resume even though ``attrs`` changes the study's settings, the task excepted (the
            change is recorded).
        executor: ``"local"`` (default: in this process, ``batch_size`` at a time, synchronous),
            ``"ray"`` (one Ray task per architecture, ``workers`` at a time, asynchronous: new
            architectures are asked as workers free up) or an
            :class:`~gennas.search.executor.Executor`.
        workers: Ray tasks in flight (default 2); address: Ray cluster (None: a local instance).
        max_seconds: a time limit (s, wall): once it has passed, no new verification starts, those
            under way finish and are stored, and the search returns with a note (a resume goes on).

    Several processes may run on one study at once: each claims an architecture before verifying
    it (:mod:`gennas.search.claims`), so none is verified twice, the budget counts every
    process's results, and each returns when the study holds ``budget`` results (``history``
    then has the others' results too). A process that died leaves claims that are retried.

    Raises:
        GennasError: bad budget or batch size, an evaluator of another space, storage that cannot
            be opened or written, a study that already has results without ``resume`` or was
            run with other settings: all before anything is verified. A result the storage
            refuses later is kept in a journal (stored when the study is next opened) and the
            search stops with a GennasError saying where. The first ``SAME_FAILURE_STOP`` evaluations all
            failed with one raised error and none in the study succeeded, with budget left: the
            error does not depend on the architecture (:mod:`gennas.search.blind_stop`; the failures
            are set aside: a resume verifies their architectures again).
    """
    began, began_cpu = time.monotonic(), time.process_time()  # SearchResult.elapsed_s, cpu_s
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
        raise GennasError(f"budget must be a positive number of verifications, got {budget!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise GennasError(f"batch_size must be a positive integer, got {batch_size!r}")
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                                    or not 0 < max_seconds < math.inf):
        raise GennasError(f"max_seconds must be a positive number of seconds, got {max_seconds!r}")
    optimizer = check_optimizer(optimizer)
    evaluator = as_evaluator(evaluator)
    if progress is None:  # a training or a proxy may take minutes per architecture; a table lookup never does
        progress = getattr(evaluator, "kind", "callable") != "table"
    search_space = _space_of(optimizer, space)
    if direction not in ("maximize", "minimize"):
        raise GennasError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    method = method_name(optimizer)  # recorded unless attrs name it: a resume by another method is refused
    optimizer = higher_is_better(optimizer, direction)
    check_evaluator_space(evaluator, search_space.name)  # each verification would fail and spend the budget
    asked, budget = int(budget), min(int(budget), search_space.size())  # no more than the space holds
    kind = getattr(evaluator, "kind", "callable")
    check_kind_direction([kind], direction, f"the evaluator ({type(evaluator).__name__})")
    start = getattr(optimizer, "predictor_start", None)  # the designer's: what a resume starts from again
    # what the evaluator's scores mean (epochs, build, inputs, ...): a resume with another setup is refused
    # and the batch size, and a training evaluator's threads (noted on resume: its scores' last bits)
    # the evaluator's kind unless attrs name it: a study a callable verified was resumed with synflow
    # without a word, both units ranked in one table (Designer.search and the CLI record it themselves)
    # and which gennas and torch verified (the latest run's)
    attrs = {"evaluator": kind, "method": method, **evaluator_settings(evaluator),
             **run_settings(evaluator, executor, int(batch_size)), **(attrs or {}), **versions()}
    attrs = attrs if start is None else {START_ATTR: start, **attrs}
    store = ResultStore.open(search_space, storage, study_name, resume=resume, attrs=attrs, direction=direction,
                             force=force)
    _check_start(store, start, force)
    runner = make_executor(executor, workers, address, int(batch_size))
    with Claims(store, int(budget)) as claims:
        view = claims.view()
        history: list[Result] = list(view.results.values())  # resumed (or stored meanwhile by another process)
        if len(history) < int(budget):
            store.check_writable()  # a read-only storage fails here, not after the first verification
        # a training evaluator checkpoints under the study, so a resumed search continues its epochs
        attached = attach_work_dir(evaluator, getattr(store.backend, "url", None), store.study_name)
        warn_weights_not_kept(evaluator)  # in memory, with no folder of its own: its weights would vanish
        # a resumed study's results are told as the uninterrupted run told them, so that its seed
        # leads the rest of the search where it would have gone (told at once, the path diverged)
        if hasattr(optimizer, "adopt_study"):  # the designer starts (again) where the study started
            optimizer.adopt_study(store.study.user_attrs, work_dirs(getattr(store.backend, "url", None),
                                                                     store.study_name), resumed=bool(history))
        # never what it holds already: a designer's own earlier search, or from_study, told it them
        unknown = untold(optimizer, history)
        told = set(view.results)
        out = SearchResult(history, store.study_name, resumed=len(history), store=store, direction=direction)
        runner.start(evaluator)
        try:
            # the designer's loop writes what it learns at most every so often, and once at the end
            spaced = getattr(optimizer, "saves_spaced", None)
            with SearchProgress(progress, int(budget), len(history), out) as bar, \
                    (spaced() if callable(spaced) else contextlib.nullcontext()):
                if len(history) >= int(budget):
                    # nothing left to verify: told at once (one refit, as from_study), not replayed round by
                    # round to lead a continuation (README, "Scale and reliability": 43 s -> 7.4 s)
                    pending: list[ArchGraph] = []
                    held_round: list[Result] = []
                    if unknown:
                        optimizer.tell(unknown)
                else:
                    pending, held_round = replay(optimizer, unknown, int(batch_size), set(view.orphans),
                                                 bar.replayed) if unknown or view.orphans else ([], [])
                stale = evaluations = 0
                while True:
                    news = [r for h, r in view.results.items() if h not in told]  # other processes' results
                    if news:
                        told.update(r.arch.canonical_hash() for r in news)
                        history.extend(news)
                        bar.update(len(news))  # counted as stored before the refit, which an interrupt may cut
                        optimizer.tell(news)
                    room = int(budget) - len(view.results) - len(view.live)
                    want = min(runner.free(), room)
                    if max_seconds is not None and time.monotonic() - began >= max_seconds:
                        want = 0  # the time limit: what is under way finishes and is stored, nothing new starts
                        if not runner.pending():
                            if held_round:  # a resumed round's stored results: told, as the round would have
                                optimizer.tell(held_round)
                            out.notes.append(time_limit_note(max_seconds, len(view.results), int(budget)))
                            break
                    fresh = False  # whether a claim read the study in this round
                    if held_round and not pending:  # its rest claimed by another process: told now
                        optimizer.tell(held_round)
                        held_round.clear()
                    if held_round:  # the stopped round's rest, verified alone, then told with its stored results
                        want = min(want, len(pending))
                    if want > 0:
                        batch, given_up = _claim_batch(optimizer, search_space, claims, view, want, pending,
                                                       want if held_round else runner.free())
                        fresh = bool(batch or given_up)
                        if batch:
                            runner.submit(batch)
                        if given_up:  # their verifiers kept dying: stored as failed, not tried again
                            _store(store, claims, evaluator, given_up, told, out, optimizer, bar, held_round)
                        if batch or given_up:
                            stale = 0
                        elif not runner.pending() and not view.live:
                            stale += 1
                            if stale >= MAX_STALE_ASKS:
                                out.exhausted = True
                                break
                    if runner.pending():
                        done = [r for _, r in runner.wait()]
                        _store(store, claims, evaluator, done, told, out, optimizer, bar, held_round)
                        evaluations += 1  # an evaluator that raises fails a batch alike: batches count
                        stop_if_blind(history, out.resumed, evaluations, int(budget), store, evaluator)
                        if fresh:  # the study was read this round: add our own results, skip a read
                            view = claims.stored(done)
                            continue
                    elif room <= 0 and len(view.results) >= int(budget):
                        break
                    elif room <= 0 or (want > 0 and view.live):
                        time.sleep(POLL_S)  # the rest is claimed by other processes: wait for their results
                    view = claims.view()
        except (KeyboardInterrupt, SystemExit) as stop:  # said nothing of what is kept (SystemExit: a trainer's exit)
            held = history if storage is not None else getattr(optimizer, "history", history)
            warn_interrupted(optimizer, storage, getattr(store.backend, "url", None), store.study_name, len(held),
                             getattr(evaluator, "checkpoint_dir", None) is not None)
            if isinstance(stop, KeyboardInterrupt):  # said: not 35 frames of torch's modules in a notebook's cell
                raise stop.with_traceback(None) from None
            raise
        finally:
            runner.close()
            if attached is not None:  # the study's folder for this run only: another study's run gets its own
                evaluator.checkpoint_dir = None
    out.elapsed_s, out.cpu_s = time.monotonic() - began, time.process_time() - began_cpu
    if asked > budget:  # `-b 10000000` on nb201 ran 600 s towards it without a word
        out.notes.insert(0, f"the budget of {asked:,} exceeds the {budget:,} architectures of {search_space.name}: "
                            f"at most {budget:,} can be verified, fewer where some compute the same network (each "
                            "is verified once)")
    if out.exhausted:
        # said as what happened, not as a fault: under a tight budget there may be nothing left to verify
        out.notes.append(f"stopped after {len(out.history)} of {budget} verifications: nothing left to verify "
                         f"({MAX_STALE_ASKS} asks in a row proposed no architecture not verified already)")
    if out.resumed > int(budget):
        out.notes.append(f"the study already holds {out.resumed} results, more than this run's budget of {budget}: "
                         "nothing new was verified (a larger budget continues it)")
    if out.failures:
        out.notes.append(failure_note(out.failures, len(out.history), getattr(store.backend, "url", None) is not None))
    out.notes += foreign_notes(store.foreign_count, store.study_name)
    explain = getattr(optimizer, "search_notes", None)  # an optimizer may say more (why, what it learned)
    if callable(explain):
        out.notes += explain(out.exhausted)
    return out


def _check_start(store: ResultStore, start: str | None, force: bool) -> None:
    """Refuse to resume a study with a designer that starts from another predictor than the study
    began from, where the resume cannot restore it (a shipped one, a held-out one, the user's own;
    a study begun untrained or from a saved predictor restarts from that): a held-out study resumed
    with the shipped predictor took the target's labels and still recorded an honest start.
    ``force`` goes on, as for the other settings."""
    begun = store.study.user_attrs.get(START_ATTR)
    if force or not start or not begun or start == begun or begun in ("untrained", "saved") or not len(store):
        return
    raise GennasError(f"study {store.study_name!r} began from the {begun!r} predictor, and this run's designer starts "
                      f"from the {start!r} one: resume with the predictor it began from (your own model: "
                      "predictor=yours; a held-out one: predictor=gennas.load_predictor(space, holdout=...)), choose "
                      "another study name, or force it (force=True / --force)")


def replay(optimizer: Optimizer, history: Sequence[Result], batch_size: int, unverified: Collection[str] = (),
           replayed: Callable[[int, int], None] | None = None) -> tuple[list[ArchGraph], list[Result]]:
    """Tell a resumed study's results ``history`` to ``optimizer`` as the run that stored them
    did: ask ``batch_size`` architectures and tell their stored results while every one asked
    is stored (a seeded optimizer asks again what it asked then), then the results never asked
    at once. Returns the architectures asked and not stored (where the run stopped: among them
    those it was verifying, hashes ``unverified``), to verify first: the optimizer will not
    propose them again, and the run that stopped told their results before asking more; and the
    stored results of that last round, held back to be told with them, as one batch (told
    apart, a study stopped at 3 of batch 2 refitted twice where its uninterrupted run refitted
    once, and resumed to other cells). ``replayed(told, total)`` follows the telling (progress)."""
    left: dict[str, list[Result]] = {}
    for result in history:
        left.setdefault(result.arch.canonical_hash(), []).append(result)
    stored, pending, told = set(left), [], 0
    while left or unverified:
        asked = optimizer.ask(batch_size)
        hashes = [a.canonical_hash() for a in asked]
        hits = [h for h in dict.fromkeys(hashes) if h in left]
        pending = [a for a, h in zip(asked, hashes) if h not in stored]
        held = [r for h in hits for r in left.pop(h)]
        if held and not pending:
            optimizer.tell(held)
            told += len(held)
            if replayed is not None:
                replayed(told, len(history))
        if pending or not hits:  # where the run stopped, or a path of its own (or a repeat) from here
            break
    rest = [r for results in left.values() for r in results]
    if rest:
        optimizer.tell(rest)
    if replayed is not None:
        replayed(len(history), len(history))
    return pending, (held if pending else [])


def _claim_batch(optimizer: Optimizer, space: SearchSpace, claims: Claims, view: StudyView,
                 k: int, pending: list[ArchGraph], batch: int) -> tuple[list[ArchGraph], list[Result]]:
    """Up to ``k`` architectures claimed for this process: first those another dead or
    interrupted process left unverified, then those :func:`replay` asked and found unverified
    (taken from ``pending``, in the order asked; an interrupted run's own orphans are among them),
    then new ones from the optimizer (verified and claimed ones left out), asked as a whole ``batch``
    where fewer are wanted (the budget's last round), the rest given back to an optimizer that
    takes them (``release``): a designer's ``ask(1)`` is not the first of its ``ask(2)``, and a
    study stopped at 3 of batch 2 resumed to other results than a run of 8 at once. Also
    returns failed results for left architectures whose verifiers died
    :data:`~gennas.search.claims.MAX_ATTEMPTS` times (claimed too, so stored once)."""
    candidates: list[ArchGraph] = []
    given_up: list[Result] = []
    busy = view.busy()
    replayed = {a.canonical_hash() for a in pending}
    # another process's orphans first, then the replay's (the run that stopped: in the order it asked them)
    left = [(h, space.from_string(text)) for h, text in view.orphans.items() if h not in replayed]
    left += [(a.canonical_hash(), a) for a in pending]
    for h, arch in left:
        if len(candidates) + len(given_up) >= k:
            break
        if h in busy:
            continue
        busy.add(h)
        if view.attempts.get(h, 0) < MAX_ATTEMPTS:
            candidates.append(arch)
        elif claims.claim(arch):
            given_up.append(Result(arch, math.nan, "unknown", error=f"not verified: the process verifying it "
                                   f"died {view.attempts[h]} times"))
    pending[:] = [a for h, a in left if h in replayed and h not in busy]  # the rest: for the next batch
    if len(candidates) + len(given_up) < k:
        proposed = optimizer.ask(max(k, batch) - len(candidates) - len(given_up))
        if not isinstance(proposed, (list, tuple)):
            raise GennasError(f"{type(optimizer).__name__}.ask(k) must return a list of architectures, got "
                              f"{type(proposed).__name__}")
        for arch in proposed:
            space.validate(arch)  # an optimizer proposing foreign graphs is a bug: say so
            h = arch.canonical_hash()
            if h not in busy and len(candidates) + len(given_up) < k:
                busy.add(h)
                candidates.append(arch)
        surplus = [a for a in proposed if a not in candidates]
        if surplus and callable(release := getattr(optimizer, "release", None)):
            release(surplus)
    return [a for a in candidates if claims.claim(a)], given_up


def _store(store: ResultStore, claims: Claims, evaluator: Any, results: list[Result], told: set[str],
           out: SearchResult, optimizer: Optimizer, bar: Any, held: list[Result]) -> None:
    """Write verified results (a refused write keeps them in the journal and raises), end their
    claims, then tell the optimizer, with ``held`` (a resumed round's stored results: emptied)."""
    store.add_many(results)  # written now: an interrupt later loses nothing verified
    for r in results:
        claims.release(r.arch)
    release_work(evaluator, results)  # stored: their training checkpoints may go
    told.update(r.arch.canonical_hash() for r in results)
    out.history.extend(results)
    out.verified_here += len(results)
    # counted before the refit: an interrupt during it said "stopped: 14/20 verified" of a study
    # holding 15
    bar.update(len(results))
    optimizer.tell([*held, *results])
    held.clear()

