"""Task descriptions that condition the performance predictor.

A :class:`Task` is one of three kinds:

* ``named``: a benchmark dataset the predictor was trained on (``Task.named("cifar10")``);
* ``images``: a new dataset described by a sample of its images (``Task.from_images(x, y)``),
  summarised by a *fixed* feature extractor and set pooling, as MetaD2A/DiffusionNAG do;
* ``samples``: a new dataset described by a few verified ``(arch, score)`` pairs
  (``Task.from_samples(pairs)``); the predictor fits a task embedding to them.

Why a random-but-seeded extractor: the descriptor must be identical on every machine, need no
download and no shipped weights, and must not be tuned on the tasks it will be evaluated on.
A fixed random convolutional network keeps much of the local shape and texture statistics of
images (Jarrett et al. 2009; Saxe et al. 2011: random-weight conv features are surprisingly
discriminative), and what it misses is learned downstream: the predictor maps the pooled
descriptor to a task embedding with weights trained on the meta-dataset of
``experiments/meta_dataset.py``.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from gennas.errors import GennasError, UnknownDataset, unknown
from gennas.graph import ArchGraph
from gennas.images import check_images

#: image side the extractor works at (the meta-dataset's tasks are 16x16)
IMAGE_SIZE = 16
#: per-image feature width of the fixed extractor
FEATURE_DIM = 64
#: length of :attr:`Task.descriptor`: class-mean centre, between-class spread, within-class
#: spread (FEATURE_DIM each), log #classes, labels-known flag
DESCRIPTOR_DIM = 3 * FEATURE_DIM + 2
#: at most this many images are embedded (seeded subsample): enough for stable statistics
MAX_IMAGES = 512
#: fewest images a task is described by: the descriptor's statistics are those of up to 512 images
#: (the meta-tasks'), and from fewer the predictions move (``python experiments/image_task_size.py``:
#: mean |difference| from 512 images over 300 nb201 cells, 3 subsamples: 64 images 2.2 / 11.9 points
#: on digits / mnist, 128 1.2 / 2.8; from 2 images up to 126-129 %)
MIN_IMAGES = 128


@functools.lru_cache(maxsize=1)
def _extractor() -> nn.Module:
    """The fixed random feature extractor: 1x16x16 -> (FEATURE_DIM,), seed 0, never trained."""
    g = torch.Generator().manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, FEATURE_DIM, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )
    with torch.no_grad():
        for p in net.parameters():  # explicit seeded init: independent of torch's global RNG
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * math.sqrt(2.0 / fan_in))
            else:
                p.zero_()
    return net.eval()


def image_features(images: torch.Tensor) -> torch.Tensor:
    """Fixed features of images ``(N, C, H, W)`` (any C, H, W) -> float32 ``(N, FEATURE_DIM)``.

    Images are averaged to grey, resized to ``IMAGE_SIZE`` and standardised per image, so the
    descriptor reflects content rather than resolution, colour depth or pixel scale.
    """
    x = check_images(images).float().mean(dim=1, keepdim=True)
    if not torch.isfinite(x).all():
        raise GennasError("images contain NaN or infinite values")
    x = nn.functional.interpolate(x, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False)
    flat = x.flatten(1)
    x = ((flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp_min(1e-6)).view_as(x)
    with torch.no_grad():
        return _extractor()(x)


def describe(features: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Set pooling of per-image features ``(N, F)`` into a descriptor ``(DESCRIPTOR_DIM,)``.

    With labels: the mean of class means, their spread across classes, the mean within-class
    spread and log #classes (separability and class count drive how hard a task is). Without
    labels the whole sample counts as one class and the flag says so.
    """
    if labels is None:
        groups = [features]
    else:
        groups = [features[labels == c] for c in torch.unique(labels)]
    means = torch.stack([g.mean(0) for g in groups])
    within = torch.stack([g.std(0, unbiased=False) for g in groups]).mean(0)
    between = means.std(0, unbiased=False) if len(groups) > 1 else torch.zeros_like(within)
    extra = torch.tensor([math.log(len(groups)), float(labels is not None)])
    return torch.cat([means.mean(0), between, within, extra]).float()


def _tensor(value: Any, what: str) -> torch.Tensor:
    """``value`` as a tensor, or a :class:`GennasError` naming ``what`` it should have been."""
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        raise GennasError(f"{what} must be numbers (a tensor or array), got {type(value).__name__}") from None


