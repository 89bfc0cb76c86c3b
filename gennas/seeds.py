"""Seeds: the one check of a seed given to the designer, a search or a generator.

A seed goes to numpy, torch and optuna's samplers; a wrong one (a string, a negative number)
would fail deep inside one of them, so it is refused where it enters, naming the option.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from gennas.errors import GennasError, GennasWarning, caller_stacklevel

#: the seeds valid for numpy, torch and optuna's samplers alike
MAX_SEED = 2**32 - 1


def check_seed(seed: Any, option: str = "seed") -> int | None:
    """``seed`` as an int if it is None or an integer in ``0..MAX_SEED``, else a
    :class:`GennasError` naming ``option``."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed <= MAX_SEED):
        raise GennasError(f"{option} must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return None if seed is None else int(seed)


class UnseededStudy(GennasWarning):
    """A stored search runs without a seed: it cannot be run again the same way, nor continued as
    an uninterrupted run would have gone."""


def seed_or_drawn(seed: int | None) -> int:
    """``seed``, or for an unseeded run (None) one drawn from the operating system's entropy: what
    needs an int seed (an untrained predictor's weights) then differs from run to run, as the rest
    of an unseeded run does, instead of always being seed 0's."""
    return int(np.random.SeedSequence().entropy % (MAX_SEED + 1)) if seed is None else seed


def warn_unseeded(seed: int | None, storage: Any, study: str | None, resume: bool) -> None:
    """One line where a stored search is saved or resumed unseeded (``Designer(seed=None)``, Python's
    default; the CLI's is 0): study ``...-seedNone`` was resumed without a word."""
    if seed is None and storage is not None:
        warnings.warn(f"study {study!r} is {'resumed' if resume else 'stored'} unseeded (seed=None): its designs "
                      "cannot be reproduced; Designer(..., seed=0) makes them so", UnseededStudy,
                      stacklevel=caller_stacklevel())


F = TypeVar("F", bound=Callable[..., Any])


def keeps_callers_torch_stream(fn: F) -> F:
    """``fn`` run under ``torch.random.fork_rng`` (CPU): the seed it sets for its own draws leaves
    the caller's torch stream where it was. ``LatencyEstimator.fit(seed=5)`` and the encoder's
    pretraining reset it: a seeded notebook's next ``torch.rand`` depended on gennas' seed."""
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        import torch  # here: reading this module (a seed check) does not load torch

        with torch.random.fork_rng(devices=[]):
            return fn(*args, **kwargs)
    return run  # type: ignore[return-value]
