"""Data too thin for a training's scores to rank architectures: said when the evaluator is made.

A user walk (52) trained on 1 validation image (scores 0 or 100 %), on a training set of one
class (100 % for every network), and through ``--limit 20`` on 4 validation images (steps of
25 points): each printed a best with no remark. Not refused: a quick smoke run on a few images is
a fair use, and only the user knows whether the scores are meant to rank anything.
"""

from __future__ import annotations

import warnings

import torch

from gennas.errors import GennasWarning, caller_stacklevel

#: fewer validation images than this are warned of: a score moves in steps of 100 / n %
MIN_VALIDATION_IMAGES = 50


def warn_thin_data(val_images: int | None, train_labels: torch.Tensor, every_label: bool,
                   classes_given: bool = False) -> None:
    """Warn where ``val_images`` (None: unknown) is under :data:`MIN_VALIDATION_IMAGES`, or
    ``train_labels`` (``every_label``: all of the training set's, else only some) hold one class,
    or, with the classes counted from them (not ``classes_given``), skip some below their largest:
    labels 0-2 and a stray 7 made an 8-class network without a word (user walk 52)."""
    if val_images is not None and 0 < val_images < MIN_VALIDATION_IMAGES:
        warnings.warn(f"the validation data holds {val_images} image{'s' * (val_images != 1)}: a score moves in "
                      f"steps of {100 / val_images:.3g} %, and architectures a few steps apart are not told apart "
                      f"({MIN_VALIDATION_IMAGES} or more make a ranking)", GennasWarning,
                      stacklevel=caller_stacklevel())
    classes = torch.unique(train_labels)
    if every_label and len(classes) == 1:
        warnings.warn(f"every training label is class {int(classes[0])}: any network learns to answer it always, "
                      "so a score says nothing of its architecture", GennasWarning, stacklevel=caller_stacklevel())
    missing = sorted(set(range(int(classes.max()) + 1)) - {int(c) for c in classes}) if len(classes) else []
    if every_label and missing and not classes_given:
        shown = ", ".join(map(str, missing[:8])) + (", ..." if len(missing) > 8 else "")
        warnings.warn(f"the training labels skip class{'es' * (len(missing) > 1)} {shown} below their largest, "
                      f"{int(classes.max())}: the network gets {int(classes.max()) + 1} outputs, {len(missing)} never "
                      "trained (number the classes 0..K-1, or give num_classes to mean it)", GennasWarning,
                      stacklevel=caller_stacklevel())
