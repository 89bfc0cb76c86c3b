"""The Evaluator protocol and its Result record.

Anything with ``evaluate(archs) -> list[Result]`` is an evaluator; a plain callable
``ArchGraph -> float`` is wrapped by :func:`as_evaluator`. An architecture whose evaluation
raises or gives NaN yields a Result with ``failed=True`` and the error text, so one bad
candidate never ends a search.
"""

from __future__ import annotations

import math
import numbers
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, SupportsFloat, runtime_checkable

from gennas.errors import GennasError, GennasWarning, caller_stacklevel
from gennas.graph import ArchGraph, ArchLike

if TYPE_CHECKING:  # annotation only: gennas.spaces is not needed to hold results
    from gennas.spaces import SearchSpace


@dataclass(frozen=True)
class Result:
    """One verified architecture.

    Attributes:
        arch: the architecture.
        score: the evaluator's score (accuracy in % for table, training and supernet; a proxy's
            value otherwise), better higher unless the search minimises (a loss); NaN when ``failed``.
        kind: what produced it: ``"table"``, ``"proxy:<name>"``, ``"supernet"``, ``"train"``, ``"callable"``,
            ``"user"`` (``Designer.tell(arch, score)``).
        fidelity: how trustworthy, e.g. ``"full"`` or ``"epochs=5"``.
        cost_s: wall-clock seconds spent on this architecture; for a training resumed from its
            checkpoint, the total of every call (the checkpoint carries the seconds of its finished
            epochs; an interrupted epoch's lost work is not counted).
        metadata: anything else (dataset, seed, epochs, ...), JSON-serialisable.
        error: why it failed, else None.
    """

    arch: ArchGraph
    score: float
    kind: str
    fidelity: str = "full"
    cost_s: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True for an error or a non-finite score: not a verified score of its architecture."""
        return self.error is not None or not math.isfinite(self.score)

    def __repr__(self) -> str:
        # the dataclass's repr wrote every field (metadata, 16-digit costs): 300 characters a result,
        # 6,000 for a notebook cell showing a search's 20; every field stays an attribute
        arch = self.arch.to_string() if hasattr(self.arch, "to_string") else repr(self.arch)
        how = self.kind if self.fidelity == "full" else f"{self.kind}, {self.fidelity}"
        said = f"failed: {str(self.error).splitlines()[0] if self.error else 'no score'}" if self.failed \
            else f"{self.score:.6g}"
        return f"Result({said} ({how}) {arch})"


@runtime_checkable
class Evaluator(Protocol):
    """What verifies architectures: ``evaluate(archs)`` takes a list of architectures and returns
    one :class:`Result` per architecture, in their order. A Result's ``kind`` says what its score
    is (``"table"``, ``"train"``, ``"supernet"``: an accuracy in %, 0-100; ``"proxy:<name>"``: a
    zero-cost proxy's value; anything else: a score of no unit); a failure is a Result with
    ``error`` set (or a non-finite score), never an exception, so a search goes on. A plain
    function ``arch -> score`` is one through :class:`CallableEvaluator` (``kind="train"`` to
    declare accuracies in %)."""

    def evaluate(self, archs: Sequence[ArchGraph]) -> list[Result]: ...


#: result kinds whose scores are accuracies in % (the table, a training, a supernet's evaluation)
ACCURACY_KINDS = ("table", "train", "supernet")


def outside_accuracy(score: float, kind: str) -> str | None:
    """Why a finite ``score`` of ``kind`` cannot be what it says (an accuracy in % outside 0-100:
    150 or 1e308, a logging slip or a loss, became a search's best and generate's #1 without a
    word), or None."""
    if kind in ACCURACY_KINDS and not 0 <= score <= 100:
        return f"the evaluator returned {score:g} for an accuracy in % (kind {kind!r}): outside 0-100"
    return None


def as_number(value: Any, who: str) -> float:
    """``value`` as a float: a real number, or a one-element numpy array or torch tensor as its one
    value (``float()`` took ``torch.tensor([x])`` and failed ``np.array([x])``).
    Raises TypeError, its text starting with ``who``, for a bool or a string (``float(True)`` is
    1.0, ``float("93.2")`` parses: slips, not scores) and for an array of another size."""
    size = value.numel() if callable(getattr(value, "numel", None)) else getattr(value, "size", None)
    if isinstance(size, int) and hasattr(value, "item"):
        if size != 1:
            raise TypeError(f"{who} an array of {size} values, not one number")
        value = value.item()
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"{who} {type(value).__name__} {value!r:.40}, not a number")
    if value is None:  # float(None)'s own text read as a bug of gennas
        raise TypeError(f"{who} None, not a number (a missing return? a training without a score is recorded "
                        "as a failure of its architecture when the evaluator returns float('nan'))")
    if not isinstance(value, numbers.Real) and not hasattr(value, "__float__"):  # a tuple (acc, loss), a dict
        raise TypeError(f"{who} {type(value).__name__} {value!r:.60}, not a number")
    return float(value)


class CallableEvaluator:
    """Wraps ``fn: ArchGraph -> float``; exceptions and NaN become failed Results.

    ``kind`` is every Result's kind, and says what the scores are: ``"table"``, ``"train"`` or
    ``"supernet"`` declare them accuracies in % (designs then state ``%``, ``gennas design
    --json`` names them ``pred_acc``); the default ``"callable"`` claims no unit (``pred_score``).
    The kind also names a designer's stored study.

    ``retries``: how many times ``fn`` is called again for an architecture when it raises (a
    crashed or timed-out training: a failed architecture is never asked again, so one transient
    crash lost a search its best cell); a returned NaN (a training that diverged) is
    the architecture's and is not retried. Each architecture is one verification of the budget
    whatever its attempts; a Result's ``metadata["attempts"]`` says how many it took, where more than one.
    """

    def __init__(self, fn: Callable[[ArchGraph], SupportsFloat], kind: str = "callable", retries: int = 0) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise GennasError(f"retries must be a whole number from 0, got {retries!r}")
        self.fn = fn
        self.kind = kind
        self.retries = retries
        #: the last exception ``fn`` raised, with its traceback's lines (in this process; not pickled): a
        #: search stopped by an evaluator that fails alike chains it, so the traceback into the
        #: caller's code is not lost (user walk 44)
        self.last_exception: Exception | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "last_exception": None}  # a traceback does not pickle

    def __repr__(self) -> str:
        # a bare <... object at 0x...> in a notebook
        retries = f", retries={self.retries}" if self.retries else ""
        return f"CallableEvaluator({getattr(self.fn, '__qualname__', repr(self.fn))}, kind={self.kind!r}{retries})"

    def evaluate(self, archs: Sequence[ArchLike]) -> list[Result]:
        graphs = [getattr(a, "arch", a) for a in listed(archs, "CallableEvaluator.evaluate")]  # a Candidate's
        for arch in graphs:  # checked before any is verified: the function takes graphs, and no space is known here
            if not isinstance(arch, ArchGraph):
                raise GennasError(f"CallableEvaluator.evaluate takes architectures as graphs, got "
                                  f"{type(arch).__name__} (space.parse(text) makes one)")
        out = []
        for arch in graphs:
            start = time.perf_counter()
            for attempt in range(1, self.retries + 2):
                try:
                    score, error = as_number(self.fn(arch), "the evaluator returned"), None
                    if not math.isfinite(score):
                        error = f"evaluator returned {score}"
                    else:
                        error = outside_accuracy(score, self.kind)
                    break
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # a user's evaluator may fail in any way; record and go on
                    score, error = float("nan"), f"{type(exc).__name__}: {exc}"
                    # its traceback's lines are kept, its frames' locals (the caller's model, data) freed
                    traceback.clear_frames(exc.__traceback__)
                    self.last_exception = exc
            metadata = {"attempts": attempt} if attempt > 1 else {}
            out.append(Result(arch, score, self.kind, cost_s=time.perf_counter() - start, metadata=metadata,
                              error=error))
        return out


def architectures_to_evaluate(space: SearchSpace, archs: Any, who: str) -> list[ArchGraph]:
    """``archs`` (a list of graphs, their strings, or designs ``generate`` returned) as the space's
    graphs, for ``who`` (``"TableEvaluator.evaluate"``): a string kept as a string reached
    ``Designer.tell`` as a raw AttributeError, and one architecture or None where a list goes was
    torch's or Python's TypeError (``Designer.predictions`` too)."""
    return [space.parse(a) for a in listed(archs, who)]  # a Candidate: its architecture


def listed(archs: Any, who: str) -> list[Any]:
    """``archs`` as a list, or a GennasError naming ``who`` where one architecture or None was given."""
    if archs is None or isinstance(archs, (ArchGraph, str, bytes)) or not hasattr(archs, "__iter__"):
        one = " (one architecture: wrap it in a list)" if isinstance(archs, (ArchGraph, str)) else ""
        raise GennasError(f"{who} takes a list of architectures, got {type(archs).__name__}{one}")
    return list(archs)


def as_evaluator(obj: Evaluator | Callable[[ArchGraph], SupportsFloat]) -> Evaluator:
    """An Evaluator from an evaluator or a plain callable (its scores of no unit: to declare them
    accuracies in %, wrap it as ``CallableEvaluator(fn, kind="train")`` yourself)."""
    if isinstance(obj, type) and callable(getattr(obj, "evaluate", None)):
        # the class passes the protocol's check and is callable: it failed every verification
        raise GennasError(f"expected an evaluator, got the class {obj.__name__}: pass an instance, "
                          f"{obj.__name__}(...)")
    if isinstance(obj, Evaluator):
        return obj
    if callable(obj):
        return CallableEvaluator(obj)
    raise GennasError(f"expected an Evaluator or a callable ArchGraph -> float, got {type(obj).__name__}")


def as_results(space: SearchSpace, arch: ArchLike | Sequence[Result],
               score: SupportsFloat | None) -> list[Result]:
    """What :meth:`Designer.tell` was given, as Results: ``(arch, score)`` (a non-finite score
    becomes a failed result), one Result, or a list of them."""
    if isinstance(arch, Result) and score is not None:  # the 5.0 of tell(Result(a, 41.0, ...), 5.0) was dropped
        raise GennasError(f"tell(result, {score!r}): a Result carries its score; give tell(result) or tell(arch, score)")
    if not isinstance(arch, (ArchGraph, str, Result, Sequence)) and isinstance(getattr(arch, "arch", None), ArchGraph):
        arch = arch.arch  # type: ignore[union-attr]  # a design generate returned (a Candidate)
    if isinstance(arch, Result):
        arch = [arch]
    elif isinstance(arch, (ArchGraph, str)):
        if score is None:  # a timed-out training: say how to record it
            raise GennasError("tell(arch, score) needs a score; to record a failed verification, "
                              "tell(arch, float('nan'))")
        try:
            value = as_number(score, "score must be a number, got")
        except (TypeError, ValueError):
            raise GennasError(f"score must be a number, got {score!r}; to record a failed verification, "
                              "tell(arch, float('nan'))") from None
        return [not_finite_failed(Result(space.parse(arch), value, "user"), f"tell({arch!s}, {value})")]
    try:
        results = list(arch)
    except TypeError:
        raise GennasError(f"tell() takes (arch, score) or a list of Result, got {type(arch).__name__}") from None
    if not all(isinstance(r, Result) for r in results):
        raise GennasError("tell() takes (arch, score) or a list of Result")
    checked: list[Result] = []
    for i, r in enumerate(results):  # every one checked before any is told: a designer told an mbv3
        try:                         # result among nb201 ones kept it and failed on every later call
            parsed = space.parse(r.arch)  # a string arch as tell(string, score) takes it
        except GennasError as exc:
            raise type(exc)(f"tell(): result {i} ({r.arch}): {exc}; nothing was told") from None
        if isinstance(r.score, bool) or not isinstance(r.score, numbers.Real):
            raise GennasError(f"tell(): result {i} ({r.arch}) has score {r.score!r}, not a number; nothing was told")
        r = r if parsed is r.arch else replace(r, arch=parsed)
        checked.append(not_finite_failed(r, f"tell(): result {i} ({parsed})"))
    return checked


def not_finite_failed(result: Result, who: str) -> Result:
    """``result`` told by hand, a score that is not finite recorded as a failed verification with a
    warning that ``who`` names: kept, as a search keeps a failure, but never silently (a
    ``Result(arch, nan, "train")`` was kept as nan without the warning ``tell(arch, nan)`` gave)."""
    if math.isfinite(result.score) or result.error is not None:  # a failure told as one: nothing to say
        return result
    warnings.warn(f"{who}: a score that is not finite ({result.score}) is recorded as a failed verification (it "
                  "spends nothing and is never designed)", GennasWarning, stacklevel=caller_stacklevel())
    return replace(result, error=f"score is {result.score}")
