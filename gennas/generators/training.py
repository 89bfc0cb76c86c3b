"""Training a slot generator on valid architectures of its space (no labels), and measuring it.

Used by ``experiments/train_generators.py`` (the shipped checkpoints) and ``gennas train`` (a
checkpoint under ``$GENNAS_HOME/checkpoints`` for any space). Data: every architecture of a
finite space small enough to enumerate (nb201: 15,625), else a sample from the space's prior
(``space.sample_many``). 5 % (at least 64) is held out for the validation loss and, for the VAE,
the share of held-out slots (and whole architectures) its encoder-decoder reconstructs.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from gennas.atomic_write import replaced_on_exit, torch_save
from gennas.checkpoint_remedy import torch_refusal
from gennas.errors import GennasError
from gennas.generators.base import SlotGenerator, check_count
from gennas.plain_load import load_plain
from gennas.spaces import SearchSpace

if TYPE_CHECKING:  # annotations only
    from gennas.generators.vae import GraphVAE

#: ``(step, total steps, running train loss)`` after each optimisation step
StepHook = Callable[[int, int, float], None]

#: a finite space with at most this many architectures is trained on all of them
ENUMERATE_LIMIT = 200_000
#: below this many training architectures nothing is held out (see :func:`split`)
SMALL = 1280
#: seconds between two saves of an unfinished training's state (``gennas train --resume`` goes on from it)
SAVE_EVERY_S = 30.0


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM that arrive inside the block take effect at its end, through the handlers
    in place before it (on the main thread; elsewhere at once, as before): ``gennas train``
    interrupted during an optimizer step said "nothing was saved yet" and lost up to 30 s of
    training, 1 time in 3 (user walk 48). Python-level handlers, not a blocked signal mask: a
    signal for the process reached torch's threads, which did not block it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[int, Any] = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in caught[:1]:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)  # Python's KeyboardInterrupt, the command line's Terminated
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)  # its default action, as it would have had


def generator_dataset(model: SlotGenerator, samples: int, seed: int) -> tuple[torch.Tensor, str]:
    """Training architectures as slot indices, long ``(N, S)``, and a description of the data."""
    space: SearchSpace = model.space
    if space.is_finite_enumerable() and space.size() <= ENUMERATE_LIMIT:
        every = getattr(space, "all_choice_indices", None)  # a fast path where the space has one
        x = torch.from_numpy(every()) if every is not None else model.to_indices(list(space.enumerate()))
        return x, f"all {len(x):,} {space.name} architectures (space.enumerate()), no labels"
    samples = check_count(samples, limit=None)
    x = model.to_indices(space.sample_many(samples, seed))
    return x, (f"{samples:,} {space.name} architectures drawn from the space prior "
               f"(space.sample_many({samples}, rng={seed})), no labels")


def split(x: torch.Tensor, seed: int, whole: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, validation) rows of ``x``: a seeded 5 % (at least 64) is held out. Fewer than
    :data:`SMALL` rows are a tiny space used ``whole`` (every architecture of it: all trained on and
    "validated" on; holding out half of a 125-architecture space would teach the generator never to
    propose that half), or a small sample of a larger space, of which a fifth (at most 64) is held
    out: trained and "validated" on 200 rows of a 9.8-million-cell space, a generator read
    slot_recon 1.0 where fresh samples of the space gave 0.43 (a user walk)."""
    if len(x) < SMALL and (whole or len(x) < 5):
        return x, x
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_val = max(64, len(x) // 20) if len(x) >= SMALL else min(64, len(x) // 5)
    return x[perm[n_val:]], x[perm[:n_val]]


def is_whole_space(model: SlotGenerator, x: torch.Tensor) -> bool:
    """Whether the rows ``x`` are every architecture of the model's space (as
    :func:`generator_dataset` gives a space it can enumerate), not a sample of it."""
    space = model.space
    return space.is_finite_enumerable() and space.size() <= ENUMERATE_LIMIT and len(x) == space.size()


def train_generator(model: SlotGenerator, x: torch.Tensor, steps: int, batch: int = 256, lr: float = 2e-3,
                    seed: int = 0, on_step: StepHook | None = None, partial: Path | None = None,
                    settings: dict[str, Any] | None = None, resume: bool = False) -> dict[str, float]:
    """AdamW with a one-cycle schedule for ``steps`` steps on the training rows of ``x (N, S)``
    (epochs of seeded shuffles); returns the metrics a manifest records (losses in nats per slot).

    ``partial``: a file the unfinished training's state is saved to every :data:`SAVE_EVERY_S`
    seconds and when it is interrupted (the KeyboardInterrupt then carries ``saved_step``, 0 where
    nothing could be saved); ``resume`` continues from it (``settings`` must be those it was saved
    with); the caller removes it once the finished model is saved. Raises GennasError when the loss or the weights
    stop being finite (a learning rate too high), before anything is saved.
    """
    steps = check_count(steps, limit=None)
    settings = {**(settings or {}), "steps": steps, "batch": batch, "lr": lr, "seed": seed}
    tr, val = split(x, seed, is_whole_space(model, x))
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    if steps >= 20:  # warm-up of 5 % (at least 2.5 steps: OneCycleLR divides by the warm-up length - 1)
        sched: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=steps, pct_start=max(0.05, 2.5 / steps))
    else:  # a smoke run: too few steps to shape
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    start, running, order, at, first = time.time(), math.nan, torch.randperm(len(tr), generator=gen), 0, 1
    if resume and partial is not None:
        state = load_partial(partial, settings)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        gen.set_state(state["gen"])
        order, at, running, first = state["order"], int(state["at"]), float(state["running"]), int(state["step"]) + 1
        start -= float(state["seconds"])

    def save(done: int, where: tuple[torch.Tensor, torch.Tensor, int, float]) -> None:
        gen_state, order_now, at_now, running_now = where
        save_partial(partial, {"settings": settings, "step": done, "model": model.state_dict(), "opt": opt.state_dict(),
                               "sched": sched.state_dict(), "gen": gen_state, "order": order_now, "at": at_now,
                               "running": running_now, "seconds": time.time() - start})

    saved_at, step, phase = time.monotonic(), first, "before"
    begin = (gen.get_state(), order, at, running)
    model.train()
    try:
        for step in range(first, steps + 1):
            # the state before this step: what an interrupt before its update saves
            begin, phase = (gen.get_state(), order, at, running), "before"
            if at >= len(tr):  # a new epoch
                order, at = torch.randperm(len(tr), generator=gen), 0
            rows = tr[order[at:at + batch]]
            at += batch
            loss = model.loss(rows, gen)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise GennasError(diverged(step, f"loss {value}", lr))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            with interrupts_held():  # one here would leave a half-updated model: it waits for the step's end
                phase = "updating"  # (off the main thread, an interrupt here saves nothing new)
                opt.step()
                sched.step()
                running = value if math.isnan(running) else 0.98 * running + 0.02 * value  # smoothed for display
                phase = "after"
            if on_step is not None:
                on_step(step, steps, running)
            if partial is not None and time.monotonic() - saved_at >= SAVE_EVERY_S:
                save(step, (gen.get_state(), order, at, running))
                saved_at = time.monotonic()
    except KeyboardInterrupt as exc:
        exc.saved_step = 0  # type: ignore[attr-defined]
        if partial is not None and phase != "updating":
            done = step if phase == "after" else step - 1
            if done >= first:  # else the file (if any) already holds this state
                save(done, (gen.get_state(), order, at, running) if phase == "after" else begin)
            exc.saved_step = done if partial.is_file() else 0  # type: ignore[attr-defined]
        elif partial is not None:  # the last periodic save
            exc.saved_step = partial_step(partial)  # type: ignore[attr-defined]
        raise
    # weights gone non-finite make the next step's loss NaN: checked once here for the last step,
    # not after every step (a check of every parameter each step)
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise GennasError(diverged(steps, "weights not finite", lr))
    if partial is not None and first <= steps:  # an interrupt while it is measured keeps the trained state
        save(steps, (gen.get_state(), order, at, running))
    model.eval()
    metrics = {"train_loss": round(running, 4), **evaluate(model, val, seed), "val_size": len(val),
               "held_out": val is not tr,
               "train_size": len(tr), "steps": steps, "epochs": round(steps * batch / len(tr), 2),
               "train_seconds": round(time.time() - start, 1), "uniform_slot_nll": round(math.log(model.vocab), 4)}
    return metrics


