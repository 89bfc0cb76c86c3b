"""A statement that knows its ceiling: no architecture scores above ``ceiling``.

Where the truth has a known upper bound (the best accuracy a bundled table measured within a
measured latency budget), a statement whose distribution reaches past it must not state a mean
as if it did not. Clipping the mean (``min(mean, ceiling)``) left the designs stated near the
bound at the bound itself, above the truth of all but the best cells: under pixel3's
10th-percentile budget the 20 designs read 90.67-90.83 % (90.83 the best there) for a mean truth
of 90.00 (``python experiments/budgets.py --bundled-only --quick --designs``, before this module).

The statement ``(mean, low, high)`` is read as the two-piece normal with median ``mean`` whose
central :data:`~gennas.surrogates.calibration.COVERAGE` interval is ``[low, high]`` (each side its
own sd). Two readings of the ceiling:

* :func:`censored_above`: a design the statement puts above the ceiling is one of the cells *at*
  it (the best cells within a budget are what a designer returns first): ``min(truth, ceiling)``,
  whose mean is below the clipped one and whose interval is the clipped interval;
* not adopted: the truth conditioned on lying below the ceiling (the mass above it removed, not
  moved to it), a lower mean and a narrower interval that misses the designs that *are* the best
  cells (development seeds 5-9, ``python experiments/budgets.py --bundled-only --seed 5 --seeds 5``:
  top-20 coverage at the 50th percentile 72 -> 62 %, where censoring keeps 72 %).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from gennas.surrogates.calibration import COVERAGE

#: below this probability of lying under the ceiling the statement is the ceiling itself
NEGLIGIBLE = 1e-12
#: sds under this (score units) are a point statement
TINY_SD = 1e-9


def _pieces(mean: np.ndarray, low: np.ndarray, high: np.ndarray,
            coverage: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The median and the two pieces' sds ``(n,)`` of the statements ``mean`` / ``[low, high]``."""
    m, lo, hi = (np.asarray(v, dtype=np.float64) for v in (mean, low, high))
    z = norm.ppf(0.5 + coverage / 2)
    return m, np.maximum((m - lo) / z, TINY_SD), np.maximum((hi - m) / z, TINY_SD)


def _below(m: np.ndarray, sd_low: np.ndarray, sd_high: np.ndarray,
           ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    """``P(x <= ceiling)`` and ``E[x | x <= ceiling]`` ``(n,)`` of the two-piece normals (closed
    forms of the normal's truncated moments; the ceiling where next to no mass lies below it)."""
    cuts_lower = ceiling <= m  # the ceiling lies in the lower piece: the upper one is gone
    cut = (ceiling - m) / np.where(cuts_lower, sd_low, sd_high)  # in sds of the piece it cuts
    mass = norm.cdf(cut)
    # E[x; x <= ceiling] = the lower piece up to min(ceiling, m) + the upper piece from m to the ceiling
    a = np.where(cuts_lower, cut, 0.0)
    lower_piece = m * norm.cdf(a) - sd_low * norm.pdf(a)
    upper_piece = np.where(cuts_lower, 0.0, m * (mass - 0.5) + sd_high * (norm.pdf(0.0) - norm.pdf(cut)))
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = np.where(mass < NEGLIGIBLE, ceiling, (lower_piece + upper_piece) / mass)
    return mass, np.minimum(conditional, ceiling)


def censored_above(mean: np.ndarray, low: np.ndarray, high: np.ndarray, ceiling: float,
                   coverage: float = COVERAGE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and central ``coverage`` interval ``(mean, low, high)``, float64 ``(n,)`` each, of
    ``min(x, ceiling)`` for the two-piece normal statements ``mean`` / ``[low, high]`` ``(n,)``."""
    m, sd_low, sd_high = _pieces(mean, low, high, coverage)
    mass, conditional = _below(m, sd_low, sd_high, ceiling)
    censored = mass * conditional + (1 - mass) * ceiling
    return (censored, np.minimum(np.asarray(low, dtype=np.float64), ceiling),
            np.minimum(np.asarray(high, dtype=np.float64), ceiling))
