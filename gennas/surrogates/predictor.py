"""Task-conditioned GNN performance predictor: an ensemble of DAG encoders with a FiLM head.

Each ensemble member embeds an architecture with :class:`gennas.models.gnn.DAGEncoder` (or its DGL
twin), modulates the embedding by a task vector (FiLM: ``e * (1 + gamma(t)) + beta(t)``) and
regresses the task's *standardised* score. Members differ only by their initialisation; their
mean is the prediction and their spread the uncertainty. Training minimises regression error
plus a pairwise logistic ranking loss within each task (the ranking is what a search uses).

Task vectors come from (see :class:`gennas.surrogates.task.Task`): a learned embedding per named task; a
learned linear map of an image-set descriptor (meta-trained on image tasks); or, for a task
given by a few ``(arch, score)`` pairs, an embedding fitted to those pairs with the network
frozen. Scores are predicted in the task's units (accuracy %) through a per-task affine map.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gennas.errors import GennasError, UnknownDataset, unknown
from gennas.models.gnn import DAGEncoder, EncoderConfig, archs_to_node_features, slot_probs_to_node_features
from gennas.graph import ArchGraph
from gennas.resources import checkpoints_dir
from gennas.spaces import SearchSpace, resolve_space
from gennas.surrogates.task import DESCRIPTOR_DIM, Task

ArchLike = ArchGraph | str
FORMAT = "gennas.predictor/1"


def _adamw(params: list[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, fused where this torch supports it: the ensemble has ~160 small tensors, and the
    per-tensor loop of the default CPU implementation took a quarter of a search's time."""
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch: no fused CPU kernel
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


@dataclass
class PredictorConfig:
    """Model size and training schedule (steps are optimiser steps over task batches)."""

    hidden: int = 32
    layers: int = 3
    dropout: float = 0.0
    members: int = 3
    task_dim: int = 8
    steps: int = 300
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    rank_weight: float = 1.0
    #: emphasis of the ranking loss on the best architectures (0: all pairs equal), see _rank_loss
    top_weight: float = 0.0
    update_steps: int = 20
    sample_steps: int = 60
    #: finite spaces: add up to this many functionally equivalent cells per training row
    augment: int = 8
    #: finite spaces: predict every cell through its equivalence class's representative
    canonical: bool = True


