"""Graph VAE: a DAG GNN encoder to a Gaussian latent, an MLP decoder to slot logits.

The encoder is the shared bidirectional GIN (:class:`gennas.models.gnn.DAGEncoder`) over the
architecture's graph; the decoder maps ``z`` to independent per-slot op logits, decoded slot by
slot under the validity mask, so every decoded graph is valid. Because the decoder is smooth in
``z``, the latent can be optimised with the gradient of a predictor applied to the decoded slot
probabilities and then decoded (the NAO idea): that is gradient guidance for this generator.
Derivative-free guidance perturbs ``z`` and keeps the best decoded architecture by the reward.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from gennas.generators.base import MASKED, SlotGenerator, allowed_ops, fill_slots, masked_logits, one_hot_slots
from gennas.models.gnn import DAGEncoder, EncoderConfig, slot_probs_to_node_features
from gennas.spaces import SearchSpace

if TYPE_CHECKING:
    from gennas.generators.guidance import Guidance


@dataclass
class VAEConfig:
    """Model and training hyper-parameters (stored in the checkpoint manifest)."""

    hidden: int = 64
    layers: int = 3
    latent: int = 16
    beta: float = 0.05  # KL weight: < 1 keeps reconstructions sharp (a beta-VAE)
    # Linear paths between the slots and the latent, beside the GNN encoder and the MLP decoder:
    # the one-hot slots (flattened) also enter the encoder's readout, and z also maps linearly to
    # the slot logits. Pooling a 22-node chain (mbv3) into one vector blurs which block sits where:
    # the GNN alone reconstructed 45 % of held-out mbv3 slots. False keeps older checkpoints loadable.
    direct: bool = False
    # Score the decoder's logits under the space's static slot mask only, as decoding sees them,
    # instead of under the mask the true architecture implies. The latter never teaches the
    # decoder the stage rule (an mbv3 slot before a block may not be skip: it was masked, so
    # greedy decoding still picked skip there, and ended the stage early). False: as trained before.
    decode_loss: bool = False


@dataclass
class LatentSearch:
    """How guidance moves latents at sampling time (not part of the checkpoint; set ``vae.search``)."""

    guide_steps: int = 8  # normalised gradient steps on z (each costs one predictor call)
    guide_lr: float = 0.25  # step length in latent units
    prior_weight: float = 1.0  # objective points per unit of 0.5 * |z|^2: keeps z where the decoder was trained
    df_rounds: int = 8  # derivative-free rounds of latent perturbation
    df_sigma: float = 0.5


class GraphVAE(SlotGenerator):
    """Graph VAE generator (see the module docstring)."""

    kind = "vae"
    _slot_mask: torch.Tensor  # a buffer (register_buffer): annotation only

    def __init__(self, space: SearchSpace | str, config: VAEConfig | None = None) -> None:
        super().__init__(space)
        self.config = c = config or VAEConfig()
        self.encoder = DAGEncoder(len(self.space.node_vocab), self.space.num_nodes, EncoderConfig(c.hidden, c.layers))
        width = self.encoder.out_dim + (2 * c.hidden if c.direct else 0)
        self.slot_in = nn.Linear(self.num_slots * self.vocab, 2 * c.hidden) if c.direct else None
        self.slot_out = nn.Linear(c.latent, self.num_slots * self.vocab) if c.direct else None
        self.to_mu = nn.Linear(width, c.latent)
        self.to_logvar = nn.Linear(width, c.latent)
        self.decoder = nn.Sequential(nn.Linear(c.latent, 2 * c.hidden), nn.ReLU(),
                                     nn.Linear(2 * c.hidden, 2 * c.hidden), nn.ReLU(),
                                     nn.Linear(2 * c.hidden, self.num_slots * self.vocab))
        self.search = LatentSearch()
        self.register_buffer("_slot_mask", torch.from_numpy(self.space.slot_mask()), persistent=False)

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    # ------------------------------------------------------------ model
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Slots ``(B, S)`` -> (mu, logvar), each ``(B, latent)``."""
        onehot = one_hot_slots(x, self.vocab)
        h = self.encoder.encode_features(self.space, slot_probs_to_node_features(self.space, onehot))
        if self.slot_in is not None:
            h = torch.cat([h, torch.relu(self.slot_in(onehot.flatten(1)))], dim=-1)
        return self.to_mu(h), self.to_logvar(h).clamp(-8, 8)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Latent ``(B, latent)`` -> slot logits ``(B, S, V)`` with ops no slot may take masked."""
        logits = self.decoder(z)
        if self.slot_out is not None:
            logits = logits + self.slot_out(z)
        logits = logits.view(-1, self.num_slots, self.vocab)
        return masked_logits(logits, self._slot_mask.unsqueeze(0).expand_as(logits))

    def loss(self, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        mu, logvar = self.encode(x0)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = self.decode_logits(z)  # the static slot mask applied
        if not self.config.decode_loss:
            logits = masked_logits(logits, allowed_ops(self.space, x0))
        recon = nn.functional.cross_entropy(logits.reshape(-1, self.vocab), x0.reshape(-1),
                                            reduction="sum") / x0.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x0.shape[0]
        return (recon + self.config.beta * kl) / self.num_slots

    def decode(self, z: torch.Tensor, generator: torch.Generator | None = None, greedy: bool = True) -> torch.Tensor:
        """Latent ``(B, latent)`` -> valid slots ``(B, S)``, decided left to right under the mask."""
        empty = torch.full((z.shape[0], self.num_slots), MASKED, dtype=torch.long)
        return fill_slots(self.space, empty, self.decode_logits(z), None, generator, greedy=greedy)

    # ------------------------------------------------------------ sampling
    def _sample_indices(self, n: int, generator: torch.Generator, guidance: Guidance | None) -> torch.Tensor:
        z = torch.randn(n, self.config.latent, generator=generator)
        if guidance is None or not (guidance.uses_gradient or guidance.derivative_free):
            return self.decode(z, generator, greedy=False)  # a draw from p(x | z)
        if guidance.uses_gradient:
            z = self._optimise_latent(z, guidance)
        if guidance.derivative_free:
            z = self._search_latent(z, generator, guidance)
        return self.decode(z, generator, greedy=True)  # the mode: what the guidance optimised

    def _optimise_latent(self, z: torch.Tensor, guidance: Guidance) -> torch.Tensor:
        """NAO-style ascent of ``objective(softmax(decoder(z))) - prior_weight * |z|^2 / 2``.

        Steps are normalised per sample (length ``guide_lr`` in latent units), so each latent moves
        at most ``guide_steps * guide_lr`` from its random start: the samples stay diverse instead
        of all converging on the objective's single optimum; ``scale`` trades value against prior.
        """
        c = self.search
        z = z.clone()
        with torch.enable_grad():
            for _ in range(c.guide_steps):
                z.requires_grad_(True)
                probs = torch.softmax(self.decode_logits(z), -1)
                objective = guidance.objective(probs) - c.prior_weight * 0.5 * z.pow(2).sum(-1)
                (grad,) = torch.autograd.grad(objective.sum(), z)
                grad = torch.nan_to_num(grad)
                z = (z + c.guide_lr * grad / (grad.norm(dim=-1, keepdim=True) + 1e-8)).detach()
        return z

    def _search_latent(self, z: torch.Tensor, generator: torch.Generator, guidance: Guidance) -> torch.Tensor:
        """Random local search in latent space: each round proposes ``num_candidates - 1``
        perturbations per sample and keeps the best decoded architecture (current one included)."""
        n, m, c = z.shape[0], guidance.num_candidates, self.search
        for _ in range(c.df_rounds):
            noise = torch.randn(n, m - 1, z.shape[1], generator=generator) * c.df_sigma
            cand = torch.cat([z.unsqueeze(1), z.unsqueeze(1) + noise], dim=1).reshape(n * m, -1)
            x = self.decode(cand, generator, greedy=True)
            scores = guidance.score(self.to_archs(x), one_hot_slots(x, self.vocab))
            best = torch.from_numpy(scores.reshape(n, m).argmax(1))
            z = cand.view(n, m, -1)[torch.arange(n), best]
        return z
