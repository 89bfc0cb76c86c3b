"""A latency budget on a device: which architectures keep it, checked once per pool.

Where the device's latencies were *measured* (a bundled benchmark table that has the device),
the budget is judged by the measurements, exactly. Elsewhere (a device known only through
``adapt`` or ``gennas latency measure``) it is judged by the latency model's calibrated upper
bound at ``confidence`` (``model.upper_bound``, see :mod:`gennas.surrogates.latency_bound`): a
kept architecture is truly over the budget with probability at most ``1 - confidence``. A model
without ``upper_bound`` (a user's own :class:`LatencyModel`) is judged by its prediction. Where
the space has an exact additive cost (mbv3's FLOPs, :mod:`gennas.surrogates.cost_bound`), the
larger of the model's bound and the cost line's bound judges: guided generation finds
architectures the learned model under-rates, never ones whose FLOPs it under-counts.
"""

from __future__ import annotations

import functools

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import torch

from gennas.errors import ON_COMMAND_LINE, GennasError, GennasWarning, UnknownDevice, caller_stacklevel, unknown_device
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace
from gennas.surrogates.latency_bound import check_confidence, warn_outlying
from gennas.surrogates.protocols import LatencyModel

MeasuredFn = Callable[[Sequence[ArchGraph]], np.ndarray]
#: uniform random draws searched for architectures within a budget where the space is too large to enumerate
ADMISSIBLE_DRAWS = 2000
#: seeded random draws whose slowest judged latency stands for a sampled space's (:meth:`LatencyBudget.sampled_slowest_ms`)
SLOWEST_DRAWS = 200


