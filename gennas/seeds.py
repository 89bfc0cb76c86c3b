"""Seeds: the one check of a seed given to the designer, a search or a generator.

A seed goes to numpy, torch and optuna's samplers; a wrong one (a string, a negative number)
would fail deep inside one of them, so it is refused where it enters, naming the option.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

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
    return int(cast(int, np.random.SeedSequence().entropy) % (MAX_SEED + 1)) if seed is None else seed  # drawn: an int


def warn_unseeded(seed: int | None, storage: Any, study: str | None, resume: bool) -> None:
    """One line where a stored search is saved or resumed unseeded (``Designer(seed=None)``, Python's
    default; the CLI's is 0): study ``...-seedNone`` was resumed without a word."""
    if seed is None and storage is not None:
        warnings.warn(f"study {study!r} is {'resumed' if resume else 'stored'} unseeded (seed=None): its designs "
                      "cannot be reproduced; Designer(..., seed=0) makes them so", UnseededStudy,
                      stacklevel=caller_stacklevel())


F = TypeVar("F", bound=Callable[..., Any])


#: held by every seeded torch section (:func:`seeded_torch`): torch has one random generator per
#: process, and two seeded synflow searches in two threads drew from each other's streams (their
#: scores differed from the same searches run one after the other: user walk 44)
SEEDED_TORCH = threading.RLock()


@contextmanager
def seeded_torch(seed: int | None = None, devices: Sequence[int] = ()) -> Iterator[None]:
    """torch's global generator seeded with ``seed`` inside the block (None: as it was), and the
    caller's stream where it was after it (``torch.random.fork_rng`` over the CPU and the CUDA
    ``devices``; without any, only the CPU generator is seeded). Sections in several threads of a process take turns, so each draws only its own
    numbers; a thread of the caller's drawing from torch's generator meanwhile is not held back."""
    import torch  # here: reading this module (a seed check) does not load torch

    with SEEDED_TORCH, torch.random.fork_rng(devices=list(devices)):
        if seed is not None and devices:
            torch.manual_seed(seed)
        elif seed is not None:  # not torch.manual_seed: it seeds CUDA's generators too, not restored here
            torch.random.default_generator.manual_seed(seed)
        yield


def keeps_callers_torch_stream(fn: F) -> F:
    """``fn`` run in :func:`seeded_torch`: the seed it sets for its own draws leaves the caller's
    torch stream where it was. ``LatencyEstimator.fit(seed=5)`` and the encoder's pretraining
    reset it: a seeded notebook's next ``torch.rand`` depended on gennas' seed."""
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with seeded_torch():
            return fn(*args, **kwargs)
    return run  # type: ignore[return-value]
