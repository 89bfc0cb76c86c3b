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

Optional inputs: zero-cost proxy features (``config.proxies``, :mod:`gennas.surrogates.features`)
and encoders started from the space's self-supervised encoder (``config.pretrained``,
:mod:`gennas.surrogates.pretrain`).

One member's network and losses live in :mod:`gennas.surrogates.predictor_model`, the functional
equivalence classes in :mod:`gennas.surrogates.equivalence`; this module holds the ensemble, its
task table, training and persistence (a :mod:`gennas.checkpoint` file of kind ``"predictor"``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from gennas.checkpoint import (Checkpoint, config_dict, config_from_dict, load_checkpoint, load_error,
                               save_checkpoint)
from gennas.errors import GennasError, UnknownDataset, unknown
from gennas.graph import ArchGraph
from gennas.models.gnn import archs_to_node_features, slot_probs_to_node_features
from gennas.seeds import seeded_torch
from gennas.spaces import SearchSpace, resolve_space
from gennas.surrogates.embedding_cache import EmbeddingCache
from gennas.surrogates.equivalence import augment_equivalents, cell_of, cell_text, class_ids, representatives
from gennas.surrogates.features import feature_stats, raw_proxies, squash, standardise
from gennas.surrogates.predictor_model import (MemberList, PredictorConfig, PredictorMember, TaskRows, check_scores,
                                              image_scale_map, members_misfit, positive_steps)
from gennas.surrogates.predictor_training import head_parameters, train_members
from gennas.surrogates.pretrain import pretrained_encoder
from gennas.surrogates.task import DESCRIPTOR_DIM, Task
from gennas.threads import check_threads, with_own_threads

ArchLike = ArchGraph | str
KIND = "predictor"
#: a task's scale no longer describes results this many of its stds from its mean (see ``update``)
SCALE_REACH = 10.0


class Predictor:
    """Ensemble GNN accuracy predictor for one search space.

    ``fit(archs, scores, task)`` trains from scratch, ``update`` refits warm, ``predict`` gives
    ``(mean, std)`` in score units, ``predict_soft`` the same for relaxed architectures as
    differentiable tensors. ``threads``: torch CPU threads while it trains and predicts (1: its
    networks are small: a fit on 200 nb201 cells took 12 s with 1 and 260 s with 2 beside other work,
    ``python experiments/thread_contention.py --work predictor``; None: torch's own
    setting; a designer's or the command line's choice overrides it, see :mod:`gennas.threads`).
    """
    origin: str  # where a designer's loader took it from (gennas.design.pretrained); unset on a user's own
    keeps_saved: bool  # an untrained start that leaves the home's saved predictor as it is (RememberingLoop)

    def __init__(self, space: SearchSpace | str, config: PredictorConfig | None = None,
                 backend: str = "pyg", seed: int = 0, threads: int | None = 1) -> None:
        if backend not in ("pyg", "dgl"):
            raise GennasError(unknown("predictor backend", backend, ["pyg", "dgl"]))
        self.threads = check_threads(threads)
        self.space = resolve_space(space)
        self.config = config or PredictorConfig()
        self.backend, self.seed = backend, seed
        self._reset()

    def _reset(self) -> None:
        """Forget every task and re-initialise the members (seeded): an untrained predictor."""
        self.tasks: list[str] = []                       # named tasks, rows of task_emb
        self.scales: dict[str, tuple[float, float]] = {}  # task name -> (mean, std) of its scores
        self.default_task: str | None = None
        self.desc_mean, self.desc_std = torch.zeros(DESCRIPTOR_DIM), torch.ones(DESCRIPTOR_DIM)
        self.image_scale: torch.Tensor | None = None      # ridge map descriptor -> (mean, log std)
        self._buffers: dict[str, dict[str, tuple[Task, float]]] = {}  # update() memory per task
        self._update_scaled: set[str] = set()  # tasks whose score scale comes from update()
        self._scale_rows: dict[str, int] = {}  # results a task's scale was measured on (this session)
        self._sample_cache: dict[str, tuple[list[torch.Tensor], float, float]] = {}
        self._embeddings = EmbeddingCache()  # valid while the encoder weights are unchanged
        self.feat_stats: torch.Tensor | None = None  # (3, P) proxy feature stats, set by the first fit
        with seeded_torch(self.seed):  # seeded init without touching the caller's RNG
            self.members = MemberList(PredictorMember(self.space, self.config, self.backend)
                                      for _ in range(self.config.members))
        encoder = pretrained_encoder(self.space.name, self.config.hidden, self.config.layers) \
            if self.config.pretrained else None
        if encoder is not None:  # every member starts from the self-supervised encoder; heads differ
            if self.backend == "dgl":
                from gennas.models.gnn_dgl import pyg_to_dgl_keys

                encoder = pyg_to_dgl_keys(encoder)
            for m in self.members:
                m.encoder.load_state_dict(encoder)
        # what the members' embeddings depend on: every parameter but the heads' (loading and
        # training change them in place; a new task row replaces only a head parameter)
        heads = {id(p) for m in self.members for p in head_parameters(m)}
        self._encoder_weights = [p for p in self.members.parameters() if id(p) not in heads]

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
        if canonical and self._canonical():
            parsed = representatives(self.space, class_ids(self.space, parsed))
        return archs_to_node_features(self.space, parsed)

    def _proxy_features(self, archs: list[ArchGraph]) -> torch.Tensor | None:
        """Standardised proxy features ``(B, P)`` (None without ``config.proxies``); the first call
        after a reset fixes the standardisation from these (training) rows."""
        if not self.config.proxies:
            return None
        if self._canonical():  # one feature vector per equivalence class, as predictions use
            archs = representatives(self.space, class_ids(self.space, archs))
        squashed = squash(raw_proxies(self.space, archs, self.config.proxies))
        if self.feat_stats is None:
            self.feat_stats = feature_stats(squashed)
        return standardise(squashed, self.feat_stats)

    def _canonical(self) -> bool:
        """Whether cells are predicted through their functional equivalence class."""
        return self.config.canonical and self.space.is_finite_enumerable()

    def _augmented(self, archs: list[ArchGraph], y: np.ndarray) -> tuple[list[ArchGraph], np.ndarray]:
        """Training rows plus up to ``config.augment`` functional equivalents each (same score)."""
        if self.config.augment <= 0 or not self.space.is_finite_enumerable():
            return archs, y
        return augment_equivalents(self.space, archs, y, self.config.augment, self.seed)

    @staticmethod
    def _scores(scores: Sequence[float], n: int) -> np.ndarray:
        y = check_scores(scores)
        if len(y) != n:
            raise GennasError(f"got {n} architectures but {len(y)} scores")
        return y

    def _as_task(self, task: Task | str | None, registering: bool = False) -> Task:
        if task is None:
            return Task("named", "default" if self.default_task is None else self.default_task)
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
            m.add_task_row()
        self.tasks.append(name)
        if self.default_task is None:
            self.default_task = name
        return len(self.tasks) - 1

    def _descriptor(self, task: Task) -> torch.Tensor:
        return (cast(torch.Tensor, task.descriptor) - self.desc_mean) / self.desc_std  # an image task's

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

    @with_own_threads
    def fit_tasks(self, data: Sequence[tuple[Task | str | None, Sequence[ArchLike], Sequence[float]]],
                  steps: int | None = None) -> Predictor:
        """Train from scratch on several tasks: ``data`` is a list of ``(task, archs, scores)``."""
        steps = positive_steps(steps, self.config.steps)
        for _, _, scores in data:  # checked before _reset(): bad input leaves a trained predictor as it was
            check_scores(scores)
        self._reset()
        groups = [self._group(t, a, s, set_scale=True) for t, a, s in data]
        self._fit_image_maps(groups)
        self._train(groups, steps)
        return self

    @with_own_threads
    def update(self, archs: Sequence[ArchLike], scores: Sequence[float], task: Task | str | None = None,
               steps: int | None = None, encoders: bool = True) -> Predictor:
        """Warm-started refit on new results of ``task``.

        Results passed to earlier ``update`` calls for the same task are remembered (the latest
        score of an architecture wins), so callers may pass only what is new. About 1-2 s on
        CPU for ~100 points with the default 20 steps; ``encoders=False`` refits only the heads
        on the frozen encoders' embeddings (:mod:`gennas.surrogates.predictor_training`); ``steps=0``
        only remembers them for later updates.
        """
        remember_only = type(steps) is int and steps == 0  # a fit just trained on them: no step (it biased levels)
        steps = 0 if remember_only else positive_steps(steps, self.config.update_steps)
        y = self._scores(scores, len(self._parse(archs)))
        t = self._as_task(task, registering=True)
        key = t.name
        buffer = self._buffers.setdefault(key, {})
        for a, s in zip(archs, y):
            buffer[self.space.to_string(self.space.parse(a))] = (t, float(s))
        if remember_only:
            return self
        all_archs = [cell_of(self.space, text) for text in buffer]
        all_scores = [s for _, s in buffer.values()]
        # keep a pretrained task's scale; a new one takes the scale of what has been seen so far,
        # and so does one fitted here on fewer results that the results outgrew: a from-scratch
        # search fitted its first two, one function's synflow 1e-5 apart, every later result lay
        # ~1e6 of that std away and the network learned a constant, saved for later
        rows, (mu, sd) = self._scale_rows.get(key, len(all_scores)), self.scales.get(key, (0.0, 1.0))
        outgrown = len(all_scores) > rows and float(np.max(np.abs(np.subtract(all_scores, mu)))) > SCALE_REACH * sd
        own_scale = key not in self.scales or key in self._update_scaled or outgrown
        if own_scale:
            self._update_scaled.add(key)
        group = self._group(t, all_archs, all_scores, set_scale=own_scale)
        self._train([group], steps, encoders)
        return self

    def _group(self, task: Task | str | None, archs: Sequence[ArchLike], scores: Sequence[float],
               set_scale: bool) -> TaskRows:
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
            self._scale_rows[t.name] = len(y)
        mu, sd = self.scales[t.name]
        rows, targets = self._augmented(parsed, y)
        return TaskRows(t, archs_to_node_features(self.space, rows), torch.tensor((targets - mu) / sd, dtype=torch.float32),
                        self._proxy_features(rows), [cell_text(self.space, a) for a in rows])

    def _typical_std(self) -> float:
        return float(np.mean([s for _, s in self.scales.values()])) if self.scales else 1.0

    def _fit_image_maps(self, groups: list[TaskRows]) -> None:
        """Descriptor standardisation and a ridge map descriptor -> (mean, log std) of scores."""
        image = [g for g in groups if g.task.kind == "images"]
        if not image:
            return
        target = torch.tensor([[self.scales[g.task.name][0], np.log(self.scales[g.task.name][1])] for g in image],
                              dtype=torch.float64)
        self.desc_mean, self.desc_std, self.image_scale = image_scale_map(
            torch.stack([cast(torch.Tensor, g.task.descriptor) for g in image]), target)  # image tasks'

    def _train(self, groups: list[TaskRows], steps: int, encoders: bool = True) -> None:
        train_members(self.members, self.space, groups, steps, self.config, self.seed, self._vector, encoders,
                      frozen=self._frozen_rows)
        self._sample_cache.clear()

    def _frozen_rows(self, group: TaskRows, keys: list[str]) -> torch.Tensor:
        """Every member's embedding ``(members, rows, d)`` of a group's rows (texts ``keys``) from
        the embedding cache: a heads-only refit re-embedded all of a task's rows, though only the
        newest are new to the unchanged encoders (with the mode switches of ``train_members``:
        87 vs 48 ms per refit, ``python experiments/refit_speed.py``)."""

        def embed(rows: list[int]) -> torch.Tensor:
            f = None if group.f is None else group.f[rows]
            return torch.stack([m.embed(self.space, group.x[rows], f)[0] for m in self.members])

        return self._embeddings.embed([f"cell {k}" for k in keys], embed, self._encoder_weights)

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
        f = self._proxy_features(self._parse(archs))
        y = np.array([s for _, s in task.samples])
        sd = float(y.std()) if len(y) > 1 and y.std() > 1e-6 else self._typical_std()
        mu = float(y.mean())
        z = torch.tensor((y - mu) / sd, dtype=torch.float32)
        vectors = []
        with torch.enable_grad():  # predict() runs under no_grad; this fit needs gradients
            for member in self.members:
                # start from the mean named task; the fit pulls towards it
                start = member.task_emb.detach().mean(0) if len(self.tasks) else torch.zeros(self.config.task_dim)
                vectors.append(member.fit_vector(self.space, x, z, start, self.config.sample_steps, f))
        return vectors, mu, sd

    # ------------------------------------------------------------ prediction
    def _task_scores(self, embeddings: Sequence[torch.Tensor] | torch.Tensor, task: Task | str | None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """Ensemble mean and std ``(B,)`` in score units from each member's embedding ``(B, d)``."""
        vectors, mu, sd = self._resolve(task)
        scores = mu + sd * torch.stack([m.modulated(e, v) for m, e, v in zip(self.members, embeddings, vectors)])
        return scores.mean(0), scores.std(0, unbiased=False)

    @with_own_threads
    def predict(self, archs: Sequence[ArchLike], task: Task | str | None = None,
                batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Predicted score (%) and ensemble std, float64 arrays ``(len(archs),)``."""
        if not self.tasks and self.image_scale is None:
            raise GennasError("the predictor is not trained: call fit() or use load_predictor()")
        parsed = self._parse(archs)
        if self._canonical():
            # one forward pass per equivalence class: nb201's 15,625 cells are 5,390 classes
            unique, inverse = np.unique(class_ids(self.space, parsed), return_inverse=True)
            keys, cells = [f"class {c}" for c in unique], lambda rows: representatives(self.space, unique[rows])
        else:
            keys, inverse = [self.space.to_string(a) for a in parsed], np.arange(len(parsed))
            cells = lambda rows: [parsed[i] for i in rows]  # noqa: E731
        self._eval_mode()
        # the encoder's part is the same for every task: cached until the weights change
        emb = self._embeddings.embed(keys, lambda rows: self._embed_hard(cells(rows)), self._encoder_weights, batch_size)
        with torch.no_grad():
            mean, std = self._task_scores(emb, task)
        return mean.double().numpy()[inverse], std.double().numpy()[inverse]

    def _eval_mode(self) -> None:
        """Members in eval mode. ``Module.eval`` walks every submodule (~1 ms, experiments/refit_speed.py,
        at each of ~300 predictions a search makes): only needed after a member was set to training."""
        if any(m.training for m in self.members):
            self.members.eval()

    def _embed_hard(self, archs: list[ArchGraph]) -> torch.Tensor:
        """Every member's embedding of hard architectures, ``(members, len(archs), d)``."""
        x, f = archs_to_node_features(self.space, archs), self._proxy_features(archs)
        return torch.stack([m.embed(self.space, x, f)[0] for m in self.members])

    @with_own_threads
    def predict_soft(self, slot_probs: torch.Tensor, task: Task | str | None = None,
                     members: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Differentiable prediction for relaxed architectures.

        Args:
            slot_probs: ``(B, num_slots, len(space.slot_vocab))`` op distributions per slot.
            members: only the first ``members`` ensemble members (None: all), a cheaper guidance.
        Returns:
            mean and std ``(B,)`` in score units, differentiable w.r.t. ``slot_probs``.

        A relaxed architecture has no proxy scores: with ``config.proxies`` each member uses the
        proxies it predicts from the encoding (trained alongside the score), so gradients flow.
        """
        expected = (self.space.num_slots, len(self.space.slot_vocab))
        if slot_probs.dim() != 3 or tuple(slot_probs.shape[1:]) != expected:
            raise GennasError(f"slot_probs must have shape (B, {expected[0]}, {expected[1]}), got {tuple(slot_probs.shape)}")
        self._eval_mode()
        x = slot_probs_to_node_features(self.space, slot_probs.float())
        return self._task_scores([m.embed(self.space, x)[0] for m in self.members[:members]], task)

    # ------------------------------------------------------------ persistence
    def _member_states(self) -> list[dict[str, torch.Tensor]]:
        states = [copy.deepcopy(m.state_dict()) for m in self.members]
        if self.backend == "dgl":
            from gennas.models.gnn_dgl import dgl_to_pyg_keys

            states = [dgl_to_pyg_keys(s) for s in states]
        return states

    def to_checkpoint(self) -> Checkpoint:
        """Config, weights (PyG key names) and task table as a :class:`~gennas.checkpoint.Checkpoint`."""
        return Checkpoint(
            KIND, config_dict(self.config),
            state={"members": self._member_states(), "desc_mean": self.desc_mean, "desc_std": self.desc_std,
                   "image_scale": self.image_scale, "feat_stats": self.feat_stats},
            meta={"space": self.space.name, "seed": self.seed, "tasks": list(self.tasks),
                  "default_task": self.default_task,
                  "scales": {k: [float(a), float(b)] for k, (a, b) in self.scales.items()}})

    def save(self, path: str | Path, data: str | None = None, metrics: dict[str, Any] | None = None,
             command: str | None = None, **extra: Any) -> Path:
        """Write the checkpoint (plain data only) and, given ``data``, its manifest beside it
        (see :func:`gennas.checkpoint.save_checkpoint`)."""
        return save_checkpoint(path, self.to_checkpoint(), data, metrics, command, **extra)

    @classmethod
    def load(cls, path: str | Path, space: SearchSpace | str | None = None, backend: str = "pyg") -> Predictor:
        """Load a file written by :meth:`save`; refuses pickled objects and other spaces' checkpoints."""
        ckpt = load_checkpoint(path, KIND, None if space is None else resolve_space(space).name)
        config = config_from_dict(PredictorConfig, ckpt.config, path)
        try:
            misfit = members_misfit(resolve_space(ckpt.space), config, len(ckpt.meta["tasks"]), ckpt.state["members"])
            if misfit is not None:
                raise ValueError(misfit)
            pred = cls(ckpt.space, config, backend, int(ckpt.meta.get("seed", 0)))
            for name in ckpt.meta["tasks"]:
                pred._register(name)
            pred.default_task = ckpt.meta["default_task"]
            pred.scales = {k: (float(v[0]), float(v[1])) for k, v in ckpt.meta["scales"].items()}
            state = ckpt.state
            pred.desc_mean, pred.desc_std, pred.image_scale = state["desc_mean"], state["desc_std"], state["image_scale"]
            pred.feat_stats = state.get("feat_stats")  # absent in checkpoints from before proxy features
            if config.proxies and not isinstance(pred.feat_stats, torch.Tensor):
                raise ValueError("proxy features configured but no 'feat_stats' tensor")
            for member, member_state in zip(pred.members, state["members"]):
                if backend == "dgl":
                    from gennas.models.gnn_dgl import pyg_to_dgl_keys

                    member_state = pyg_to_dgl_keys(member_state)
                member.load_state_dict(member_state)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise GennasError(f"{path} is not a valid predictor checkpoint for space {ckpt.space!r} "
                              f"({load_error(exc)}): was the space's spec edited since it was trained? Move it "
                              "away to train one afresh, or restore the spec") from None
        pred.members.eval()
        return pred

    def __repr__(self) -> str:
        return f"Predictor({self.space.name}, backend={self.backend}, members={len(self.members)}, tasks={self.tasks})"
