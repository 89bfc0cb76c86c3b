"""``gennas design --export DIR``: each design written whole or not at all, and a rerun that finishes
an interrupted export.

A design is written into ``DIR/.rankNN.partial`` and renamed to ``DIR/rankNN`` once complete: an
interrupted export left ``rank01`` half-written (no ``build.json``), and the rerun refused ``DIR``
as "already holds an export". A rerun keeps the ranks that already hold its own
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


def only_export_files(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but an export's files: all ``--overwrite`` may remove."""
    from gennas.export import EXPORT_FILES

    return folder.is_dir() and {p.name for p in folder.iterdir()} <= set(EXPORT_FILES)


def remove_stale(export: Path, candidates: Sequence[Any]) -> list[str]:
    """``--overwrite``: remove the ``rankNN`` exports of ranks this export has not (an export of 10
    over one of 5 would leave 6-10 of the old designs beside it); returns their names."""
    wanted = {rank_folder(export, c.rank).name for c in candidates}
    stale = [f for f in sorted(export.glob("rank[0-9][0-9]")) if f.name not in wanted and only_export_files(f)]
    for folder in stale:
        shutil.rmtree(folder)
    return [f.name for f in stale]


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


def same_build(record: dict[str, Any], build: dict[str, Any]) -> bool:
    """Whether an untrained export's ``build.json`` (``record``) is of ``build`` (export options, as
    :func:`gennas.export.study_build` gives them; {}: the space's default): an export of the full
    build, left by an earlier version, was kept beside the study's small ones. Trained: their own."""
    if record.get("trained") or not build:
        return True
    options = {k: v for k, v in build.items() if k not in ("num_classes", "in_channels", "input_size", "inputs")}
    shape = record.get("input_shape")
    return (record.get("in_channels") == build.get("in_channels") and record.get("build_options") == options
            and isinstance(shape, list) and shape[-1:] == [build.get("input_size")])


def kept_ranks(export: Path, candidates: Sequence[Any], classes: int, seed: int | None = 0,
               build: dict[str, Any] | None = None, overwrite: bool = False) -> set[int]:
    """The ranks ``export`` already holds exactly as this command would write them (the same
    architecture, classes, build (``build``: :func:`same_build`) and initial weights' seed: a
    rerun after an interrupt); GennasError where it holds others, unless ``overwrite`` (``--overwrite``,
    as ``export_architecture(overwrite=True)``): they are then replaced, but never a folder that
    holds files no export writes."""
    wanted = {c.rank: c.arch.to_string() for c in candidates}
    kept, other, restarted = set(), [], []  # restarted: (folder, why) of the same architecture, another start
    for folder in sorted(export.glob("rank[0-9][0-9]")) if export.is_dir() else []:
        if folder.is_symlink():  # kept, its build.json was rewritten through the link, outside the folder named
            raise GennasError(f"--export {export}: {folder.name} is a symbolic link ({folder} -> "
                              f"{folder.readlink()}), not a folder an export made; gennas writes only inside the "
                              "folder named: remove the link, or choose a new or empty folder")
        rank = int(folder.name[4:])
        record = exported_before(folder)
        if record is not None and record.get("arch") == wanted.get(rank) and record.get("num_classes") == classes:
            if same_start(record, seed) and same_build(record, build or {}):
                kept.add(rank)
                continue
            drawn = "no recorded seed" if record.get("seed") is None else f"seed {record['seed']}"
            restarted.append((folder.name, f"initial weights drawn from {drawn}, not seed {seed}"
                              if not same_start(record, seed) else "another build than the study trained"))
            other.append(folder.name)
        elif not (rank in wanted and half_written(folder)):  # a half-written one of ours is rewritten
            other.append(folder.name)
    foreign = [name for name in other if not only_export_files(export / name)]
    if overwrite and foreign:  # the user's own files are never removed
        raise GennasError(f"--export {export}: {', '.join(foreign[:3])} holds files no export writes; --overwrite "
                          "replaces only exports: move them, or choose a new or empty folder")
    if other and not overwrite:
        # a new export over an old one replaced some ranks and left the others: a mixed folder
        # the same architectures written from another start read as "other designs", naming one rank (user walk 47)
        same = [name for name, _ in restarted]
        what = "the same designs from another start" if len(same) == len(other) else "other designs"
        why = f" ({', '.join(same[:3])}{', ...' if len(same) > 3 else ''}: {restarted[0][1]})" if same else ""
        raise GennasError(f"--export {export} already holds an export of {what} ({', '.join(other[:3])}"
                          f"{', ...' if len(other) > 3 else ''}); choose a new or empty folder, or add --overwrite to "
                          "replace it" + why)
    return kept