def _collect(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images (and labels) from a tensor or array, or from an iterable of ``(x, y)`` / ``x`` batches."""
    if isinstance(images, (str, bytes)) or not (isinstance(images, torch.Tensor) or hasattr(images, "__iter__")):
        raise GennasError(f"images must be an (N, C, H, W) tensor or array, or a loader of (x, y) batches; got "
                          f"{type(images).__name__}")
    if (isinstance(images, (tuple, list)) and len(images) == 2 and labels is None
            and all(isinstance(v, (torch.Tensor, np.ndarray)) for v in images) and np.ndim(images[0]) == 4):
        # one (images, labels) pair, as a loader's batch: it was read as two batches ("images of
        # different shapes ((), (1, 16, 16))")
        images, labels = images
    if isinstance(images, (torch.Tensor, np.ndarray)):  # an array is one tensor, not an iterable of images
        return _tensor(images, "images"), None if labels is None else _tensor(labels, "labels")
    if labels is not None:
        raise GennasError("pass labels only with an images tensor; a loader yields its own")
    xs, ys = [], []
    count = 0
    for batch in images:
        x, y = (batch[0], batch[1]) if isinstance(batch, (tuple, list)) and len(batch) == 2 else (batch, None)
        xs.append(_tensor(x, "a batch of images"))
        if xs[-1].dim() == 0:  # a list of numbers: torch's "len() of a 0-d tensor" named nothing
            raise GennasError(f"images must be an (N, C, H, W) tensor or array, or a loader of (x, y) batches; got "
                              f"a {type(images).__name__} of {type(x).__name__}")
        if y is not None:
            ys.append(_tensor(y, "a batch of labels"))
        count += len(xs[-1])
        if count >= MAX_IMAGES * 4:  # enough for a subsample; never read a whole large dataset
            break
    if not xs:
        raise GennasError("the image loader yielded no batches")
    shapes = sorted({tuple(x.shape[1:]) for x in xs})
    if len(shapes) > 1:  # torch.cat's "Sizes of tensors must match" named neither the loader nor the sizes
        raise GennasError(f"the image loader's batches hold images of different shapes ({', '.join(map(str, shapes[:3]))}"
                          f"{' ...' if len(shapes) > 3 else ''}): resize them to one size (C, H, W) first")
    return torch.cat(xs), (torch.cat(ys) if len(ys) == len(xs) else None)


@dataclass(frozen=True, eq=False)
class Task:
    """What the predictor should predict accuracy *for*.

    Attributes:
        kind: ``"named"``, ``"images"`` or ``"samples"``.
        name: dataset name (named tasks) or a short content hash.
        descriptor: float32 ``(DESCRIPTOR_DIM,)`` for image tasks, else None.
        samples: ``(arch, score)`` pairs for sample tasks (score in %), else empty.
    """

    kind: str
    name: str = ""  # a default only so that Task("cifar100") reaches __post_init__'s message
    descriptor: torch.Tensor | None = None
    samples: tuple[tuple[ArchGraph | str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in ("named", "images", "samples") or not self.name:
            # Task("cifar100") was a raw TypeError ("missing 1 required positional argument: 'name'")
            raise GennasError(f"Task({self.kind!r}{', ' + repr(self.name) if self.name else ''}): a task is made by "
                              f"Task.named / Task.of (a dataset name: Task.of({self.kind!r}), or the name itself "
                              "where a task goes), Task.from_images or Task.from_samples")

    # ------------------------------------------------------------ constructors
    @classmethod
    def named(cls, name: str, known: Sequence[str] | None = None) -> Task:
        """A benchmark dataset by name; ``known`` defaults to the bundled nb201 datasets."""
        if known is None:
            from gennas.bench import load_benchmark

            known = load_benchmark("nb201").datasets
        if not isinstance(name, str) or name not in known:
            raise UnknownDataset(unknown("task", name, list(known)))
        return cls("named", name)

    @classmethod
    def from_images(cls, images: Any, labels: Any = None, seed: int = 0) -> Task:
        """A task described by its images.

        Args:
            images: tensor or numpy array ``(N, C, H, W)``, channels first (a channels-last
                ``(N, H, W, C)`` one is refused), or a DataLoader/iterable of ``(x, y)`` batches.
            labels: int tensor ``(N,)`` with a tensor of images (optional; improves the descriptor).
            seed: picks the subsample of at most ``MAX_IMAGES`` images.

        At least ``MIN_IMAGES`` (128) images: fewer describe the task too loosely.
        """
        x, y = _collect(images, labels)
        check_images(x)  # before the count below: a channels-last or grey batch is named first
        if y is not None and (y.dim() != 1 or len(y) != len(x)):
            raise GennasError(f"labels must have shape ({len(x)},), got {tuple(y.shape)}")
        if len(x) < MIN_IMAGES:
            raise GennasError(f"Task.from_images needs at least {MIN_IMAGES} images, got {len(x)}: a smaller sample "
                              "describes the task too loosely (with 64 the predictions moved by up to 12 points); "
                              "with fewer, name the task (ranks only) or describe it by verified samples")
        if len(x) > MAX_IMAGES:
            keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:MAX_IMAGES]
            x, y = x[keep], (None if y is None else y[keep])
        desc = describe(image_features(x), y)
        digest = hashlib.sha1(desc.numpy().tobytes()).hexdigest()[:10]
        return cls("images", f"images:{digest}", descriptor=desc)

    @classmethod
    def from_dataset(cls, name: str, classes: Sequence[int] | None = None, seed: int = 0) -> Task:
        """An image task from a dataset bundled with gennas (``"mnist"``, ``"digits"``)."""
        from gennas.datasets import load_images

        x, y = load_images(name, classes=classes, size=IMAGE_SIZE)
        return cls.from_images(x, y, seed=seed)

    @classmethod
    def from_samples(cls, samples: Iterable[tuple[ArchGraph | str, float]]) -> Task:
        """A task described by verified ``(arch, score)`` pairs (at least one, finite scores; in %
        for accuracies): the predictor fits the task to them from 3 distinct scores on, and ranks
        fewer as its mean named task does (one sample says nothing of a ranking); designs state
        accuracies from 10 distinct scores (fewer: the rank only), within the samples' range."""
        pairs = tuple(samples)
        if not pairs:
            raise GennasError("Task.from_samples needs at least one (arch, score) pair")
        clean = []
        for item in pairs:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise GennasError(f"each sample must be an (arch, score) pair, got {item!r}")
            arch, score = item
            if not isinstance(arch, (ArchGraph, str)):
                raise GennasError(f"sample architecture must be an ArchGraph or string, got {type(arch).__name__}")
            try:
                value = float(score)
            except (TypeError, ValueError):
                raise GennasError(f"sample score must be a number, got {score!r}") from None
            if not np.isfinite(value):
                raise GennasError(f"sample score must be finite, got {score!r}")
            clean.append((arch, value))
        text = "|".join(f"{a}={s:.6g}" for a, s in clean)
        return cls("samples", f"samples:{hashlib.sha1(text.encode()).hexdigest()[:10]}", samples=tuple(clean))

    @classmethod
    def of(cls, task: Task | str | None) -> Task | None:
        """The API boundary's coercion: a Task as is, any dataset name as a named task (known to a
        predictor or not: a search can learn a new one), None as None."""
        if task is None or isinstance(task, Task):
            return task
        if isinstance(task, str) and task.strip():
            return cls("named", task.strip())
        raise GennasError(f"task must be a Task, a dataset name or None, got {task!r}")

    def to_record(self, negate_samples: bool = False) -> dict[str, Any]:
        """JSON-ready description (kind, name, image descriptor, samples as ``[arch string, score]``),
        stored with a designer search so :meth:`gennas.Designer.from_study` describes the task
        again; ``negate_samples`` records the scores the user gave where the designer negated them."""
        sign = -1.0 if negate_samples else 1.0
        return {"kind": self.kind, "name": self.name,
                "descriptor": None if self.descriptor is None else [float(v) for v in self.descriptor],
                "samples": [[str(a), sign * float(s)] for a, s in self.samples]}

    @classmethod
    def from_record(cls, record: Any) -> Task:
        """The task :meth:`to_record` described (a GennasError for anything else)."""
        try:
            kind, name = record["kind"], str(record["name"])
            if kind == "samples":
                return cls.from_samples((a, s) for a, s in record["samples"])
            if kind == "images":
                descriptor = torch.tensor([float(v) for v in record["descriptor"]], dtype=torch.float32)
                if descriptor.shape != (DESCRIPTOR_DIM,):
                    raise ValueError(f"descriptor of {len(descriptor)} values")
                return cls("images", name, descriptor=descriptor)
            return cls("named", name)
        except (KeyError, TypeError, ValueError) as exc:
            raise GennasError(f"not a stored task description ({exc}): {str(record)[:80]}") from None

    def __repr__(self) -> str:
        extra = f", {len(self.samples)} samples" if self.samples else ""
        return f"Task({self.kind}: {self.name}{extra})"
