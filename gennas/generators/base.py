"""Shared machinery of the slot generators: validity masks, decoding, sampling loop, checkpoints.

Generators work on the slot representation of a space: an architecture is a vector of
``num_slots`` op indices into ``space.slot_vocab`` (``-1`` marks a slot not decided yet). Every
sample is valid by construction (:func:`allowed_ops` masks ops that no valid completion could
use) and, as a safety net, passed through ``space.project`` before ``space.from_choices``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from gennas.checkpoint import Checkpoint, read_manifest, save_checkpoint
from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, resolve_space

if TYPE_CHECKING:
    from gennas.generators.guidance import Guidance

MASKED = -1  # slot value meaning "not decided yet"
NEG = -1e9  # logit of a forbidden op (finite, so softmax of an all-forbidden row stays defined)


def allowed_ops(space: SearchSpace, x: torch.Tensor) -> torch.Tensor:
    """Ops each slot may still take, bool ``(B, num_slots, len(slot_vocab))`` for ``x (B, num_slots)``
    (op index per slot or ``MASKED``): the space's own rule, :meth:`SearchSpace.allowed_ops`."""
    return space.allowed_ops(x)


def masked_logits(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """``logits`` with forbidden ops set to a large negative value (same shape)."""
    return logits.masked_fill(~allowed, NEG)


def fill_slots(space: SearchSpace, x: torch.Tensor, logits: torch.Tensor, positions: torch.Tensor | None,
               generator: torch.Generator | None, greedy: bool = False) -> torch.Tensor:
    """Decide slots one position at a time, re-checking validity after each.

    Args:
        x: ``(B, S)`` current slots (``MASKED`` where undecided); not modified.
        logits: ``(B, S, V)`` unnormalised op scores.
        positions: ``(B, K)`` slot index to decide at each of K sub-steps, or None for every
            masked slot left to right.
        greedy: argmax instead of sampling.
    Returns:
        ``(B, S)`` with those slots decided.
    """
    x = x.clone()
    b, s = x.shape
    rows = torch.arange(b)
    if positions is None:
        positions = torch.arange(s).expand(b, s)
    for k in range(positions.shape[1]):
        pos = positions[:, k]
        todo = x[rows, pos] == MASKED
        if not bool(todo.any()):
            continue
        scores = masked_logits(logits, allowed_ops(space, x))[rows, pos]  # (B, V)
        if greedy:
            choice = scores.argmax(-1)
        else:
            choice = torch.multinomial(torch.softmax(scores, -1), 1, generator=generator).squeeze(-1)
        x[rows, pos] = torch.where(todo, choice, x[rows, pos])
    return x


def one_hot_slots(x: torch.Tensor, vocab: int) -> torch.Tensor:
    """``(B, S)`` indices (``MASKED`` allowed) -> float ``(B, S, V)`` one-hot (zero rows where masked)."""
    return nn.functional.one_hot(x.clamp_min(0), vocab).float() * (x >= 0).unsqueeze(-1)


def soft_slots(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Slot distributions ``(B, S, V)``: one-hot where decided, softmax of ``logits`` elsewhere."""
    probs = torch.softmax(logits, -1)
    hard = one_hot_slots(x, logits.shape[-1])
    return torch.where((x >= 0).unsqueeze(-1), hard, probs)


def guidance_gradient(guidance: Guidance, probs: torch.Tensor) -> torch.Tensor:
    """Gradient of the guidance objective w.r.t. the slot distributions, ``(B, S, V)``.

    First-order (Taylor) classifier guidance for categorical variables: choosing op ``v`` at
    slot ``i`` changes the objective by about ``dJ/dp[i, v]`` relative to the current ``p``, so
    adding this gradient to the logits tilts each slot's distribution by ``exp(gradient)``.
    """
    probs = probs.detach().requires_grad_(True)
    with torch.enable_grad():
        objective = guidance.objective(probs)
        (grad,) = torch.autograd.grad(objective.sum(), probs)
    return torch.nan_to_num(grad)


def checked_indices(raw: Any, n: int, vocab: int, who: str) -> np.ndarray:
    """``raw`` samples as int64 ``(n, S)``; GennasError naming the generator ``who`` where they are
    not whole numbers in ``0..vocab-1`` (a generator of one's own returning floats or indices past
    the vocabulary failed in ``to_archs`` with a bare IndexError or TypeError)."""
    values = raw.numpy() if isinstance(raw, torch.Tensor) else np.asarray(raw)
    whole = values.ndim == 2 and len(values) == n and (values.dtype.kind in "iu" or values.dtype == bool)
    if not whole or (values.size and (values.min() < 0 or values.max() >= vocab)):
        seen = (f"{values.dtype} {tuple(values.shape)}" + (f", values {values.min()}..{values.max()}"
                                                             if values.size and values.dtype.kind in "iuf" else ""))
        raise GennasError(f"{who}._sample_indices must return whole slot indices (n, S) = ({n}, S) in 0..{vocab - 1}, "
                          f"got {seen}")
    return values.astype(np.int64)


class SlotGenerator(nn.Module, ABC):
    """Base of the slot generators: subclasses implement :meth:`loss` and :meth:`_sample_indices`."""

    kind: str = ""

    def __init__(self, space: SearchSpace | str) -> None:
        super().__init__()
        self.space = resolve_space(space)
        self.num_slots = self.space.num_slots
        self.vocab = len(self.space.slot_vocab)
        self.manifest: dict[str, Any] = {}

    def __repr__(self) -> str:
        # torch's module dump (856 characters) told a debugger nothing of what it generates: str(g.<part>) has it
        count = sum(p.numel() for p in self.parameters())
        return f"{type(self).__name__}({self.space.name}, kind={self.kind}, {count:,} parameters)"

    # ------------------------------------------------------------ to implement
    @abstractmethod
    def loss(self, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Training loss (scalar) of a batch of valid architectures ``x0 (B, S)`` long."""

    @abstractmethod
    def _sample_indices(self, n: int, generator: torch.Generator, guidance: Guidance | None) -> torch.Tensor:
        """``n`` raw samples, long ``(n, S)``, every slot decided."""

    @abstractmethod
    def config_dict(self) -> dict[str, Any]:
        """Hyper-parameters needed to rebuild the model (stored in the manifest)."""

    # ------------------------------------------------------------ conversions
    def to_indices(self, archs: Sequence[ArchGraph]) -> torch.Tensor:
        """Slot op indices of valid architectures, long ``(len(archs), S)``."""
        index = {op: i for i, op in enumerate(self.space.slot_vocab)}
        return torch.tensor([[index[o] for o in self.space.choices(a)] for a in archs], dtype=torch.long)

    def to_archs(self, x: torch.Tensor | np.ndarray) -> list[ArchGraph]:
        """ArchGraphs of ``(B, S)`` slot indices; ``project`` repairs any invalid row."""
        vocab = self.space.slot_vocab
        return [self.space.from_choices(self.space.project([vocab[i] for i in row]))
                for row in np.asarray(x).tolist()]

    # ------------------------------------------------------------ sampling
    def sample_choices(self, n: int, seed: int | None = None, guidance: Guidance | None = None) -> np.ndarray:
        """Raw samples before projection, deduplication and filtering: int64 ``(n, S)``."""
        n = check_count(n)
        gen = _torch_generator(seed)
        self.eval()
        with torch.no_grad():
            raw = self._sample_indices(n, gen, guidance)
        return checked_indices(raw, n, len(self.space.slot_vocab), type(self).__name__)

    def sample(self, n: int, seed: int | None = None, guidance: Guidance | None = None,
               unique: bool = True, max_draws: int | None = None) -> list[ArchGraph]:
        """Up to ``n`` valid architectures.

        Samples in rounds until ``n`` distinct architectures (by ``canonical_hash``; all samples
        with ``unique=False``) pass the guidance's hard latency filter, drawing at most
        ``max_draws`` (default ``4 * n + 64``) in all, so it never hangs. Fewer than ``n`` come back
        when the draws run out: strong guidance concentrates on few architectures, a tight budget
        admits few. If none at all meets the budget, :class:`~gennas.generators.guidance.InfeasibleBudget`
        says so.
        """
        from gennas.generators.guidance import InfeasibleBudget

        n = check_count(n)
        # the total is drawn in rounds (each at most ROUND_CAP), so it needs no cap of its own
        max_draws = 4 * n + 64 if max_draws is None else check_count(max_draws, limit=None)
        gen = _torch_generator(seed)
        self.eval()
        kept: dict[str, ArchGraph] = {}
        raw: list[ArchGraph] = []
        fastest, fastest_arch = np.inf, None
        batch, drawn = min(n, max_draws, ROUND_CAP), 0
        while batch > 0:
            with torch.no_grad():
                archs = self.to_archs(checked_indices(self._sample_indices(batch, gen, guidance), batch,
                                                      len(self.space.slot_vocab), type(self).__name__))
            drawn += batch
            if guidance is not None and guidance.filters:
                ok, latency = guidance.accept(archs)
                if len(latency) and float(np.min(latency)) < fastest:
                    fastest, fastest_arch = float(np.min(latency)), archs[int(np.argmin(latency))]
                archs = [a for a, good in zip(archs, ok) if good]
            if unique:
                for a in archs:
                    kept.setdefault(a.canonical_hash(), a)
            else:
                raw += archs
            have = len(kept) if unique else len(raw)
            if have >= n:
                break
            # next round: the shortfall at the yield so far (duplicates, filter), with a margin
            rate = max(have / drawn, 0.05)
            batch = min(int((n - have) / rate * 1.2) + 16, max_draws - drawn, ROUND_CAP)
        found = list(kept.values()) if unique else raw
        if not found and guidance is not None and guidance.filters:
            raise InfeasibleBudget(
                f"none of the {drawn:,} sampled {self.space.name} architectures is judged to run under "
                f"{guidance.max_latency_ms:g} ms on {guidance.device or 'the device'}: the fastest "
                f"sampled, {fastest_arch.to_string() if fastest_arch is not None else '?'}, is judged at "
                f"{fastest:.3g} ms")
        return found[:n]

    # ------------------------------------------------------------ checkpoints
    def save(self, stem: str | Path, data: str, metrics: dict[str, Any], command: str | None = None) -> Path:
        """Write ``<stem>.pt`` (a :mod:`gennas.checkpoint` file of kind :attr:`kind`) and
        ``<stem>.json`` (its manifest); returns the .pt path."""
        state = {k: v.detach().clone() for k, v in self.state_dict().items()}
        ckpt = Checkpoint(self.kind, self.config_dict(), state, {"space": self.space.name})
        path = save_checkpoint(Path(stem).with_suffix(".pt"), ckpt, data, metrics, command)
        self.manifest = read_manifest(path)
        return path


#: most architectures one call may ask for: ``sample_choices`` draws them in one batch (about 0.5 kB each
#: with its intermediate tensors unguided, so 10**9 would need ~480 GB; guided, with the
#: predictor's gradients, about 39 kB each: 50,000 guided nb201 draws took 1.9 GB more in a
#: user walk, so ``Designer.generate(10000)``, whose pool is ten times n, needs a few GB); ask
#: again for more
MAX_COUNT = 100_000
#: most architectures drawn in one round of :meth:`SlotGenerator.sample`: the first round was
#: uncapped, so ``Designer.generate(1000)``'s pool of 10,000 guided draws peaked at 1.75 GB and
#: left the process holding 1.4 GB (a performance walk); in rounds of 2,000 (about 80 MB guided,
#: as above) the peak stays at a pool of 2,000's, and pools up to 2,000 (``generate(200)``) draw
#: as before
ROUND_CAP = 2_000


def check_count(n: int, limit: int | None = MAX_COUNT) -> int:
    """``n`` as an int if it is a positive integer (at most ``limit``), else a GennasError naming it."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise GennasError(f"number of architectures must be a positive integer, got {n!r}")
    if limit is not None and n > limit:
        raise GennasError(f"number of architectures must be at most {limit:,} per call, "
                          f"got {n:,}")
    return int(n)


def _torch_generator(seed: int | None) -> torch.Generator:
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def config_from(cls: type, values: dict[str, Any]) -> Any:
    """A config dataclass from a manifest dict, ignoring unknown keys."""
    names = set(cls.__dataclass_fields__)
    return cls(**{k: v for k, v in values.items() if k in names})


__all__ = ["MASKED", "MAX_COUNT", "SlotGenerator", "allowed_ops", "check_count", "config_from", "fill_slots",
           "guidance_gradient", "masked_logits", "one_hot_slots", "soft_slots"]