def refuse_other_classes(candidates: Sequence[Any], history: Sequence[Any], num_classes: int | None) -> None:
    """GennasError where ``--num-classes`` contradicts the classes of trained weights the export
    would write: trained designs were written with their own head and the others with the one
    asked for, without a word (four 10-class networks and one 100-class). As
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
                kept: set[int], seed: int | None = 0, build: dict[str, Any] | None = None,
                device: str | None = None, budget_ms: float | None = None) -> dict[int, bool]:
    """Export every candidate not in ``kept``, untrained ones initialised from ``seed`` (the
    design's) and built as ``build`` says (export options but classes: the study's, where its
    results were trained); returns rank -> whether trained weights were used.
    Each ``build.json`` (kept ones too) records the design's latency figures and the network they
    describe (:func:`latency_record`; on ``device`` under ``budget_ms`` where given), and a note
    says where that is not the exported network (:func:`latency_note`).
    Progress lines go to stderr when it is not a terminal (10 designs took ~30 s in silence); an
    interrupt says what was written and that the same command finishes it."""
    from gennas.cli.output import Terminated, is_terminal
    from gennas.cli.output import note as note_line
    from gennas.export import export_candidate, trained_weights_of

    trained, records, done = {}, {}, 0
    try:
        for c in candidates:
            final = rank_folder(export, c.rank)
            trained[c.rank] = trained_weights_of(c.arch, history) is not None
            if c.rank in kept:
                records[c.rank] = stated_latency(final, c, device, budget_ms)
            else:
                partial = export / f".{final.name}.partial"
                if partial.is_symlink() or partial.is_file():  # rmtree refuses a link: the export went through it
                    partial.unlink()
                shutil.rmtree(partial, ignore_errors=True)  # left by an interrupted run
                export_candidate(c.arch, partial, history, seed=seed,  # trained weights where kept
                                 **{**(build or {}), "num_classes": classes})
                records[c.rank] = stated_latency(partial, c, device, budget_ms)
                try:
                    if final.exists():  # half-written by an earlier version, or replaced (--overwrite): export files only
                        shutil.rmtree(final)
                    partial.rename(final)
                except OSError as exc:
                    raise GennasError(f"cannot write the export to {final}: {exc.strerror or exc}") from None
            done += 1
            if not is_terminal(sys.stderr):
                typer.echo(f"exported {done}/{len(candidates)}: {final}" + (" (kept)" if c.rank in kept else ""),
                           err=True)
    except KeyboardInterrupt as exc:
        typer.echo(f"interrupted: {done} of {len(candidates)} designs exported to {export}; run the same command "
                   "again to export the rest (the finished ones are kept)", err=True)
        raise typer.Exit(code=143 if isinstance(exc, Terminated) else 130) from None
    note = latency_note(export, records, budget_ms)
    if note is not None:
        note_line(f"{export}: {note}")
    return trained


def stated_latency(folder: Path, candidate: Any, device: str | None, budget_ms: float | None) -> dict[str, Any]:
    """Record ``candidate``'s latency in the ``build.json`` of its export in ``folder``
    (:func:`latency_record`) and return that ``build.json``."""
    from gennas.export import record_latency

    record = exported_before(folder) or {}
    latency = latency_record(candidate, record, device, budget_ms)
    record_latency(folder, latency)
    return {**record, **({"latency": latency} if latency else {})}


def latency_network(space: Any) -> dict[str, Any]:
    """The network a design's latency figures (pred_ms, measured_ms, bound_ms) and its budget
    describe, as ``build.json`` records a network: the one `gennas latency measure` times and the
    bundled tables timed (the table's classes, else 10; 3 input channels at the space's default
    side; its default build options)."""
    from gennas.surrogates.measure import table_build_options

    options = table_build_options(space)
    classes = int(options.pop("num_classes", 10))
    side = int(space.default_input_size)
    return {"num_classes": classes, "input_shape": [1, 3, side, side], "build_options": options}


def own_options(space: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` less those that repeat the space's default (``space.macro``): {"channels": 36}
    builds darts' default network."""
    defaults = getattr(space, "macro", None) or {}
    return {k: v for k, v in options.items() if defaults.get(k) != v}


