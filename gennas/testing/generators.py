"""The contract every architecture generator passes (:class:`~gennas.surrogates.protocols.Generator`:
``space``, ``kind`` and ``sample(n, seed=, guidance=)``).

    from gennas.testing.generators import check_generator

    check_generator(load_generator("nb201", "vae"), latency=lambda archs: bench.latency_of(archs, "pixel3"))

:func:`check_generator` runs every check below; each raises AssertionError naming the broken
property, and each can be called on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gennas.errors import GennasError
from gennas.generators.guidance import Guidance, InfeasibleBudget, LinearSlotModel
from gennas.graph import ArchGraph
from gennas.surrogates.protocols import Generator
from gennas.testing import check_new_valid

#: ``archs -> (len(archs),)`` latency in ms
HardLatency = Callable[[Sequence[ArchGraph]], np.ndarray]

#: counts ``sample`` must refuse with a GennasError naming them
BAD_COUNTS = (0, -3, 2.5, True)


def check_generator(generator: Generator, n: int = 20, seed: int = 3, latency: HardLatency | None = None) -> None:
    """Run the whole generator contract.

    Args:
        generator: the generator under test.
        n: architectures per sample.
        seed: the seed sampled with.
        latency: a latency (ms) of architectures of its space; with it, guided sampling under a
            latency budget is checked too.
    """
    check_protocol(generator)
    check_samples(generator, n, seed)
    check_bad_counts(generator)
    if latency is not None:
        check_latency_budget(generator, latency, n, seed)


def check_protocol(generator: object) -> None:
    """It is a :class:`Generator`: a ``space``, a ``kind`` name and ``sample``."""
    if not isinstance(generator, Generator):
        raise AssertionError(f"{type(generator).__name__} is not a Generator: it needs space, kind and sample")
    if not isinstance(generator.kind, str) or not generator.kind:
        raise AssertionError(f"{type(generator).__name__} has no kind (got {generator.kind!r})")


def check_samples(generator: Generator, n: int = 20, seed: int = 3) -> list[ArchGraph]:
    """``sample(n, seed)`` gives ``n`` distinct (by canonical hash) valid architectures of its space;
    the same seed gives the same samples, another seed others."""
    what = f"{_name(generator)}.sample({n}, seed={seed})"
    archs = generator.sample(n, seed=seed)
    if not isinstance(archs, list) or len(archs) != n:
        raise AssertionError(f"{what} returned {_count(archs)}, not a list of {n}")
    check_new_valid(archs, generator.space, what)
    again = generator.sample(n, seed=seed)
    if again != archs:
        raise AssertionError(f"{what} is not reproducible: the same seed gave other samples")
    if generator.sample(n, seed=seed + 1) == archs:
        raise AssertionError(f"{what}: seed {seed + 1} gave the very same samples; is the seed ignored?")
    return archs


def check_bad_counts(generator: Generator, counts: Sequence[object] = BAD_COUNTS) -> None:
    """A count that is not a positive integer raises a GennasError that names it."""
    for n in counts:
        try:
            generator.sample(n, seed=0)  # type: ignore[arg-type]
        except GennasError as exc:
            if repr(n) not in str(exc):
                raise AssertionError(f"{_name(generator)}.sample({n!r}) raised {exc!r}, which does not name "
                                     f"{n!r}") from exc
            continue
        except Exception as exc:  # anything else is the bug this check is for
            raise AssertionError(f"{_name(generator)}.sample({n!r}) raised {type(exc).__name__}, not a "
                                 f"GennasError: {exc}") from exc
        raise AssertionError(f"{_name(generator)}.sample({n!r}) raised no GennasError")


def check_latency_budget(generator: Generator, latency: HardLatency, n: int = 20, seed: int = 3,
                         quantile: float = 0.5) -> list[ArchGraph]:
    """Guided by a :class:`Guidance` latency budget (the ``quantile`` of its unguided samples'
    latency; a soft :class:`LinearSlotModel` latency fitted on them plus ``latency`` as the hard
    filter), ``sample`` returns distinct valid architectures, at least one, all within the budget;
    a budget no architecture meets raises :class:`InfeasibleBudget`."""
    space = generator.space
    plain = generator.sample(4 * n, seed=seed + 100)
    ms = np.asarray(latency(plain), dtype=np.float64)
    budget = float(np.quantile(ms, quantile))
    soft = LinearSlotModel.fit(space, plain, ms)
    guidance = Guidance(latency=soft, latency_hard=latency, max_latency_ms=budget, device="contract")
    what = f"{_name(generator)}.sample({n}, seed={seed}) under a {budget:.4g} ms budget"
    archs = generator.sample(n, seed=seed, guidance=guidance)
    if not isinstance(archs, list) or not 0 < len(archs) <= n:
        raise AssertionError(f"{what} returned {_count(archs)}, not a list of 1 to {n}")
    check_new_valid(archs, space, what)
    over = [(a.to_string(), float(t)) for a, t in zip(archs, np.asarray(latency(archs))) if not t <= budget]
    if over:
        raise AssertionError(f"{what} returned {len(over)} architectures over it, e.g. {over[0]}")
    never = Guidance(latency_hard=lambda a: np.full(len(a), 2.0), max_latency_ms=1.0, device="contract")
    try:
        found = generator.sample(2, seed=seed, guidance=never)
    except InfeasibleBudget:
        return archs
    raise AssertionError(f"{_name(generator)}.sample under a budget nothing meets returned {_count(found)} "
                         "instead of raising InfeasibleBudget")


def _count(archs: object) -> str:
    return f"{len(archs)} {type(archs).__name__}" if isinstance(archs, Sequence) else type(archs).__name__


def _name(generator: object) -> str:
    space = getattr(getattr(generator, "space", None), "name", "?")
    return f"{type(generator).__name__}({getattr(generator, 'kind', '?')}, {space})"


__all__ = ["BAD_COUNTS", "HardLatency", "check_bad_counts", "check_generator", "check_latency_budget",
           "check_protocol", "check_samples"]
