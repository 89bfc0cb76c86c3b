"""``gennas train``: train a space's generator(s) on valid samples of the space, on CPU in minutes.

Writes ``<kind>_<space>.pt`` and its manifest under ``$GENNAS_HOME/checkpoints`` (or ``--out``),
where :func:`gennas.load_generator` and the designer find it when no checkpoint is shipped.
"""

from __future__ import annotations

import contextlib
import math
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer

KINDS = ("diffusion", "vae")
#: seconds between plain progress lines when stderr is not a terminal
PLAIN_INTERVAL_S = 10.0


class StepDisplay:
    """``on_step`` hook: a rich bar on a terminal, else a plain line on stderr at most every
    :data:`PLAIN_INTERVAL_S` seconds (and at the last step); nothing with ``quiet``."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label, self.quiet = label, quiet
        self.bar: Any = None
        self.task: Any = None
        self.last = 0.0

    def __enter__(self) -> StepDisplay:
        from gennas.cli.output import is_terminal

        if not self.quiet and is_terminal(sys.stderr):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
        return self

    def __call__(self, step: int, total: int, loss: float) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(self.label, total=total)
            self.bar.update(self.task, completed=step, description=f"{self.label} loss {loss:.3f}")
            return
        now = time.monotonic()
        if step == total or now - self.last >= PLAIN_INTERVAL_S or step == 1:
            self.last = now
            print(f"{self.label}: step {step}/{total}, loss {loss:.4f}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


def other_spec_changes(path: Path, kind: str, space: str) -> str | None:
    """What changed in ``space``'s spec since the checkpoint at ``path`` (of ``kind``) was made
    ("macro.channels: 8 -> 16"); None where there is no such file, it is of this spec, or it
    cannot be read (training replaces a broken file)."""
    from gennas.checkpoint import load_checkpoint
    from gennas.errors import GennasError, OtherSpec

    try:
        if path.is_file():
            load_checkpoint(path, kind, space=space)
    except OtherSpec as exc:
        return exc.changes or "its spec was edited"
    except GennasError:
        pass  # unreadable: training replaces it
    return None


def refuse_other_spec(folder: Path, kinds: list[str], space: Any, where: str) -> None:
    """Refuse to replace a generator trained for another spec of ``space`` (its YAML edited under
    the same ``name:``): training for the edited one overwrote it without a word, and designs for
    the old spec then failed. ``where``: the ``--space`` given."""
    from gennas.errors import GennasError

    for kind in kinds:
        path = folder / f"{kind}_{space.name}.pt"
        changes = other_spec_changes(path, kind, space.name)
        if changes is not None:
            raise GennasError(f"{path} is the {kind} generator of another spec of space {space.name!r} ({changes}); "
                              f"training for {where} replaces it, and designs for that spec would need it trained "
                              "again: pass --force to replace it, or give this spec a name: of its own (its "
                              "checkpoints are then its own)")


def note_other_spec_predictor(space: Any) -> None:
    """After a generator was trained for an edited spec (``--force``), say that the predictor a
    search saved for the space is of the old spec: a search refuses it (the command ``train``
    suggests next failed at once)."""
    from gennas.checkpoint import find_checkpoint
    from gennas.design.saved_records import predictor_file

    path = find_checkpoint(predictor_file(space))
    if path is not None and other_spec_changes(path, "predictor", space.name) is not None:
        typer.echo(f"note: the predictor a search saved for {space.name} ({path}) learned the spec as it was: a "
                   f"search refuses it; move it and {path.with_suffix('.json').name} away (a search then trains "
                   "one afresh), or give this spec a name: of its own", err=True)


def trained_before(path: Path, kind: str, space: str) -> str | None:
    """How the generator at ``path`` was trained ("200 steps, val loss 0.41, 2026-12-05"); None where
    there is none or it cannot be read (training replaces a broken file)."""
    from gennas.checkpoint import load_checkpoint, read_manifest
    from gennas.errors import GennasError

    try:
        if not path.is_file():
            return None
        load_checkpoint(path, kind, space=space)
        manifest = read_manifest(path) or {}
    except GennasError:
        return None
    metrics = manifest.get("metrics", {}) if isinstance(manifest.get("metrics"), dict) else {}
    told = [f"{metrics['steps']} steps" if "steps" in metrics else "",
            f"val loss {metrics['val_loss']}" if "val_loss" in metrics else "",
            "written " + time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))]
    return ", ".join(t for t in told if t) or "trained before"


def refuse_replacing(folder: Path, kinds: list[str], space: Any, resume: bool) -> None:
    """Refuse to replace a trained generator, or to start over an interrupted training, without
    --force: `gennas train --steps 5` replaced a 200-step generator without a word, and a partial
    file holds minutes of training."""
    from gennas.errors import GennasError

    for kind in kinds:
        path = folder / f"{kind}_{space.name}.pt"
        if partial_file(path).is_file() and not resume:
            raise GennasError(f"{partial_file(path)} holds an interrupted {kind} training: continue it with the "
                              "same command and --resume, or pass --force to start over")
        before = trained_before(path, kind, space.name)
        if before is not None and not resume:
            raise GennasError(f"{path} already holds a {kind} generator for {space.name} ({before}); training again "
                              "replaces it: pass --force to replace it, or --out DIR to train into another folder")


@contextlib.contextmanager
def hold_training(folder: Path, kinds: list[str], space: Any) -> Iterator[None]:
    """Hold the writers' lock of each generator ``kinds`` of ``space`` trains into ``folder`` while
    it checks what is there and trains: two `gennas train` of one space at once both passed the
    check, shared one interrupted-training file, and the last to finish replaced the other's
    generator without a word. A held lock is a GennasError at once (no waiting on a training)."""
    import filelock

    from gennas.atomic_write import writers_lock
    from gennas.errors import GennasError

    with contextlib.ExitStack() as held:
        for kind in kinds:
            path = folder / f"{kind}_{space.name}.pt"
            try:
                held.enter_context(writers_lock(path, 0))
            except filelock.Timeout:
                raise GennasError(f"another gennas train is training the {kind} generator of {space.name} into "
                                  f"{folder} ({path}.lock is held): wait for it to end, or train into another "
                                  "folder with --out") from None
        yield


def partial_file(path: Path) -> Path:
    """Where the unfinished training of the generator saved at ``path`` keeps its state."""
    return path.with_name(path.stem + ".partial.pt")


def register(app: typer.Typer) -> None:
    from gennas.cli.output import friendly, print_json, print_table

    @app.command("train")
    @friendly(interrupted="interrupted: no checkpoint was written")
    def train_cmd(
        space: str = typer.Option(..., "--space", "-s", help="a bundled space name or a YAML spec path"),
        kind: str = typer.Option("diffusion", "--kind", help="diffusion (the designer's default) | vae | all"),
        steps: Optional[int] = typer.Option(None, "--steps", help="optimisation steps (default 1000)"),
        epochs: Optional[int] = typer.Option(None, "--epochs", help="passes over the samples (instead of --steps)"),
        samples: int = typer.Option(20000, "--samples", help="architectures sampled from the space's prior "
                                                             "(a space of at most 200,000 is used whole)"),
        batch: int = typer.Option(256, "--batch", help="architectures per step"),
        lr: float = typer.Option(2e-3, "--lr", help="peak learning rate (one-cycle schedule)"),
        seed: int = typer.Option(0, "--seed"),
        out_arg: Optional[str] = typer.Option(None, "--out", help="folder (default $GENNAS_HOME/checkpoints)"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress display"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
        force: bool = typer.Option(False, "--force", help="replace a generator trained before (for this spec or "
                                                          "another spec of the space: its YAML edited under the "
                                                          "same name:), or start over an interrupted training"),
        resume: bool = typer.Option(False, "--resume", help="continue an interrupted training (the same options; "
                                                            "its state is saved every 30 s and when interrupted)"),
    ) -> None:
        """Train the generator(s) of a space on valid samples of it; the designer then finds them."""
        from gennas.checkpoint import find_checkpoint, user_checkpoints_dir
        from gennas.cli.checks import check_seed, check_writable_dir, path_option
        from gennas.errors import GennasError, unknown
        from gennas.generators import new_generator
        from gennas.generators.training import (generator_dataset, is_whole_space, partial_step, sample_quality,
                                                split, train_generator)
        from gennas.resources import checkpoints_dir
        from gennas.seeds import seeded_torch
        from gennas.spaces import load_space

        check_seed(seed)
        out = path_option(out_arg, "--out")
        kinds = list(KINDS) if kind == "all" else [kind]
        if kind != "all" and kind not in KINDS:
            raise GennasError(unknown("generator kind (--kind)", kind, [*KINDS, "all"]))
        if steps is not None and epochs is not None:
            raise GennasError("give --steps or --epochs, not both")
        for name, value, low in (("--steps", steps, 1), ("--epochs", epochs, 1), ("--samples", samples, 200),
                                 ("--batch", batch, 1)):
            if value is not None and value < low:
                raise GennasError(f"{name} must be at least {low}, got {value}")
        if not (math.isfinite(lr) and lr > 0):
            raise GennasError(f"--lr must be a positive number, got {lr}")
        sp = load_space(space)
        folder = check_writable_dir(out or user_checkpoints_dir(), "gennas train cannot save its checkpoint",
                                    "set $GENNAS_HOME or pass --out")
        if force and resume:
            raise GennasError("--force starts over, --resume continues: give one of them")
        with hold_training(folder, kinds, sp):  # one gennas train of a generator at a time
            if not force:
                refuse_other_spec(folder, kinds, sp, space)
                refuse_replacing(folder, kinds, sp, resume)
            command = "gennas " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "gennas train"
            kept_args = [a for a in sys.argv[1:] if a not in ("--force", "--resume")]  # --force would start over
            again = "gennas " + " ".join([*(shlex.quote(a) for a in kept_args), "--resume"])
            rows = []
            x = None
            for k in kinds:
                final = folder / f"{k}_{sp.name}.pt"
                partial = partial_file(final)
                if force:
                    partial.unlink(missing_ok=True)  # --force starts over
                if resume and not partial.is_file() and trained_before(final, k, sp.name) is not None:
                    typer.echo(f"note: {final} was trained to the end before the interruption: kept", err=True)
                    continue
                if resume and not partial.is_file():
                    typer.echo(f"note: no interrupted {k} training in {folder}: training it from the start", err=True)
                with seeded_torch(seed):  # the initial weights: --seed reproduces the checkpoint
                    model = new_generator(sp, k)
                if x is None:
                    x, data = generator_dataset(model, samples, seed)
                n = steps if steps is not None else (
                    epochs * math.ceil(len(split(x, seed, is_whole_space(model, x))[0]) / batch) if epochs else 1000)
                settings = {"kind": k, "space": sp.name, "data": data, "config": model.config_dict()}
                try:
                    with StepDisplay(f"{k} on {sp.name}", quiet or as_json) as show:
                        metrics = train_generator(model, x, n, batch, lr, seed, on_step=show, partial=partial,
                                                  settings=settings, resume=resume and partial.is_file())
                    metrics.update({f"sample_{key}": v for key, v in sample_quality(model, 1000, seed).items()})
                except KeyboardInterrupt as exc:
                    from gennas.cli.output import Terminated

                    # after the last step (while the model is measured) the file holds the trained state
                    saved = getattr(exc, "saved_step", None)
                    saved = partial_step(partial) if saved is None else saved
                    kept = (f"the training so far (step {saved}/{n}) is saved in {partial}; continue it with: {again}"
                            if saved else "nothing was saved yet (the state is saved every 30 s)")
                    typer.echo(f"interrupted: {kept}", err=True)
                    raise typer.Exit(code=143 if isinstance(exc, Terminated) else 130) from None
                path = model.save(folder / f"{k}_{sp.name}", data, metrics, command.replace(" --resume", ""))
                partial.unlink(missing_ok=True)  # the finished model is saved: its partial state is not needed
                shipped = (checkpoints_dir() / path.name).is_file() and out is None
                found = find_checkpoint(path.name)
                rows.append({"generator": k, "space": sp.name, "steps": metrics["steps"],
                             "seconds": metrics["train_seconds"], "val_loss": metrics["val_loss"],
                             "held_out": metrics["held_out"],  # False: val_loss and slot_recon are on the training rows
                             "valid": metrics["sample_valid_share"], "unique": metrics["sample_unique_share"],
                             "slot_recon": metrics.get("val_slot_reconstruction"), "file": str(path),
                             "used_by_designer": found is not None and found.resolve() == path.resolve()})
                if shipped:
                    typer.echo(f"note: the shipped {path.name} is loaded before {path}; load yours with "
                               f"gennas.load_generator({sp.name!r}, {k!r}, path={str(path)!r})", err=True)
            if not rows:  # --resume after every generator had been trained to the end
                return
            note_other_spec_predictor(sp)
            if as_json:
                print_json(rows)
                return
            print_table(f"generators trained for {sp.name} ({data}; val_loss on held-out rows where held_out, else on "
                        f"the training rows; valid and unique: shares of 1,000 unguided draws"
                        f"{uniform_unique_note(sp) if x is not None and is_whole_space(model, x) else ''})",
                        rows)
            from gennas.design.pretrained import ships_predictor

            if not ships_predictor(sp):  # a space with a shipped predictor keeps it: a search saves none there
                typer.echo(f"next: `gennas search --space {shlex.quote(space)} --method designer --evaluator proxy:synflow` "
                           f"trains the predictor; then `gennas design --space {shlex.quote(space)} --task ...` generates",
                           err=True)


def uniform_unique_note(space: Any, draws: int = 1000) -> str:
    """For a space trained on whole: the unique share of ``draws`` that uniform sampling of its
    architectures gives (expected: each of its distinct architectures is drawn with the share of
    cells computing it); nb201's 0.698 read as a collapse (a user walk), uniform gives 0.68."""
    from collections import Counter

    import numpy as np

    sizes = np.array(list(Counter(a.canonical_hash() for a in space.enumerate()).values()), dtype=np.float64)
    expected = float(np.sum(1.0 - (1.0 - sizes / sizes.sum()) ** draws)) / draws
    return f"; uniform sampling of its {len(sizes):,} distinct architectures gives unique {expected:.3g}"
