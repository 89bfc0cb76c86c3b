"""A :class:`~gennas.surrogates.calibration.Predictions` as a line of text (its ``repr``).

``designer.predictions(archs)`` showed its arrays in full in a notebook: this says
how many, how many state a value, the means' range, and the intervals claimed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gennas.display import cell


def described(predictions: Any, coverage: float) -> str:
    """``predictions`` (float64 ``(n,)`` arrays ``raw``, ``mean``, ``low``, ``beyond``, ``below``;
    ``mean``/``low`` None or NaN where nothing is stated) in one line; ``coverage``: what an
    interval claims to hold."""
    n = len(predictions.raw)
    text = f"Predictions: {n} architecture{'' if n == 1 else 's'}"
    if predictions.mean is None:
        return text + ", a rank only (no value stated; .score ranks them)"
    stated = np.isfinite(predictions.mean)
    text += f", {int(stated.sum())} stated"
    if stated.any():
        text += f", mean {cell(float(predictions.mean[stated].min()))} to {cell(float(predictions.mean[stated].max()))}"
    if predictions.low is None:
        text += ", no interval"
    else:
        text += f", {coverage * 100:.0f} % intervals claimed on {int(np.isfinite(predictions.low).sum())} (.low, .high)"
    for flags, where in ((predictions.beyond, "beyond"), (predictions.below, "below")):
        if flags is not None and flags.any():
            text += f", {int(flags.sum())} {where} the calibration"
    return text + "; arrays: .mean .std .low .high .score"