@dataclass(frozen=True)
class LatencyBudget:
    """``max_latency_ms`` on ``device`` (a latency target such as ``pixel3``).

    Attributes:
        model: predicts latency in ms for a batch of architectures (used without measurements).
        device: the latency target's name.
        max_latency_ms: the budget in ms (> 0).
        measured: exact lookup ``archs -> ms`` where the device's latencies were measured.
        confidence: in (0, 1); without measurements, architectures are kept when the model's
            upper bound at this confidence is within the budget.
        cost: ``archs -> ms`` upper bound from the exact cost (None where the space has none).
        cost_soft: the same bound of relaxed architectures, ``(B, S, V) -> (B,)``, differentiable.
    """

    model: LatencyModel | None
    device: str
    max_latency_ms: float
    measured: MeasuredFn | None = None
    confidence: float = 0.95
    cost: MeasuredFn | None = None
    cost_soft: Callable[[torch.Tensor], torch.Tensor] | None = None
    #: architecture string -> ms measured where no benchmark table judges: this machine's timings of a
    #: device registered by `gennas latency measure`, a bundled table's sampled subnets (mbv3's)
    own: dict[str, float] = field(default_factory=dict)
    #: factor (>= 1) an :attr:`own` timing is judged at: a fresh timing is within it at ``confidence``
    #: (:mod:`gennas.surrogates.retiming`; 1.0 for a table's timings; ``inf``: the model's bound judges)
    own_margin: float = 1.0
    #: [(space, live cells, judged ms)] of the last enumerable space judged whole (:meth:`cells_judged`)
    _judged: list = field(default_factory=list, init=False, compare=False, repr=False)
    #: [(space, ms)] of the last sampled space whose slowest was sought (:meth:`sampled_slowest_ms`)
    _sampled: list = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "confidence", check_confidence(self.confidence))

    @classmethod
    def for_device(cls, space: SearchSpace, model: LatencyModel | None, device: str,
                   max_latency_ms: float, confidence: float = 0.95) -> LatencyBudget:
        """The budget judged by the bundled measurements of ``device`` when the space's benchmark
        has them, else by ``model``'s upper bound at ``confidence``."""
        from gennas.bench import sampled_timings
        from gennas.surrogates.cost_bound import cost_bounds
        from gennas.surrogates.measure import registered_devices, registered_record, timings_by_graph
        from gennas.surrogates.retiming import recorded_margin

        measured = _measured_lookup(space, device)
        if measured is None and model is None:
            raise GennasError(f"no latency model and no measurements for device {device!r}")
        if measured is not None:
            return cls(model, device, float(max_latency_ms), measured, confidence)
        confidence = check_confidence(confidence)
        samples = registered_devices(space.name).get(device, ())
        bounds = cost_bounds(space, device, confidence, samples)
        # the cells the user timed are judged by their timing (a reference cell measured at 0.98 ms
        # was bounded at 1.74 and a 1.2 ms budget refused as infeasible), and so are the subnets a
        # bundled table of sampled ones measured on the device (mbv3's: judged by the bound before)
        own = {**sampled_timings(space.name, device), **timings_by_graph(space, samples)}
        # this machine's timings are noisy draws a budget selects on (timed again, 8 of 9 designs at
        # the tightest budgets ran over): judged with the margin its second timings give
        margin = recorded_margin(registered_record(device, space.name), confidence) if samples else 1.0
        cost, cost_soft = bounds or (None, None)
        return cls(model, device, float(max_latency_ms), None, confidence, cost, cost_soft, own=own, own_margin=margin)

    def steering(self, latency: Callable[[torch.Tensor], torch.Tensor] | None
                 ) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """The soft latency generation is steered by: ``latency`` (the estimator's), or the larger of
        it and the cost bound where there is one (what the budget will judge)."""
        cost_soft = self.cost_soft
        if cost_soft is None or latency is None:
            return latency if cost_soft is None else cost_soft
        return lambda slot_probs: torch.maximum(latency(slot_probs).reshape(-1), cost_soft(slot_probs))

    @property
    def exact(self) -> bool:
        """True when the budget is checked against measurements, not predictions."""
        return self.measured is not None

    @property
    def bounded(self) -> bool:
        """True when what judges the budget off measurements is a bound (the model's
        ``upper_bound``, or the exact cost line), not a bare prediction (a user's model without one)."""
        return callable(getattr(self.model, "upper_bound", None)) or self.cost is not None

    def latency_ms(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """Latency in ms, float64 ``(len(archs),)``: one lookup or model call for the whole batch;
        a measurement where one was taken of the cell (:meth:`timed`)."""
        if not archs:
            return np.zeros(0)
        values = self.measured(list(archs)) if self.measured is not None else self.model.predict(list(archs), self.device)
        return self._own_where_timed(archs, np.asarray(values, dtype=np.float64).reshape(-1))

    def _own_where_timed(self, archs: Sequence[ArchGraph], values: np.ndarray, margin: float = 1.0) -> np.ndarray:
        """``values`` ``(len(archs),)`` with the measurement times ``margin`` where :attr:`own` has the
        cell (an infinite margin: ``values`` as they are)."""
        if not self.own or math.isinf(margin):
            return values
        return np.array([self.own[key] * margin if (key := a.to_string()) in self.own else v
                         for a, v in zip(archs, values)], dtype=np.float64)

    def timed(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """Whether each latency is a measurement, bool ``(len(archs),)``: every one on a device the
        tables measured; elsewhere the cells in :attr:`own` (a registered device's own timings, a
        bundled table's sampled subnets)."""
        if self.exact:
            return np.ones(len(archs), bool)
        return np.array([a.to_string() in self.own for a in archs], dtype=bool)

    def judged_ms(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """What the budget is judged by, ms float64 ``(len(archs),)``: the measurement where there
        is one, else the model's upper bound at ``confidence`` (its prediction if it has no bound)."""
        if not archs:
            return np.zeros(0)
        bound = getattr(self.model, "upper_bound", None)
        if self.measured is not None:
            return self.latency_ms(archs)
        values = self.latency_ms(archs) if bound is None else np.asarray(
            bound(list(archs), self.device, confidence=self.confidence), dtype=np.float64).reshape(-1)
        values = values if self.cost is None else np.maximum(values, self.cost(list(archs)))
        return self._own_where_timed(archs, values, self.own_margin)

    def infeasible_reason(self, space: SearchSpace, message: str) -> str:
        """``message`` of a failed generation, with the fastest architecture of the whole space
        (among those whose output can depend on the input) where it is small enough to check
        exhaustively; else what judged the samples (guided ones, then :data:`ADMISSIBLE_DRAWS`
        random ones: :meth:`admissible`)."""
        if not space.is_finite_enumerable():  # sampled: say what judged them
            fastest = min(self.own.items(), key=lambda item: item[1], default=None)
            margin = "" if fastest is None or self.own_margin == 1.0 else (
                " (judged by the model's bound: too few second timings for this confidence)"
                if math.isinf(self.own_margin) else
                f", judged at {fastest[1] * self.own_margin:.3g} ms with the margin of a second timing")
            # 20 ms on darts, timed at 33.4-76.9 ms: the model's figures there are extrapolations
            below = "" if fastest is None or fastest[1] <= self.max_latency_ms else (
                f": the budget lies below every architecture measured on {self.device}, so the latency model "
                "extrapolates to it")
            measured = "" if fastest is None else \
                f"; the fastest measured on {self.device}, {fastest[0]}, runs at {fastest[1]:.3g} ms{margin}{below}"
            # generate found none among the guided samples, then none among the random ones
            # (admissible): the message named only the first (864 against the README's 2,000)
            if message:
                message += f"; none among {ADMISSIBLE_DRAWS:,} random ones either"
            return message + ("" if self.exact else f" ({self._judged_by(space)})") + measured
        how = "measured" if self.exact else f"bounded (at {self.confidence:.0%} confidence)"
        every = list(space.enumerate())
        live = [a for a in every if not space.output_is_constant(a)]
        ms = self.judged_ms(live)  # what the budget is judged by: measured, or the upper bound
        first = int(np.argmin(ms))
        which = f"all {len(every):,}" if len(live) == len(every) else \
            f"the {len(live):,} of {len(every):,} whose output can depend on the input"
        return (f"no {space.name} architecture is {how} to run under {self.max_latency_ms:g} ms on "
                f"{self.device}: the fastest of {which}, {live[first].to_string()}, "
                f"is {how} at {ms[first]:.3g} ms")

    def _judged_by(self, space: SearchSpace) -> str:
        """What judged the sampled architectures of an infeasible budget and what admits more: the
        model's bound (:meth:`_admits_more`); under ``--time-here`` (:data:`~gennas.design.timed_here.
        GENERATING_TO_TIME`) the estimate the designs to time are generated under, which no option in
        effect already can lower (it advised --time-here and a lower --latency-confidence to a user
        who had given both)."""
        from gennas.design.timed_here import GENERATING_TO_TIME

        if not GENERATING_TO_TIME.get():
            return (f"judged by the latency model's {self.confidence:.0%} upper bound, not a measurement: an "
                    f"architecture bounded over the budget can run under it; {self._admits_more(space)}")
        from gennas.surrogates.measure import registered_record
        from gennas.surrogates.measure_commands import measure_command

        record = registered_record(self.device, space.name) or {}
        slots = record.get("model") == "slots"
        cells = 2 * len(record.get("samples", ())) if slots else 60
        fitted = (f"fits its model on {cells} random architectures timed here instead of "
                  f"{len(record.get('samples', ()))}") if slots else "describes it by random architectures timed here"
        return (f"with --time-here, the designs to time are generated under the latency model's estimate (its "
                f"{self.confidence:.0%} bound): an architecture estimated over the budget is never timed, though it "
                f"can run under it; a looser budget admits more, and `{measure_command(self.device, space, {**record, 'cells': cells})}` "
                f"{fitted}")

    def _admits_more(self, space: SearchSpace) -> str:
        """What admits more designs where the model's bound judged none within the budget: on the
        command line its options, and ``--time-here`` for a device measured on this machine (it said
        "none ... runs under 26 ms" on mbv3, where --time-here kept designs timed at 21-22 ms)."""
        if not ON_COMMAND_LINE.get():
            return "a looser budget or a lower latency_confidence admits more"
        from gennas.design.timed_here import can_time_here

        here = (", and --time-here keeps designs by their timing on this machine (it times those the model's "
                "estimate puts within the budget)") if can_time_here(self.device, space) else ""
        return f"a looser budget or a lower --latency-confidence admits more{here}"

    def admissible(self, space: SearchSpace, n: int, seed: int | None = None, draws: int = ADMISSIBLE_DRAWS
                   ) -> list[ArchGraph]:
        """Architectures within the budget whose output can depend on the input, found without a
        generator (for when its samples hold fewer than ``n``): every such one of a space small
        enough to enumerate, the first within it per ``canonical_hash`` (exact: none is missed); else
        the measured ones within it (:meth:`timed_within`), then at most ``n`` of ``draws`` uniform
        random samples."""
        if space.is_finite_enumerable():
            candidates, ms = self.cells_judged(space)
            distinct: dict[str, ArchGraph] = {}
            for arch in (a for a, ok in zip(candidates, ms <= self.max_latency_ms) if ok):
                # after the budget: equivalent cells were measured at different latencies
                distinct.setdefault(arch.canonical_hash(), arch)
            return list(distinct.values())
        rng, found = np.random.default_rng(seed), []
        for _ in range(max(1, draws // 100)):  # one latency call per 100
            batch = [a for a in (space.sample(rng) for _ in range(100)) if not space.output_is_constant(a)]
            found += [a for a, ok in zip(batch, self.within(batch)) if ok]
            if len(found) >= n:
                break
        return self.timed_within(space) + found[:n]

    def cells_judged(self, space: SearchSpace) -> tuple[list[ArchGraph], np.ndarray]:
        """Every architecture of the enumerable ``space`` whose output can depend on the input, and
        what the budget judges each by (:meth:`judged_ms`, ms ``(n,)``): computed once per space (the
        95 % bounds of nb201's 15,284 took 1.2 s of CPU on one thread for a device adapted from its 10
        references, a one-off timing of the thirty-ninth session), for :meth:`admissible` and
        :meth:`slowest_ms` alike."""
        if not self._judged or self._judged[0][0] is not space:
            cells = [a for a in space.enumerate() if not space.output_is_constant(a)]
            self._judged[:] = [(space, cells, self.judged_ms(cells))]
        return self._judged[0][1], self._judged[0][2]

    def slowest_ms(self, space: SearchSpace) -> float | None:
        """The largest latency the budget judges any architecture of ``space`` by (whose output can
        depend on the input; measured, or bounded at :attr:`confidence`), in ms: where it is within
        the budget, the budget keeps every cell. None for a space too large to list."""
        if not space.is_finite_enumerable():
            return None
        return float(np.max(self.cells_judged(space)[1]))

    def sampled_slowest_ms(self, space: SearchSpace, draws: int = SLOWEST_DRAWS) -> float:
        """The largest latency the budget judges among ``draws`` seeded random architectures of
        ``space`` (whose output can depend on the input) and those measured on the device
        (:attr:`own`), in ms: what a space too large to list is known to reach (a budget far above
        it is likely in another unit: darts at 54000 ms, timed at 33-77 ms, passed silently).
        Computed once per space."""
        if not self._sampled or self._sampled[0][0] is not space:
            rng = np.random.default_rng(0)
            archs = [a for a in (space.sample(rng) for _ in range(draws)) if not space.output_is_constant(a)]
            judged = self.judged_ms(archs) if archs else np.zeros(0)
            self._sampled[:] = [(space, float(max([*judged, *self.own.values()], default=0.0)))]
        return self._sampled[0][1]

    def timed_within(self, space: SearchSpace) -> list[ArchGraph]:
        """The architectures of :attr:`own` (measured where no benchmark table judges) within the
        budget whose output can depend on the input, fastest first. On mbv3's bundled devices the
        bound is about 1.5x the measurement (median over the table's 2,000 subnets, a throwaway check
        of 2026-12-04), so a budget of 8 ms on cpu_ort_1t was refused as infeasible while the table
        has subnets measured at 6.1 ms."""
        kept = sorted((ms, arch) for arch, ms in self.own.items() if ms * self.own_margin <= self.max_latency_ms)
        archs = [space.parse(arch) for _, arch in kept]
        return [a for a in archs if not space.output_is_constant(a)]

    def within(self, archs: Sequence[ArchGraph]) -> np.ndarray:
        """Bool ``(len(archs),)``: True where the architecture keeps the budget (see :meth:`judged_ms`)."""
        return self.judged_ms(archs) <= self.max_latency_ms


def _measured_lookup(space: SearchSpace, device: str) -> MeasuredFn | None:
    """Table lookup of ``device``'s measured latencies in the space's bundled benchmark, if any."""
    if space.benchmark is None:
        return None
    from gennas.bench import load_benchmark

    bench = load_benchmark(space.benchmark)
    if device not in bench.devices:
        return None
    return functools.partial(bench.latency_of, device=device)  # not a lambda: a designer pickles


@overload
def latency_models(space: SearchSpace, device: str, max_latency_ms: float, confidence: float = 0.95,
                   estimator: LatencyModel | None = None) -> tuple[LatencyModel | None, LatencyBudget]: ...
@overload
def latency_models(space: SearchSpace, device: str | None, max_latency_ms: float | None, confidence: float = 0.95,
                   estimator: LatencyModel | None = None) -> tuple[LatencyModel | None, LatencyBudget | None]: ...
def latency_models(space: SearchSpace, device: str | None, max_latency_ms: float | None,
                   confidence: float = 0.95, estimator: LatencyModel | None = None
                   ) -> tuple[LatencyModel | None, LatencyBudget | None]:
    """The latency model for ``device`` (``estimator``, else the space's shipped estimator with the
    devices registered by ``gennas latency measure``) and the budget judged on it (None without
    ``max_latency_ms``); no model without a device. :class:`UnknownDevice` names the known ones."""
    if device is None:
        return estimator, None
    loaded = estimator is None
    if estimator is None:
        from gennas.surrogates.latency import load_latency_estimator

        estimator = load_latency_estimator(space)
    known = getattr(estimator, "devices", None)  # a model without the attribute is asked on use
    if known is not None and device not in known:
        from gennas.surrogates.measure import broken_device_note

        raise UnknownDevice(unknown_device(device, known, broken_device_note(device, space.name) or (
            unregistered_advice(space, device) if loaded else "")))
    warn_outlying(estimator, device)  # kept while every registered device loaded: said for this one
    budget = None if max_latency_ms is None else LatencyBudget.for_device(space, estimator, device, max_latency_ms,
                                                                         confidence)
    if budget is not None and budget.exact and not loaded:  # a user's model judged nothing, unsaid (user walk 50)
        warnings.warn(f"the budget on {device!r} is judged by the {space.name} table's measurements of it (exact); "
                      f"estimator= is used for the guidance only", GennasWarning, stacklevel=caller_stacklevel())
    if budget is not None and not budget.exact and not budget.bounded:  # shown as a "bound" (user walk 51)
        warnings.warn(f"the budget on {device!r} is judged by the estimator's prediction: "
                      f"{type(estimator).__name__} has no upper_bound(archs, device, confidence), so no confidence "
                      "is kept and designs may run over the budget", UncalibratedBound, stacklevel=caller_stacklevel())
    from gennas.design.bound_check import BoundCheck, stored_check
    from gennas.surrogates.measure import registered_record
    from gennas.surrogates.measure_commands import measure_command
    from gennas.surrogates.retiming import DRIFT_CONFIDENCE, recorded_margin

    record = None if budget is None or budget.exact else registered_record(device, space.name)
    again = measure_command(device, space, record)  # with the settings it was registered with (its clock)
    if record is not None and record.get("noisy"):
        clock = "" if record.get("clock") == "cpu" else " (or with --clock cpu)"  # not advised where it was used
        warnings.warn(f"device {device!r} was registered from timings that looked noisy (--accept-noisy): its "
                      "latency bound assumes timings as steady as the bundled devices', so designs may run over "
                      f"the budget; register it again on a quiet machine{clock} ({again})",
                      UncalibratedBound, stacklevel=caller_stacklevel())
    rechecks = (record or {}).get("rechecks") or [{}]
    drift = rechecks[-1].get("median_ratio")
    noise = recorded_margin(record, DRIFT_CONFIDENCE) if record is not None else math.inf  # as the recheck judged
    if budget is not None and isinstance(drift, (int, float)) and drift > noise:
        warnings.warn(f"device {device!r} ran {drift:.2f}x as slow as at its registration when last rechecked "
                      f"(`gennas latency recheck`; its timing margin is {noise:.3g}): designs judged by "
                      f"the registration may run over the budget; register it again ({again})", UncalibratedBound,
                      stacklevel=caller_stacklevel())
    checked = stored_check(record, space)  # a record is read only for a budget
    if checked is not None and budget is not None and record is not None:  # (a check is a record's)
        check = BoundCheck.of(budget, *checked)
        if not check.holds:
            # a device described by the estimator's references can be described by random cells instead
            instead = "" if record.get("model") == "slots" else (
                f"; `{measure_command(device, space, {**record, 'cells': 60})}` describes it "
                "by random architectures timed on it instead")
            warnings.warn(f"device {device!r}: {check.describe()} when it was registered (`gennas latency measure "
                          "--check`): this machine ranks architectures unlike the devices the bound was calibrated "
                          f"on, so designs may run over the budget{instead}", MissedCheck,
                          stacklevel=caller_stacklevel())
    if budget is not None and not budget.exact and device in getattr(estimator, "partial_devices", ()):
        warnings.warn(f"device {device!r} was adapted from samples that miss some of the estimator's reference "
                      "architectures: its latency bound is not calibrated (held out, from the first 3 or 5 of "
                      "them its 95 % bound covered 61 % of the worst device's cells and admitted almost none under "
                      "the 25th-percentile latency: python experiments/partial_adaptation.py); adapt it from all "
                      "of estimator.reference_archs() for a calibrated bound",
                      UncalibratedBound, stacklevel=caller_stacklevel())
    return estimator, budget


def unregistered_advice(space: SearchSpace, device: str) -> str:
    """How to make ``device`` known where the space's estimator was loaded without it: commands on
    the command line (a Python estimator is no option there) and for a user's YAML space (it has
    no pretrained estimator to ``.adapt()``), else the ``estimator=`` argument in Python."""
    from gennas.surrogates.measure_commands import measure_command, register_command

    if ON_COMMAND_LINE.get() or space.source is not None:
        return (f" (`{measure_command(device, space, force=False)}` times this machine as {device!r}; "
                f"`{register_command('FILE', space, device, False)}` registers timings taken elsewhere)")
    return (" (a device adapted in this process with .adapt(): pass that estimator, estimator=...; "
            "`gennas latency measure` registers one for every process)")


class UncalibratedBound(GennasWarning):
    """A latency budget judged by a bound that no held-out test calibrated (a device adapted
    without all the reference architectures)."""


class MissedCheck(UncalibratedBound):
    """The bound covered significantly fewer of the architectures timed at the device's
    registration (``--check``) than its confidence (``--time-here`` says it its own way: there
    the designs' timings judge the budget, not the bound)."""


def check_feasible(budget: LatencyBudget, space: SearchSpace) -> None:
    """Before a search spends anything: :class:`~gennas.generators.guidance.InfeasibleBudget` naming
    the fastest architecture where an enumerable space has none whose output can depend on the
    input within ``budget`` (a space too large to list is not checked: sampling decides there)."""
    from gennas.generators.guidance import InfeasibleBudget

    if space.is_finite_enumerable() and not budget.admissible(space, 1):
        raise InfeasibleBudget(budget.infeasible_reason(space, ""))


class FewerDesigns(GennasWarning):
    """``generate(n)`` returned fewer than ``n`` designs (the budget keeps fewer, or fewer distinct
    ones were found)."""


def fewer_designs(found: int, asked: int, space: SearchSpace, budget: LatencyBudget | None) -> str:
    """Why ``generate`` returned ``found`` of the ``asked`` designs, for a :class:`FewerDesigns` warning."""
    if budget is not None and space.is_finite_enumerable():
        how = "measured" if budget.exact else f"bounded (at {budget.confidence:.0%} confidence)"
        return (f"only {found} of the {asked} designs asked for: that many {space.name} architectures computing "
                f"different functions whose output can depend on the input are {how} to run under {budget.max_latency_ms:g} ms on "
                f"{budget.device} (every one the space has was checked)")
    if space.is_finite_enumerable():  # without a budget every cell was ranked (Designer.generate)
        return (f"only {found} of the {asked} designs asked for: {space.name} has {found} architectures computing "
                "different functions whose output can depend on the input (every one the space has was ranked)")
    where, searched = ("", "") if budget is None else (f" under {budget.max_latency_ms:g} ms on {budget.device}",
                                                       " and random search")
    return (f"only {found} of the {asked} designs asked for: the sampled pool{searched} found no more "
            f"distinct {space.name} architectures{where}; ask again with another seed for others")
