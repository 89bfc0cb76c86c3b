"""``gennas design --export DIR``: each design written whole or not at all, and a rerun that finishes
an interrupted export.

A design is written into ``DIR/.rankNN.partial`` and renamed to ``DIR/rankNN`` once complete: an
interrupted export left ``rank01`` half-written (no ``build.json``), and the rerun refused ``DIR``
as "already holds an export" (a user review). A rerun keeps the ranks that already hold its own
designs and writes the rest; ranks of other designs are still refused (a mixed folder).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from gennas.errors import GennasError


def rank_folder(export: Path, rank: int) -> Path:
    """Where design ``rank`` is exported."""
    return export / f"rank{rank:02d}"


def half_written(folder: Path) -> bool:
    """Whether ``folder`` is an export this command began and did not finish (before exports were
    renamed into place): only export files, no ``build.json`` (written last)."""
    from gennas.export import EXPORT_FILES

    names = {p.name for p in folder.iterdir()} if folder.is_dir() else {"?"}
    return "build.json" not in names and names <= set(EXPORT_FILES)


def exported_before(folder: Path) -> dict[str, Any] | None:
    """The ``build.json`` of a complete export in ``folder`` (None: none, or unreadable)."""
    try:
        record = json.loads((folder / "build.json").read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def same_start(record: dict[str, Any], seed: int | None) -> bool:
    """Whether an export's weights are what this command writes: trained ones, or initial ones drawn
    from ``seed`` (another seed's were kept and stated as this one's)."""
    return bool(record.get("trained")) or (seed is not None and record.get("seed") == seed)


def kept_ranks(export: Path, candidates: Sequence[Any], classes: int, seed: int | None = 0) -> set[int]:
    """The ranks ``export`` already holds exactly as this command would write them (the same
    architecture, classes and initial weights' seed: a rerun after an interrupt); GennasError
    where it holds others."""
    wanted = {c.rank: c.arch.to_string() for c in candidates}
    kept, other, reseeded = set(), [], ""
    for folder in sorted(export.glob("rank[0-9][0-9]")) if export.is_dir() else []:
        rank = int(folder.name[4:])
        record = exported_before(folder)
        if record is not None and record.get("arch") == wanted.get(rank) and record.get("num_classes") == classes:
            if same_start(record, seed):
                kept.add(rank)
                continue
            drawn = "no recorded seed" if record.get("seed") is None else f"seed {record['seed']}"
            reseeded = f" ({folder.name}'s initial weights were drawn from {drawn}, not seed {seed})"
            other.append(folder.name)
        elif not (rank in wanted and half_written(folder)):  # a half-written one of ours is rewritten
            other.append(folder.name)
    if other:
        # a new export over an old one replaced some ranks and left the others: a mixed folder
        raise GennasError(f"--export {export} already holds an export of other designs ({', '.join(other[:3])}"
                          f"{', ...' if len(other) > 3 else ''}); choose a new or empty folder" + reseeded)
    return kept


def refuse_other_classes(candidates: Sequence[Any], history: Sequence[Any], num_classes: int | None) -> None:
    """GennasError where ``--num-classes`` contradicts the classes of trained weights the export
    would write: trained designs were written with their own head and the others with the one
    asked for, without a word (a user walk: four 10-class networks and one 100-class). As
    :func:`gennas.export.export_result` refuses a contradicting ``num_classes``."""
    import warnings

    from gennas.checkpoint import load_checkpoint
    from gennas.export import MissingWeights, trained_weights_of

    if num_classes is None:
        return
    differ: dict[int, list[str]] = {}
    with warnings.catch_warnings():  # a missing file warns when the export falls back, not twice
        warnings.simplefilter("ignore", MissingWeights)
        for c in candidates:
            path = trained_weights_of(c.arch, history)
            trained = None if path is None else load_checkpoint(path, "trained").config.get("num_classes")
            if isinstance(trained, int) and trained != num_classes:  # a bad checkpoint: refused by the export
                differ.setdefault(trained, []).append(f"rank{c.rank:02d}")
    if differ:
        what = "; ".join(f"{', '.join(ranks)} trained with {classes} classes" for classes, ranks in differ.items())
        raise GennasError(f"--num-classes {num_classes} contradicts the trained weights this export would write ({what}): "
                          f"leave --num-classes out (or give {next(iter(differ))}) to export the trained networks; an "
                          f"untrained {num_classes}-class one: gennas.export.export_architecture(arch, folder, "
                          f"num_classes={num_classes}); nothing was written")


def write_ranks(export: Path, candidates: Sequence[Any], history: Sequence[Any], classes: int,
                kept: set[int], seed: int | None = 0) -> dict[int, bool]:
    """Export every candidate not in ``kept``, untrained ones initialised from ``seed`` (the
    design's); returns rank -> whether trained weights were used.
    Progress lines go to stderr when it is not a terminal (10 designs took ~30 s in silence); an
    interrupt says what was written and that the same command finishes it."""
    from gennas.cli.output import Terminated
    from gennas.export import export_candidate, trained_weights_of

    trained, done = {}, 0
    try:
        for c in candidates:
            final = rank_folder(export, c.rank)
            trained[c.rank] = trained_weights_of(c.arch, history) is not None
            if c.rank not in kept:
                partial = export / f".{final.name}.partial"
                shutil.rmtree(partial, ignore_errors=True)  # left by an interrupted run
                export_candidate(c.arch, partial, history, seed=seed, num_classes=classes)  # trained weights where kept
                try:
                    if final.exists():  # half-written by an earlier version: only export files in it
                        shutil.rmtree(final)
                    partial.rename(final)
                except OSError as exc:
                    raise GennasError(f"cannot write the export to {final}: {exc.strerror or exc}") from None
            done += 1
            if not sys.stderr.isatty():
                typer.echo(f"exported {done}/{len(candidates)}: {final}" + (" (kept)" if c.rank in kept else ""),
                           err=True)
    except KeyboardInterrupt as exc:
        typer.echo(f"interrupted: {done} of {len(candidates)} designs exported to {export}; run the same command "
                   "again to export the rest (the finished ones are kept)", err=True)
        raise typer.Exit(code=143 if isinstance(exc, Terminated) else 130) from None
    return trained