def network_of(record: dict[str, Any]) -> dict[str, Any]:
    """The network an export's ``build.json`` (``record``) holds, as :func:`latency_network` gives one."""
    return {"num_classes": record.get("num_classes"), "input_shape": record.get("input_shape"),
            "build_options": dict(record.get("build_options") or {})}


def network_text(space: Any, network: dict[str, Any], shown: Sequence[str] = ()) -> str:
    """``network`` as :func:`describe_build` writes a build: "3x32x32 inputs, 10 classes, channels 8";
    ``shown``: options also named at their default value ("channels 36, layers 20" beside a build
    that changes them)."""
    defaults = getattr(space, "macro", None) or {}
    options = {**{k: defaults.get(k, "default") for k in shown}, **own_options(space, network["build_options"])}
    shape = list(network["input_shape"] or [1, 3, 0, 0])
    return describe_build({"in_channels": shape[1], "input_size": shape[-1], **options}, network["num_classes"],
                          shape[-1])


def only_classes_differ(space: Any, timed: dict[str, Any], exported: dict[str, Any]) -> bool | None:
    """Whether ``exported`` is ``timed`` with other classes (another last layer); None where it is
    ``timed`` itself, False where their inputs or build differ."""
    same_body = (list(timed["input_shape"])[1:] == list(exported["input_shape"] or [])[1:]
                 and own_options(space, timed["build_options"]) == own_options(space, exported["build_options"]))
    if not same_body:
        return False
    return None if timed["num_classes"] == exported["num_classes"] else True


def possessive(name: str) -> str:
    """"darts'", "nb201's"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def timed_text(space: Any, exported: dict[str, Any]) -> str:
    """The network the latency figures describe, named against ``exported``: "darts' default build
    (3x32x32 inputs, 10 classes, channels 36, layers 20), the network `gennas latency measure` times"."""
    shown = list(own_options(space, exported["build_options"]))
    default = network_text(space, latency_network(space), shown)
    return f"{possessive(space.name)} default build ({default}), the network `gennas latency measure` times"


def latency_record(candidate: Any, record: dict[str, Any], device: str | None = None,
                   budget_ms: float | None = None) -> dict[str, Any] | None:
    """What ``build.json`` records of ``candidate``'s latency, beside its export ``record``: the
    figures as the table names them (``pred_ms`` or ``measured_ms``, ``bound_ms``: what a budget was
    judged by), ``device`` and ``budget_ms`` where given, the ``network`` they describe, whether it
    is the exported one and, in words, what they describe. None: the design has no latency."""
    from gennas.spaces import resolve_space

    if candidate.predicted_latency_ms is None:
        return None
    space = resolve_space(candidate.arch.space)
    timed, exported = latency_network(space), network_of(record)
    heads = only_classes_differ(space, timed, exported)
    describes = timed_text(space, exported)
    if heads:
        describes += f"; this export holds it with {exported['num_classes']} classes (another last layer)"
    elif heads is False:
        describes += (f"; this export holds another network ({network_text(space, exported)}), whose latency was "
                      "not estimated")
    figures = {"measured_ms" if candidate.latency_measured else "pred_ms": candidate.predicted_latency_ms}
    if candidate.latency_bound_ms is not None:
        figures["bound_ms"] = candidate.latency_bound_ms
    return {**({"device": device} if device else {}), **({"budget_ms": budget_ms} if budget_ms is not None else {}),
            **figures, "network": timed, "describes_this_export": heads is None, "describes": describes}


def latency_note(export: Path, records: dict[int, dict[str, Any]], budget_ms: float | None = None) -> str | None:
    """One line where the latency figures (and the budget) describe another network than ranks of
    the export (``records``: rank -> its ``build.json`` with ``latency``): a user deployed "under
    54 ms" files of darts' small build, 48-59 times fewer parameters than the default build whose
    29-40 ms the table stated. Names both and how to export the timed network."""
    from gennas.spaces import resolve_space

    other = {rank: r for rank, r in records.items() if r.get("latency", {}).get("describes_this_export") is False}
    if not other:
        return None
    first = min(other)
    space = resolve_space(other[first]["space"])
    timed = latency_network(space)
    heads_only = all(only_classes_differ(space, timed, network_of(r)) for r in other.values())
    groups: dict[str, list[int]] = {}
    for rank, record in sorted(other.items()):
        text = (f"it with {record['num_classes']} classes (another last layer)" if heads_only else
                f"another network ({network_text(space, network_of(record))})")
        groups.setdefault(text, []).append(rank)
    held = "; ".join(f"{rank_list(ranks)} {holds(ranks)} {text}" for text, ranks in groups.items())
    budget = f" and the {budget_ms:g} ms budget" if budget_ms is not None else " (and the budget, where one was given)"
    note = f"the latency columns{budget} describe {timed_text(space, network_of(other[first]))}; {held}"
    if heads_only:
        return note
    hint = default_build_hint(export, first, other[first], space)
    return f"{note}, whose latency was not estimated (each build.json's 'latency' says so). {hint}"


