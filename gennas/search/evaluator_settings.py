"""What an evaluator's scores mean, read off its public attributes before a search verifies anything.

A study records these settings (:func:`evaluator_settings`) beside its method, task and seed, and
:meth:`gennas.search.storage.ResultStore.open` compares them on resume: a study of 2-epoch
trainings resumed in Python with a 1-epoch, 8-channel TrainEvaluator was accepted and stored
16.67 % beside 73-87 %, where the CLI refused another ``--epochs``.
:func:`check_evaluator_space` refuses an evaluator of another space before its first
verification (each one failed and spent the budget).
"""

from __future__ import annotations

import warnings
from typing import Any

from gennas.errors import GennasError, GennasWarning, caller_stacklevel

#: evaluator attributes recorded as they are (a TrainEvaluator's, a SupernetEvaluator's, a ProxyEvaluator's);
#: ``inputs``, how a TrainEvaluator's images were prepared, lets an export build an untrained design as it
#: built the ones it trained (:func:`gennas.export.study_build`)
ATTRIBUTES = ("epochs", "lr", "build_options", "input_shape", "in_channels", "num_classes", "inputs", "momentum",
              "weight_decay", "grad_clip", "bn_batches")
#: study settings counting the images of an evaluator's loaders, where their dataset has a length
SAMPLE_COUNTS = {"train_samples": "train_loader", "val_samples": "val_loader"}
#: study setting with the keys of a TrainEvaluator's data (gennas.evaluators.data_key): a resume on other
#: images of the same shape and count mixed two datasets' scores in one study (user walk 52)
DATA_KEYS = "data_keys"
#: every study setting :func:`evaluator_settings` may record (part of ``study_record.SETTINGS``)
EVALUATOR_SETTINGS = ATTRIBUTES + tuple(SAMPLE_COUNTS) + (DATA_KEYS,)


def evaluator_settings(evaluator: Any) -> dict[str, Any]:
    """The settings that give ``evaluator``'s scores their meaning, as JSON values: epochs, peak
    learning rate and the optimiser's other settings, build options, input shape (or channels),
    classes, how its images were prepared (``inputs``), how many training and validation images its
    loaders hold and, where they can be indexed, the keys of their data. Attributes it lacks (a
    callable, a table) are left out: a setting missing from a study, or from this run, is never
    taken as a change."""
    out: dict[str, Any] = {}
    for name in ATTRIBUTES:
        value = getattr(evaluator, name, None)
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, (bool, int, float, str, list, dict)):  # None, methods and objects: not a setting
            out[name] = value
    done = getattr(evaluator, "epochs_done", None)  # a supernet's: the epochs it was trained for so far
    if "epochs" not in out and isinstance(done, int) and not isinstance(done, bool):
        out["epochs"] = done
    if "input_shape" not in out:  # a proxy's images: one batch (images, labels)
        batches: Any = getattr(evaluator, "batches", None)  # any evaluator's: read as it comes
        try:
            out["input_shape"] = [int(n) for n in batches[0][0].shape[1:]]
        except (TypeError, IndexError, AttributeError, KeyError):
            pass
    for name, attr in SAMPLE_COUNTS.items():
        count = images_in(getattr(evaluator, attr, None))
        if count is not None:
            out[name] = count
    keys = getattr(evaluator, DATA_KEYS, None)
    if isinstance(keys, dict) and all(name in out for name in SAMPLE_COUNTS):  # indexed: the same in every process
        out[DATA_KEYS] = dict(keys)
    return out


def images_in(loader: Any) -> int | None:
    """How many images ``loader``'s dataset holds; None without a loader, or for a dataset of no
    length (an iterable dataset)."""
    try:
        return int(len(loader.dataset))
    except (TypeError, AttributeError):
        return None


def check_evaluator_space(evaluator: Any, space_name: str) -> None:
    """Raise GennasError when ``evaluator`` declares a search space (``.space``, a SearchSpace or its
    name) other than ``space_name``: every architecture would fail to verify and spend the budget."""
    declared = getattr(evaluator, "space", None)
    name = getattr(declared, "name", declared)
    if isinstance(name, str) and name != space_name:
        raise GennasError(f"the evaluator ({type(evaluator).__name__}) is for space {name!r}, and this search "
                          f"verifies {space_name!r} architectures: make the evaluator for {space_name!r} "
                          f"(e.g. TrainEvaluator({space_name!r}, ...)); nothing was verified")


class WeightsNotKept(GennasWarning):
    """An evaluator asked to keep its trained weights (``keep_weights=True``) has nowhere to keep
    them: it has no ``checkpoint_dir`` and the search no work folder (in-memory storage)."""


def warn_weights_not_kept(evaluator: Any) -> None:
    """Warn (:class:`WeightsNotKept`) when ``evaluator`` keeps weights but has no folder for them,
    once the search has given it the study's work folder where it could: without one each trained
    network was dropped, and an export of the best was a fresh, untrained network."""
    if getattr(evaluator, "keep_weights", False) and getattr(evaluator, "checkpoint_dir", "") is None:
        warnings.warn(f"{type(evaluator).__name__}(keep_weights=True) has nowhere to keep the trained weights: it has "
                      "no checkpoint_dir and the search no work folder to give it (it stores in memory, or beside "
                      "a folder that cannot be written), so no trained network is kept and an export is freshly "
                      "initialised; store the search (storage='sqlite:///run.db') "
                      "or pass checkpoint_dir=...", WeightsNotKept, stacklevel=caller_stacklevel())


#: evaluator kinds whose scores come from training in this process: torch's thread count changes
#: them in the last bits, and so which cells a seeded search verifies next
TRAINING_KINDS = ("train", "supernet")


class OtherThreads(GennasWarning):
    """A resumed study of trained scores was verified with another torch thread count than this
    run's: the scores verified from now on do not match an uninterrupted run's bit for bit."""


def run_settings(evaluator: Any, executor: Any, batch_size: int) -> dict[str, Any]:
    """The settings of a search in this process (``executor`` local or None) that a study records:
    the batch size, which decides the architectures a seeded search asks together (a resume with
    another verified other cells), and, where the evaluator trains, the torch threads it trains
    with. {} for Ray or another executor: batches are asked as its workers free up, in their threads."""
    if executor not in (None, "local"):
        return {}
    out: dict[str, Any] = {"batch_size": int(batch_size)}
    if getattr(evaluator, "kind", None) in TRAINING_KINDS:
        out["threads"] = training_threads(evaluator)
    return out


def warn_other_threads(old: dict[str, Any], new: dict[str, Any], study_name: str) -> None:
    """Warn (:class:`OtherThreads`, not refused: a resume on another machine is legitimate) when a
    study that recorded its training threads (``old``) is resumed with others (``new``)."""
    before, now = old.get("threads"), new.get("threads")
    if before is None or now is None or before == now:
        return
    warnings.warn(f"study {study_name!r} was last verified with {before} torch thread{'s' * (before != 1)} and "
                  f"this run trains with {now} (--threads, threads=): scores verified from now on will not match "
                  "an uninterrupted run's bit for bit", OtherThreads, stacklevel=caller_stacklevel())


def training_threads(evaluator: Any) -> int:
    """The torch threads ``evaluator`` trains with, as its own methods take them: its ``threads``,
    or the ones an outer call chose (``--threads``, ``Designer(threads=...)``; :mod:`gennas.threads`)."""
    import torch

    from gennas.threads import with_own_threads  # imports torch: not where a study is only read

    class Probe:
        threads = getattr(evaluator, "threads", None)

        @with_own_threads
        def count(self) -> int:
            return int(torch.get_num_threads())

    return Probe().count()
