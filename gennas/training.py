"""Training utilities shared by the evaluators, the surrogates, the latency measurer and the
experiments: torch-device choice, ridge regression, BN recalibration, a short classifier loop.

"device" in gennas means a latency target (``pixel3``); the torch device a model runs on is
called ``torch_device`` everywhere.
"""

from __future__ import annotations

from typing import Any

import torch

from gennas.errors import GennasError


def resolve_torch_device(torch_device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; anything else must name a usable torch device."""
    if torch_device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(torch_device)
    except (RuntimeError, TypeError) as exc:
        raise GennasError(f"not a torch device: {torch_device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GennasError(f"torch_device {torch_device!r} requested but CUDA is not available")
    return dev


def ridge_solve(x: torch.Tensor, y: torch.Tensor, lam: float | torch.Tensor,
                prior: torch.Tensor | None = None) -> torch.Tensor:
    """``argmin_w |x w - y|^2 + |sqrt(lam) (w - prior)|^2``, solved in float64.

    Args:
        x: design matrix ``(n, d)`` (append a column of ones yourself for an intercept).
        y: targets ``(n,)`` or ``(n, k)``.
        lam: ridge strength, a number or a ``(d,)`` tensor (0 on an entry leaves it unshrunk).
        prior: what ``w`` is pulled towards, shaped like ``w`` (default 0).
    Returns:
        ``w`` ``(d,)`` or ``(d, k)``, float64.
    """
    x = x.double()
    y = torch.as_tensor(y).double()
    d = x.shape[1]
    shrink = torch.as_tensor(lam, dtype=torch.float64)
    penalty = torch.diag(shrink.expand(d)) if shrink.dim() <= 1 else shrink
    b = x.T @ y
    if prior is not None:
        b = b + penalty @ prior.double()
    return torch.linalg.solve(x.T @ x + penalty, b)


def count_parameters(model: Any) -> int:
    """Trainable parameters of a torch module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
