"""The pretrained predictors shipped in ``checkpoints/``: where each lives and how to load it."""

from __future__ import annotations

import warnings
from pathlib import Path

from gennas.errors import GennasError, UnknownDataset, unknown
from gennas.resources import checkpoints_dir
from gennas.spaces import SearchSpace
from gennas.surrogates.predictor import Predictor


def checkpoint_path(name: str = "nb201", holdout: str | None = None) -> Path:
    """Where the pretrained predictor for ``name`` (optionally without ``holdout``'s labels) lives."""
    suffix = f"_no-{holdout}" if holdout else ""
    return checkpoints_dir() / f"predictor_{name}{suffix}.pt"


def load_predictor(space: SearchSpace | str = "nb201", holdout: str | None = None, backend: str = "pyg",
                   *, name: str | None = None) -> Predictor:
    """The pretrained predictor of ``space`` (a SearchSpace or its name) from ``checkpoints/``.

    ``holdout="cifar10"`` (or ``"cifar100"``) gives the variant pretrained without that
    dataset's labels, for honest transfer experiments. ``name=`` is the old name of ``space``
    (as :func:`gennas.load_generator` and :func:`gennas.load_latency_estimator` call it).
    """
    if name is not None:
        warnings.warn("load_predictor(name=...) is now load_predictor(space=...)", DeprecationWarning, stacklevel=2)
        space = name
    name = space.name if isinstance(space, SearchSpace) else str(space)
    if holdout not in (None, "cifar10", "cifar100"):
        raise UnknownDataset(unknown("holdout dataset", holdout, ["cifar10", "cifar100"]))
    path = checkpoint_path(name, holdout)
    if holdout is not None and not path.is_file() and checkpoint_path(name).is_file():
        # mbv3 was told to train a variant from nb201's manifests
        shipped = sorted(p.name for p in path.parent.glob("predictor_*_no-*.pt"))
        raise GennasError(f"no {name} predictor is shipped without {holdout}'s labels: held-out variants exist for "
                          f"{', '.join(shipped) or 'no space'} (the spaces with several bundled accuracy tables)")
    if not path.is_file():
        raise GennasError(f"no pretrained predictor {path.name} in {path.parent}; train it with its manifest's "
                          "command (checkpoints/predictor_nb201*.json, `python experiments/train_predictor.py --help`)")
    predictor = Predictor.load(path, space=name, backend=backend)
    # what a designer search records it started from, so a designer rebuilt from the study loads it
    # again (rebuilt with the default predictor, a search on cifar100 held out designed with one
    # that had seen cifar100's labels)
    predictor.origin = "shipped" if holdout is None else f"shipped-no-{holdout}"
    return predictor