class _Member(nn.Module):
    """Encoder + FiLM head. ``forward(x (B, N, V), t (task_dim,)) -> (B,)`` standardised score."""

    def __init__(self, space: SearchSpace, cfg: PredictorConfig, backend: str) -> None:
        super().__init__()
        enc_cfg = EncoderConfig(cfg.hidden, cfg.layers, cfg.dropout)
        if backend == "dgl":
            from gennas.models.gnn_dgl import DGLDAGEncoder

            self.encoder: nn.Module = DGLDAGEncoder(len(space.node_vocab), space.num_nodes, enc_cfg)
        else:
            self.encoder = DAGEncoder(len(space.node_vocab), space.num_nodes, enc_cfg)
        d = self.encoder.out_dim
        self.film = nn.Linear(cfg.task_dim, 2 * d)
        nn.init.zeros_(self.film.weight)  # start as plain regression; tasks then learn to modulate
        nn.init.zeros_(self.film.bias)
        self.head = nn.Sequential(nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))
        self.task_emb = nn.Parameter(torch.zeros(0, cfg.task_dim))  # one row per named task
        self.image_task = nn.Linear(DESCRIPTOR_DIM, cfg.task_dim)

    def forward(self, space: SearchSpace, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = self.encoder.encode_features(space, x)
        gamma, beta = self.film(t).chunk(2, dim=-1)
        return self.head(e * (1 + gamma) + beta).squeeze(-1)


@functools.lru_cache(maxsize=4)
def _equivalence(space_name: str) -> tuple[dict[str, int], list[list[str]]]:
    """Functional equivalence classes of a finite space: string -> class id, class -> strings.

    Cells that compute the same function (``canonical_hash(functional=True)``) must score
    the same, so training rows are augmented with their equivalents and predictions go
    through one representative per class (about 0.6 s once for nb201's 15,625 cells).
    """
    from gennas.spaces import load_space

    space = load_space(space_name)
    ids: dict[str, int] = {}
    members: list[list[str]] = []
    by_hash: dict[str, int] = {}
    for arch in space.enumerate():
        key = arch.canonical_hash(functional=True)
        cid = by_hash.setdefault(key, len(members))
        if cid == len(members):
            members.append([])
        text = space.to_string(arch)
        ids[text] = cid
        members[cid].append(text)
    return ids, members


def _rank_loss(pred: torch.Tensor, target: torch.Tensor, top_weight: float = 0.0) -> torch.Tensor:
    """Pairwise logistic loss over all ordered pairs whose targets differ (RankNet).

    ``top_weight`` > 0 weighs a pair by ``exp(top_weight * target of its better member)``
    (targets are standardised scores), so mistakes among the best architectures, the ones a
    search verifies first, cost more than mistakes in the bulk.
    """
    diff_t = target[:, None] - target[None, :]
    mask = diff_t > 1e-6
    if not mask.any():
        return pred.sum() * 0.0
    losses = nn.functional.softplus(-(pred[:, None] - pred[None, :])[mask])
    if top_weight <= 0:
        return losses.mean()
    weights = torch.exp(top_weight * target.clamp(max=4.0))[:, None].expand_as(diff_t)[mask]
    return (weights * losses).sum() / weights.sum()


@dataclass
class _Group:
    """Training rows of one task: node features ``(n, N, V)``, standardised targets ``(n,)``."""

    task: Task
    x: torch.Tensor
    z: torch.Tensor


class Predictor:
    """Ensemble GNN accuracy predictor for one search space.

    ``fit(archs, scores, task)`` trains from scratch, ``update`` refits warm, ``predict`` gives
    ``(mean, std)`` in score units, ``predict_soft`` the same for relaxed architectures as
    differentiable tensors.
    """

    def __init__(self, space: SearchSpace | str, config: PredictorConfig | None = None,
                 backend: str = "pyg", seed: int = 0) -> None:
        if backend not in ("pyg", "dgl"):
            raise GennasError(unknown("predictor backend", backend, ["pyg", "dgl"]))
        self.space = resolve_space(space)
        self.config = config or PredictorConfig()
        self.backend = backend
        self.seed = seed
        self.tasks: list[str] = []                       # named tasks, rows of task_emb
        self.scales: dict[str, tuple[float, float]] = {}  # task name -> (mean, std) of its scores
        self.default_task: str | None = None
        self.desc_mean = torch.zeros(DESCRIPTOR_DIM)
        self.desc_std = torch.ones(DESCRIPTOR_DIM)
        self.image_scale: torch.Tensor | None = None      # ridge map descriptor -> (mean, log std)
        self._buffers: dict[str, dict[str, tuple[Task, float]]] = {}  # update() memory per task
        self._update_scaled: set[str] = set()  # tasks whose score scale comes from update()
        self._sample_cache: dict[str, tuple[list[torch.Tensor], float, float]] = {}
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
            torch.manual_seed(seed)
            self.members = nn.ModuleList(_Member(self.space, self.config, backend) for _ in range(self.config.members))

    @property
    def is_trained(self) -> bool:
        """False for a predictor that was never fitted (a from-scratch search starts so)."""
        return bool(self.tasks) or self.image_scale is not None

    # ------------------------------------------------------------ data handling
    def _parse(self, archs: Sequence[ArchLike]) -> list[ArchGraph]:
        if isinstance(archs, (str, ArchGraph)) or len(archs) == 0:
            raise GennasError("archs must be a non-empty list of architectures")
        return [self.space.parse(a) for a in archs]

    def _features(self, archs: Sequence[ArchLike], canonical: bool = False) -> torch.Tensor:
        """One-hot node features ``(B, N, V)``; ``canonical``: of each class's representative."""
        parsed = self._parse(archs)
        if canonical and self.config.canonical and self.space.is_finite_enumerable():
            ids, members = _equivalence(self.space.name)
            parsed = [self.space.from_string(members[ids[self.space.to_string(a)]][0]) for a in parsed]
        return archs_to_node_features(self.space, parsed)

    def _augmented(self, archs: list[ArchGraph], y: np.ndarray) -> tuple[list[ArchGraph], np.ndarray]:
        """Training rows plus up to ``config.augment`` functional equivalents each (same score)."""
        k = self.config.augment
        if k <= 0 or not self.space.is_finite_enumerable():
            return archs, y
        ids, members = _equivalence(self.space.name)
        rng = np.random.default_rng(self.seed)
        out, scores = list(archs), list(y)
        for arch, score in zip(archs, y):
            text = self.space.to_string(arch)
            others = [m for m in members[ids[text]] if m != text]
            for j in rng.permutation(len(others))[:k]:
                out.append(self.space.from_string(others[j]))
                scores.append(score)
        return out, np.asarray(scores)

    @staticmethod
    def _scores(scores: Sequence[float], n: int) -> np.ndarray:
        y = np.asarray(scores, dtype=np.float64).reshape(-1)
        if len(y) != n:
            raise GennasError(f"got {n} architectures but {len(y)} scores")
        if not np.isfinite(y).all():
            raise GennasError("scores contain NaN or infinite values")
        return y

    def _as_task(self, task: Task | str | None, registering: bool = False) -> Task:
        if task is None:
            if self.default_task is None:
                return Task("named", "default")
            return Task("named", self.default_task)
        if isinstance(task, str):
            known = self.tasks if not registering else None
            if known is not None and task not in known:
                raise UnknownDataset(unknown("task", task, self.tasks) + " (this predictor was not trained on it)")
            return Task("named", task)
        if isinstance(task, Task):
            return task
        raise GennasError(f"task must be a Task, a dataset name or None, got {type(task).__name__}")

    def _register(self, name: str) -> int:
        """Row of a named task in every member's embedding table (a new row starts at the mean)."""
        if name in self.tasks:
            return self.tasks.index(name)
        for m in self.members:
            old = m.task_emb.data
            init = old.mean(0, keepdim=True) if len(old) else torch.zeros(1, old.shape[1])
            m.task_emb = nn.Parameter(torch.cat([old, init]))
        self.tasks.append(name)
        if self.default_task is None:
            self.default_task = name
        return len(self.tasks) - 1

    def _descriptor(self, task: Task) -> torch.Tensor:
        return (task.descriptor - self.desc_mean) / self.desc_std

    def _vector(self, m: int, task: Task) -> torch.Tensor:
        """Task vector ``(task_dim,)`` of member ``m`` (named or image tasks)."""
        member = self.members[m]
        if task.kind == "images":
            return member.image_task(self._descriptor(task))
        return member.task_emb[self.tasks.index(task.name)]

    # ------------------------------------------------------------ training
    def fit(self, archs: Sequence[ArchLike], scores: Sequence[float], task: Task | str | None = None,
            steps: int | None = None) -> Predictor:
        """Train from scratch on one task (``None``: a task called ``default``). Returns self."""
        return self.fit_tasks([(task, archs, scores)], steps=steps)

    def fit_tasks(self, data: Sequence[tuple[Task | str | None, Sequence[ArchLike], Sequence[float]]],
                  steps: int | None = None) -> Predictor:
        """Train from scratch on several tasks: ``data`` is a list of ``(task, archs, scores)``."""
        fresh = Predictor(self.space, self.config, self.backend, self.seed)
        self.__dict__.update(fresh.__dict__)
        groups = [self._group(t, a, s, set_scale=True) for t, a, s in data]
        self._fit_image_maps(groups)
        self._train(groups, steps or self.config.steps)
        return self

    def update(self, archs: Sequence[ArchLike], scores: Sequence[float], task: Task | str | None = None,
               steps: int | None = None) -> Predictor:
        """Warm-started refit on new results of ``task``.

        Results passed to earlier ``update`` calls for the same task are remembered (the latest
        score of an architecture wins), so callers may pass only what is new. About 1-2 s on
        CPU for ~100 points with the default 20 steps.
        """
        y = self._scores(scores, len(self._parse(archs)))
        t = self._as_task(task, registering=True)
        key = t.name
        buffer = self._buffers.setdefault(key, {})
        for a, s in zip(archs, y):
            buffer[self.space.to_string(self.space.parse(a))] = (t, float(s))
        all_archs = list(buffer)
        all_scores = [s for _, s in buffer.values()]
        # keep a pretrained task's scale; a new one takes the scale of what has been seen so far
        own_scale = key not in self.scales or key in self._update_scaled
        if own_scale:
            self._update_scaled.add(key)
        group = self._group(t, all_archs, all_scores, set_scale=own_scale)
        self._sample_cache.clear()
        self._train([group], steps or self.config.update_steps)
        return self

    def _group(self, task: Task | str | None, archs: Sequence[ArchLike], scores: Sequence[float],
               set_scale: bool) -> _Group:
        parsed = self._parse(archs)
        y = self._scores(scores, len(parsed))
        t = self._as_task(task, registering=True)
        if t.kind == "samples":
            raise GennasError("a task given by samples is predicted, not trained on; fit with a task name instead")
        if t.kind == "named":
            self._register(t.name)
        if set_scale or t.name not in self.scales:
            std = float(y.std()) if len(y) > 1 and y.std() > 1e-6 else self._typical_std()
            self.scales[t.name] = (float(y.mean()), std)
        mu, sd = self.scales[t.name]
        rows, targets = self._augmented(parsed, y)
        return _Group(t, archs_to_node_features(self.space, rows), torch.tensor((targets - mu) / sd, dtype=torch.float32))

    def _typical_std(self) -> float:
        return float(np.mean([s for _, s in self.scales.values()])) if self.scales else 1.0

    def _fit_image_maps(self, groups: list[_Group]) -> None:
        """Descriptor standardisation and a ridge map descriptor -> (mean, log std) of scores."""
        image = [g for g in groups if g.task.kind == "images"]
        if not image:
            return
        d = torch.stack([g.task.descriptor for g in image])
        self.desc_mean, self.desc_std = d.mean(0), d.std(0, unbiased=False).clamp_min(1e-3)
        z = torch.cat([(d - self.desc_mean) / self.desc_std, torch.ones(len(d), 1)], dim=1).double()
        target = torch.tensor([[self.scales[g.task.name][0], np.log(self.scales[g.task.name][1])] for g in image],
                              dtype=torch.float64)
        ridge = 10.0 * torch.eye(z.shape[1], dtype=torch.float64)
        ridge[-1, -1] = 0.0  # the intercept is not shrunk
        self.image_scale = torch.linalg.solve(z.T @ z + ridge, z.T @ target).float()

    def _train(self, groups: list[_Group], steps: int) -> None:
        cfg = self.config
        params = [p for m in self.members for p in m.parameters()]
        opt = _adamw(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
        gen = torch.Generator().manual_seed(self.seed)
        # every row is equally likely: a 30-row meta task must not steer a 2,000-cell benchmark task
        weights = torch.tensor([float(len(g.z)) for g in groups])
        self.members.train()
        for _ in range(steps):
            g = groups[int(torch.multinomial(weights, 1, generator=gen))]
            idx = torch.randperm(len(g.z), generator=gen)[:cfg.batch_size]
            x, z = g.x[idx], g.z[idx]
            loss = torch.zeros(())
            for m, member in enumerate(self.members):
                pred = member(self.space, x, self._vector(m, g.task))
                loss = loss + nn.functional.mse_loss(pred, z) + cfg.rank_weight * _rank_loss(pred, z, cfg.top_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        self.members.eval()
        self._sample_cache.clear()

    # ------------------------------------------------------------ task resolution at prediction
    def _resolve(self, task: Task | str | None) -> tuple[list[torch.Tensor], float, float]:
        """(task vector per member, score mean, score std) for prediction."""
        t = self._as_task(task)
        if t.kind == "named":
            if t.name not in self.tasks:
                raise UnknownDataset(unknown("task", t.name, self.tasks) + " (this predictor was not trained on it)")
            mu, sd = self.scales[t.name]
            return [self._vector(m, t) for m in range(len(self.members))], mu, sd
        if t.kind == "images":
            if self.image_scale is None:
                raise GennasError("this predictor was not meta-trained on image tasks; "
                                  "use load_predictor('nb201') or describe the task by samples")
            mu, log_sd = (torch.cat([self._descriptor(t), torch.ones(1)]) @ self.image_scale).tolist()
            # a task refitted by update() knows its own scale; otherwise it is predicted from images
            mu, sd = self.scales.get(t.name, (mu, float(np.exp(log_sd))))
            return [self._vector(m, t) for m in range(len(self.members))], mu, sd
        if t.name not in self._sample_cache:
            self._sample_cache[t.name] = self._fit_samples(t)
        return self._sample_cache[t.name]

    def _fit_samples(self, task: Task) -> tuple[list[torch.Tensor], float, float]:
        """Fit one task vector per member to the task's samples, the network frozen."""
        archs = [a for a, _ in task.samples]
        x = self._features(archs, canonical=True)
        y = np.array([s for _, s in task.samples])
        sd = float(y.std()) if len(y) > 1 and y.std() > 1e-6 else self._typical_std()
        mu = float(y.mean())
        z = torch.tensor((y - mu) / sd, dtype=torch.float32)
        with torch.enable_grad():  # predict() runs under no_grad; this fit needs gradients
            vectors = [self._fit_vector(member, x, z) for member in self.members]
        return vectors, mu, sd

    def _fit_vector(self, member: _Member, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """One member's task vector fitted to standardised scores ``z (n,)`` of features ``x``."""
        start = member.task_emb.detach().mean(0) if len(self.tasks) else torch.zeros(self.config.task_dim)
        v = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([v], lr=0.05)
        with torch.no_grad():
            emb = member.encoder.encode_features(self.space, x)  # frozen: embed once
        for _ in range(self.config.sample_steps):
            gamma, beta = member.film(v).chunk(2, dim=-1)
            pred = member.head(emb * (1 + gamma) + beta).squeeze(-1)
            # the pull towards the start keeps a handful of samples from overfitting the vector
            loss = nn.functional.mse_loss(pred, z) + _rank_loss(pred, z) + 0.1 * (v - start).pow(2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return v.detach()

    # ------------------------------------------------------------ prediction
    def _predict_features(self, x: torch.Tensor, task: Task | str | None) -> tuple[torch.Tensor, torch.Tensor]:
        vectors, mu, sd = self._resolve(task)
        preds = torch.stack([m(self.space, x, v) for m, v in zip(self.members, vectors)])
        scores = mu + sd * preds
        return scores.mean(0), scores.std(0, unbiased=False)

    def predict(self, archs: Sequence[ArchLike], task: Task | str | None = None,
                batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Predicted score (%) and ensemble std, float64 arrays ``(len(archs),)``."""
        if not self.tasks and self.image_scale is None:
            raise GennasError("the predictor is not trained: call fit() or use load_predictor()")
        parsed = self._parse(archs)
        if self.config.canonical and self.space.is_finite_enumerable():
            # one forward pass per equivalence class: nb201's 15,625 cells are 5,390 classes
            ids, members = _equivalence(self.space.name)
            cls = np.array([ids[self.space.to_string(a)] for a in parsed])
            unique, inverse = np.unique(cls, return_inverse=True)
            parsed = [self.space.from_string(members[c][0]) for c in unique]
        else:
            inverse = np.arange(len(parsed))
        x = archs_to_node_features(self.space, parsed)
        self.members.eval()
        means, stds = [], []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                mean, std = self._predict_features(x[i:i + batch_size], task)
                means.append(mean)
                stds.append(std)
        return torch.cat(means).double().numpy()[inverse], torch.cat(stds).double().numpy()[inverse]

    def predict_soft(self, slot_probs: torch.Tensor, task: Task | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Differentiable prediction for relaxed architectures.

        Args:
            slot_probs: ``(B, num_slots, len(space.slot_vocab))`` op distributions per slot.
        Returns:
            mean and std ``(B,)`` in score units, differentiable w.r.t. ``slot_probs``.
        """
        expected = (self.space.num_slots, len(self.space.slot_vocab))
        if slot_probs.dim() != 3 or tuple(slot_probs.shape[1:]) != expected:
            raise GennasError(f"slot_probs must have shape (B, {expected[0]}, {expected[1]}), got {tuple(slot_probs.shape)}")
        self.members.eval()
        return self._predict_features(slot_probs_to_node_features(self.space, slot_probs.float()), task)

    # ------------------------------------------------------------ persistence
    def _member_states(self) -> list[dict[str, torch.Tensor]]:
        states = [copy.deepcopy(m.state_dict()) for m in self.members]
        if self.backend == "dgl":
            from gennas.models.gnn_dgl import dgl_to_pyg_keys

            states = [dgl_to_pyg_keys(s) for s in states]
        return states

    def save(self, path: str | Path) -> Path:
        """Write a plain weights file (tensors, numbers, strings only; PyG key names)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({
            "format": FORMAT, "space": self.space.name, "config": asdict(self.config), "seed": self.seed,
            "tasks": list(self.tasks), "default_task": self.default_task,
            "scales": {k: [float(a), float(b)] for k, (a, b) in self.scales.items()},
            "desc_mean": self.desc_mean, "desc_std": self.desc_std, "image_scale": self.image_scale,
            "members": self._member_states(),
        }, path)
        return path

    @classmethod
    def load(cls, path: str | Path, space: SearchSpace | str | None = None, backend: str = "pyg") -> Predictor:
        """Load a file written by :meth:`save`; refuses pickled objects and other spaces' checkpoints."""
        path = Path(path)
        if not path.is_file():
            raise GennasError(f"no predictor checkpoint at {path}")
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # the unpickler refuses anything but plain data; never execute it
            raise GennasError(f"{path} is not a plain weights file (refused: {type(exc).__name__})") from None
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise GennasError(f"{path} is not a gennas predictor checkpoint")
        if space is not None and resolve_space(space).name != blob["space"]:
            raise GennasError(f"{path} is a predictor for space {blob['space']!r}, not {resolve_space(space).name!r}")
        names = {f.name for f in fields(PredictorConfig)}
        config = PredictorConfig(**{k: v for k, v in blob["config"].items() if k in names})
        pred = cls(blob["space"], config, backend, int(blob.get("seed", 0)))
        for name in blob["tasks"]:
            pred._register(name)
        pred.default_task = blob["default_task"]
        pred.scales = {k: (float(v[0]), float(v[1])) for k, v in blob["scales"].items()}
        pred.desc_mean, pred.desc_std, pred.image_scale = blob["desc_mean"], blob["desc_std"], blob["image_scale"]
        for member, state in zip(pred.members, blob["members"]):
            if backend == "dgl":
                from gennas.models.gnn_dgl import pyg_to_dgl_keys

                state = pyg_to_dgl_keys(state)
            member.load_state_dict(state)
        pred.members.eval()
        return pred

    def __repr__(self) -> str:
        return (f"Predictor({self.space.name}, backend={self.backend}, members={len(self.members)}, "
                f"tasks={self.tasks})")


def checkpoint_path(name: str = "nb201", holdout: str | None = None) -> Path:
    """Where the pretrained predictor for ``name`` (optionally without ``holdout``'s labels) lives."""
    suffix = f"_no-{holdout}" if holdout else ""
    return checkpoints_dir() / f"predictor_{name}{suffix}.pt"


def load_predictor(name: str = "nb201", holdout: str | None = None, backend: str = "pyg") -> Predictor:
    """The pretrained predictor of space ``name`` from ``checkpoints/``.

    ``holdout="cifar10"`` (or ``"cifar100"``) gives the variant pretrained without that
    dataset's labels, for honest transfer experiments.
    """
    if holdout not in (None, "cifar10", "cifar100"):
        raise UnknownDataset(unknown("holdout dataset", holdout, ["cifar10", "cifar100"]))
    path = checkpoint_path(name, holdout)
    if not path.is_file():
        raise GennasError(f"no pretrained predictor {path.name} in {path.parent}; train it with "
                          f"`python experiments/train_predictor.py`")
    return Predictor.load(path, space=name, backend=backend)
