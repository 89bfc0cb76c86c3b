"""The predictor ensemble's optimisation loop: all of each member, or only its heads.

A full step trains every member's encoder and head on a batch of one task's rows. A heads-only
step keeps the encoders frozen and trains what sits on top of the embedding (the FiLM map, the
head, the task vectors) on embeddings computed once before the loop: a warm refit on one new
result then costs a forward pass over the rows instead of ``steps`` forward and backward passes
through the encoders, and predictions keep the cached embeddings
(:mod:`gennas.surrogates.embedding_cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from gennas.spaces import SearchSpace
from gennas.surrogates.predictor_model import MemberList, PredictorConfig, PredictorMember, TaskRows, adamw, rank_loss
from gennas.surrogates.task import Task

#: ``(member index, task) -> (task_dim,)`` task vector of that member
VectorFn = Callable[[int, Task], torch.Tensor]
#: ``(rows, rows.keys) -> (members, len(rows.z), d)`` every member's embedding of a group's rows
FrozenFn = Callable[[TaskRows, list[str]], torch.Tensor]


def head_parameters(member: PredictorMember) -> list[nn.Parameter]:
    """What a heads-only step trains: everything of ``member`` that acts after the embedding."""
    return [member.task_emb, *member.film.parameters(), *member.head.parameters(), *member.image_task.parameters()]


def train_members(members: Sequence[PredictorMember] | MemberList, space: SearchSpace, groups: list[TaskRows],
                  steps: int, cfg: PredictorConfig, seed: int, vector: VectorFn, encoders: bool = True,
                  frozen: FrozenFn | None = None) -> None:
    """``steps`` AdamW steps (cosine schedule) of MSE + ranking loss on batches of ``groups``.

    Args:
        encoders: False trains only :func:`head_parameters` on frozen embeddings.
        frozen: where those embeddings come from for groups with ``keys`` (a cache; else the
            encoders embed every row once per call).
    """
    params = ([p for m in members for p in m.parameters()] if encoders
              else [p for m in members for p in head_parameters(m)])
    opt = adamw(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    gen = torch.Generator().manual_seed(seed)
    # every row is equally likely: a 30-row meta task must not steer a 2,000-cell benchmark task
    weights = torch.tensor([float(len(g.z)) for g in groups])
    embedded = None
    if not encoders:  # (groups, members, rows, d), once: the encoders do not change
        with torch.no_grad():
            embedded = [frozen(g, g.keys) if frozen is not None and g.keys is not None
                        else torch.stack([m.embed(space, g.x, g.f)[0] for m in members]) for g in groups]
    # Module.train/eval walk every submodule (~1 ms each); only dropout
    # behaves differently in training (the members have no batch norm)
    switch = cfg.dropout > 0
    for member in members if switch else ():
        member.train()
    for _ in range(steps):
        gi = int(torch.multinomial(weights, 1, generator=gen))
        g = groups[gi]
        idx = torch.randperm(len(g.z), generator=gen)[:cfg.batch_size]
        z, f = g.z[idx], None if g.f is None else g.f[idx]
        loss = torch.zeros(())
        for m, member in enumerate(members):
            if embedded is None:
                emb, predicted = member.embed(space, g.x[idx], f)
            else:
                emb, predicted = embedded[gi][m][idx], None
            pred = member.modulated(emb, vector(m, g.task))
            loss = loss + nn.functional.mse_loss(pred, z) + cfg.rank_weight * rank_loss(pred, z, cfg.top_weight)
            if predicted is not None and f is not None:  # proxies predicted from the encoding stand in for predict_soft
                loss = loss + cfg.proxy_weight * nn.functional.mse_loss(predicted, f)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    for member in members if switch else ():
        member.eval()