def default_build_hint(export: Path, rank: int, record: dict[str, Any], space: Any) -> str:
    """How to export the network the latency figures describe (``record``: rank ``rank``'s
    ``build.json``): ``gennas design --export`` writes the study's build only."""
    folder = rank_folder(export, rank)
    classes = record["num_classes"]
    call = (f"gennas.export.export_architecture(open({str(folder / 'arch.txt')!r}).read(), "
            f"{str(folder) + '-default'!r}, space={space.name!r}"
            + (f", num_classes={classes}" if classes != latency_network(space)["num_classes"] else "") + ")")
    return (f"To deploy the network the latency describes, export its default build, untrained (to be trained; "
            f"`gennas design --export` has no option for it), e.g. rank {rank}: {call}")


def untrained_build(history: Sequence[Any], storage: str | None, study: str | None) -> dict[str, Any] | None:
    """How the untrained designs of an export are built (export options, :func:`gennas.export.
    study_build`): as the study's evaluator built the networks it trained, from its results and
    recorded settings; {} without a study or where nothing was trained; None where it is unknown."""
    from gennas.export import study_build
    from gennas.search.studies import study_settings

    if study is None:
        return {}
    return study_build(history, study_settings(storage, study))


def rank_list(ranks: Sequence[int]) -> str:
    """``ranks`` as runs: [1, 2, 3, 5] -> "ranks 1-3, 5"; [4] -> "rank 4"."""
    runs: list[list[int]] = []
    for r in sorted(ranks):
        if runs and r == runs[-1][-1] + 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    text = ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else f"{run[0]}" for run in runs)
    return f"rank{'s' * (len(ranks) > 1)} {text}"


def holds(ranks: Sequence[int]) -> str:
    """The verb after :func:`rank_list`."""
    return "holds" if len(ranks) == 1 else "hold"


def describe_build(build: dict[str, Any], classes: int, default_side: int) -> str:
    """A build as a reader checks it against their images: "1x16x16 inputs, 10 classes, channels 8"
    (``build``: export options; {}: the space's default, 3 channels at ``default_side`` pixels)."""
    channels, side = build.get("in_channels", 3), build.get("input_size", default_side)
    options = [f"{k} {v}" for k, v in build.items() if k not in ("num_classes", "in_channels", "input_size", "inputs")]
    return ", ".join([f"{channels}x{side}x{side} inputs", f"{classes} classes"] + (options or ["the full build"]))


def export_note(trained: dict[int, bool], build: dict[str, Any] | None, classes: int, seed: int | None,
                default_side: int) -> str | None:
    """One line saying which exported ranks hold the weights the study trained and how the others,
    untrained, were built: the study's build, or the space's default where it cannot be known
    (the table said "(initial weights)" beside a rank of another input than the rest).
    None where the study trained nothing (every rank is an initial build, as it says)."""
    fresh = [rank for rank, kept in trained.items() if not kept]
    if not fresh or build == {}:
        return None
    held = [rank for rank, kept in trained.items() if kept]
    done = f"{rank_list(held)} {holds(held)} the weights the study trained; " if held else ""
    drawn = f"initial weights (seed {seed})" if seed is not None else "initial weights"
    if build is None:
        default = describe_build({}, classes, default_side)
        return (f"{done}{rank_list(fresh)} {holds(fresh)} {drawn} of the space's default build ({default}): "
                "the study's results were trained, but how its evaluator built them is not recorded (or differs "
                "between results), so these may not take the task's images")
    return (f"{done}{rank_list(fresh)} {holds(fresh)} {drawn}, untrained, of the network the study trained "
            f"({describe_build(build, classes, default_side)})"
            + ("; build.json's 'inputs' says how its images were prepared" if "inputs" in build else ""))