def diverged(step: int, what: str, lr: float) -> str:
    """The message of a training whose loss or weights stopped being finite at ``step``."""
    return (f"training diverged at step {step} ({what}): lower --lr (it was {lr:g}); nothing was saved, "
            "a checkpoint already there is untouched")


def save_partial(path: Path | None, state: dict[str, Any]) -> None:
    """Write an unfinished training's ``state`` to ``path`` whole or not at all (a temporary file of
    an unpredictable name renamed into place: an interrupt while writing keeps the previous save,
    and a link planted at a predictable name, ``<file>.<pid>.tmp``, was written through)."""
    if path is None:
        return
    with replaced_on_exit(path) as tmp:
        torch_save(state, tmp, path)


def partial_step(path: Path) -> int:
    """The last step whose state ``path`` holds (0: no file, or one that cannot be read)."""
    try:
        return int(load_plain(path)["step"])
    except Exception:  # missing, truncated or foreign: nothing to continue from
        return 0


def load_partial(path: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The state :func:`train_generator` saved at ``path``; GennasError when it cannot be read or was
    saved by a training with other ``settings`` (its steps would not continue this one)."""
    try:
        state = load_plain(path)
    except FileNotFoundError:
        raise GennasError(f"no interrupted training to resume: {path} does not exist") from None
    except Exception as exc:  # a truncated or foreign file: torch raises many types
        raise GennasError(f"{path} cannot be read ({torch_refusal(exc)[:120]}): delete it and train "
                          "without --resume") from None
    saved = state.get("settings", {}) if isinstance(state, dict) else {}
    changed = [f"{key} {saved.get(key)!r} -> {value!r}" for key, value in settings.items() if saved.get(key) != value]
    if changed:
        raise GennasError(f"{path} holds a training with other settings ({'; '.join(changed)}): resume it with "
                          "the options it was started with, or pass --force without --resume to train anew")
    return state


def evaluate(model: SlotGenerator, val: torch.Tensor, seed: int) -> dict[str, float]:
    """Validation loss, and for a VAE the reconstruction of ``val`` from its latent means."""
    model.eval()
    with torch.no_grad():
        vgen = torch.Generator().manual_seed(seed + 1)
        out = {"val_loss": round(float(np.mean([float(model.loss(val[i:i + 1024], vgen))
                                                 for i in range(0, len(val), 1024)])), 4)}
        if model.kind == "vae":
            vae = cast("GraphVAE", model)
            recon = vae.decode(vae.encode(val)[0]) == val
            out["val_exact_reconstruction"] = round(float(recon.all(1).float().mean()), 4)
            out["val_slot_reconstruction"] = round(float(recon.float().mean()), 4)
    return out


def sample_quality(model: SlotGenerator, n: int = 1000, seed: int = 0) -> dict[str, float]:
    """Of ``n`` unguided raw samples: the share valid as drawn (no repair by ``space.project``)
    and the share of distinct architectures (by canonical hash)."""
    space = model.space
    vocab = space.slot_vocab
    raw = model.sample_choices(n, seed=seed)
    valid = 0
    for row in raw.tolist():
        choices = tuple(vocab[i] for i in row)
        valid += int(tuple(space.project(choices)) == choices)
    unique = len({a.canonical_hash() for a in model.to_archs(raw)})
    return {"samples": n, "valid_share": round(valid / n, 4), "unique_share": round(unique / n, 4)}


__all__ = ["ENUMERATE_LIMIT", "SAVE_EVERY_S", "SMALL", "StepHook", "diverged", "evaluate", "generator_dataset",
           "is_whole_space", "load_partial", "partial_step", "sample_quality", "save_partial", "split", "train_generator"]
