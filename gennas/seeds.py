"""Seeds: the one check of a seed given to the designer, a search or a generator.

A seed goes to numpy, torch and optuna's samplers; a wrong one (a string, a negative number)
would fail deep inside one of them, so it is refused where it enters, naming the option.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gennas.errors import GennasError

#: the seeds valid for numpy, torch and optuna's samplers alike
MAX_SEED = 2**32 - 1


def check_seed(seed: Any, option: str = "seed") -> int | None:
    """``seed`` as an int if it is None or an integer in ``0..MAX_SEED``, else a
    :class:`GennasError` naming ``option``."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed <= MAX_SEED):
        raise GennasError(f"{option} must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return None if seed is None else int(seed)
