"""BANANAS (White et al., AAAI 2021): an ensemble of MLP predictors drives a mutation search.

Each round fits ``ensemble_size`` MLPs (different initialisations) to the verified results
(the first fit from scratch, later ones warm-started for ``refit_epochs``), builds
candidates by mutating the best verified architectures (plus a few uniform samples), and
picks the candidates with the highest acquisition: independent Thompson sampling
(``its``: one draw from N(mean, std) per candidate) or an upper confidence bound (``ucb``).
Architectures are encoded by their input-to-output *paths* (BANANAS' encoding) where the
number of possible paths is small (cell spaces), else by the flat one-hot of their slots.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from gennas.baselines.base import BaseOptimizer
from gennas.errors import GennasError
from gennas.graph import ArchGraph
from gennas.spaces import RngLike, SearchSpace
from gennas.threads import check_threads, with_own_threads

#: largest path encoding built; beyond it (chains such as mbv3) the one-hot encoding is used
MAX_PATH_FEATURES = 100_000


@functools.lru_cache(maxsize=None)
def _paths(space: SearchSpace) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """(op-node index paths from input to output, feature offset per path length) of ``space``.

    Every graph of a space shares one edge set, so the paths are computed once from a sample.
    """
    import networkx as nx

    g = space.sample(0).to_networkx()
    last = g.number_of_nodes() - 1
    paths = tuple(tuple(p[1:-1]) for p in nx.all_simple_paths(g, 0, last))
    longest = max(len(p) for p in paths)
    vocab = len(space.slot_vocab)
    offsets = tuple(int(sum(vocab**j for j in range(1, length))) for length in range(1, longest + 1))
    if offsets[-1] + vocab**longest > MAX_PATH_FEATURES:
        raise GennasError(f"space {space.name!r} has paths of {longest} ops: too long for a path encoding")
    return paths, offsets


def path_encoding_size(space: SearchSpace) -> int:
    """Number of path features: op sequences of every path length, ``sum_L V**L``."""
    paths, offsets = _paths(space)
    longest = len(offsets)
    return offsets[-1] + len(space.slot_vocab) ** longest


def path_encode(space: SearchSpace, archs: list[ArchGraph]) -> np.ndarray:
    """Path encoding, float32 ``(len(archs), path_encoding_size(space))``.

    Feature ``offset(L) + sum_j op_j * V**j`` is 1 when some input-to-output path of ``L``
    ops carries exactly the op sequence ``op_0..op_{L-1}`` (NASLib's NAS-Bench-201 layout).
    """
    paths, offsets = _paths(space)
    index = {op: i for i, op in enumerate(space.slot_vocab)}
    vocab = len(space.slot_vocab)
    out = np.zeros((len(archs), path_encoding_size(space)), dtype=np.float32)
    for row, arch in enumerate(archs):
        ops = arch.ops
        for path in paths:
            feature = offsets[len(path) - 1] + sum(index[ops[node]] * vocab**j for j, node in enumerate(path))
            out[row, feature] = 1.0
    return out


def encoder_for(space: SearchSpace, encoding: str):
    """``archs -> float32 (n, d)`` for ``encoding`` in ``path``, ``onehot``, ``auto``."""
    if encoding == "auto":
        try:
            _paths(space)
            encoding = "path"
        except GennasError:
            encoding = "onehot"
    if encoding == "path":
        _paths(space)  # raise now, not in the middle of a search
        return lambda archs: path_encode(space, archs)
    if encoding == "onehot":
        return space.encode
    raise GennasError(f"unknown encoding {encoding!r}; known: auto, onehot, path")


class MLPEnsemble:
    """``members`` independent MLPs trained at once as one batched network (shapes ``(E, ...)``).

    Trained full-batch with Adam on the mean absolute error of standardised targets, as in
    BANANAS; one batched network keeps the Python overhead of E members that of one.
    """

    def __init__(self, in_dim: int, members: int = 5, hidden: int = 32, layers: int = 3,
                 epochs: int = 200, lr: float = 0.01, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        dims = [in_dim] + [hidden] * layers + [1]
        self.weights = [torch.randn(members, a, b, generator=gen) * (2.0 / a) ** 0.5 for a, b in zip(dims, dims[1:])]
        self.biases = [torch.zeros(members, 1, b) for b in dims[1:]]
        for p in self.weights + self.biases:
            p.requires_grad_(True)
        self.epochs, self.lr = epochs, lr
        self.mean, self.std = 0.0, 1.0

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (n, d)`` -> predictions ``(E, n)`` in standardised units."""
        h = x.unsqueeze(0).expand(self.weights[0].shape[0], -1, -1)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = torch.relu(h)
        return h.squeeze(-1)

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int | None = None) -> MLPEnsemble:
        """Train on ``x (n, d)`` float, ``y (n,)`` scores for ``epochs`` (default: the configured
        number), continuing from the current weights."""
        self.mean, self.std = float(y.mean()), float(y.std()) or 1.0
        xt = torch.as_tensor(x, dtype=torch.float32)
        yt = torch.as_tensor((y - self.mean) / self.std, dtype=torch.float32)
        opt = torch.optim.Adam(self.weights + self.biases, lr=self.lr)
        for _ in range(self.epochs if epochs is None else epochs):
            opt.zero_grad()
            loss = (self._forward(xt) - yt).abs().mean()
            loss.backward()
            opt.step()
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and standard deviation in score units, each ``(n,)``."""
        with torch.no_grad():
            standard = self._forward(torch.as_tensor(x, dtype=torch.float32)).numpy().astype(np.float64)
        # back to score units in float64: in float32 synflow's scores (to 1e49 on nb201) overflowed to
        # inf, and the ensemble's spread with them, so every acquisition value was inf or NaN
        pred = standard * self.std + self.mean
        return pred.mean(axis=0), pred.std(axis=0)


class Bananas(BaseOptimizer):
    """BANANAS with path (or one-hot) encodings, an MLP ensemble and ITS or UCB acquisition.

    Args:
        num_init: uniform samples before the first predictor fit.
        num_parents: best verified architectures mutated into candidates.
        mutations_per_parent: candidates made from each parent (1 or 2 edits).
        num_random: uniform candidates added each round.
        acquisition: ``its`` (independent Thompson sampling) or ``ucb`` (mean + ``beta`` std).
        threads: torch CPU threads of its ensemble's fits (1, as the designer's: 150 asks and tells
            on the cifar10 table cost 3.2 CPU s, 4.0-4.8 with ``None`` under torch's 2 threads, two
            runs of ``python -c "import time,torch,gennas;from gennas.evaluators.base import Result
            as R;from gennas.search import make_optimizer as m;b=gennas.load_benchmark('nb201');
            torch.set_num_threads(2);o=m('bananas','nb201',0);o.threads=None;t=time.process_time();
            [o.tell([R(a,b.accuracy(a,'cifar10'),'table')]) for _ in range(150) for a in o.ask(1)];
            print(time.process_time()-t)"``; None: torch's own setting; an outer choice, the command
            line's ``--threads``, holds, see :mod:`gennas.threads`).
    """

    name = "bananas"

    def __init__(self, space: SearchSpace | str, seed: RngLike = None, num_init: int = 10,
                 ensemble_size: int = 5, num_parents: int = 10, mutations_per_parent: int = 10,
                 num_random: int = 20, acquisition: str = "its", beta: float = 0.5,
                 encoding: str = "auto", epochs: int = 200, refit_epochs: int = 25,
                 threads: int | None = 1) -> None:
        super().__init__(space, seed)
        self.threads = check_threads(threads)
        if acquisition not in ("its", "ucb"):
            raise GennasError(f"unknown acquisition {acquisition!r}; known: its, ucb")
        self.encode = encoder_for(self.space, encoding)
        self.num_init, self.ensemble_size = int(num_init), int(ensemble_size)
        self.num_parents, self.mutations_per_parent = int(num_parents), int(mutations_per_parent)
        self.num_random, self.acquisition, self.beta = int(num_random), acquisition, beta
        self.epochs, self.refit_epochs = int(epochs), int(refit_epochs)
        self._asked = 0
        self._model: MLPEnsemble | None = None
        self._neighbour_cache: dict[str, list[ArchGraph]] = {}

    def _neighbours(self, arch: ArchGraph) -> list[ArchGraph]:
        """One-edit neighbours, cached: the same top architectures are parents round after round."""
        h = arch.canonical_hash()
        if h not in self._neighbour_cache:
            self._neighbour_cache[h] = self.space.neighbours(arch)
        return self._neighbour_cache[h]

    def _candidates(self) -> list[ArchGraph]:
        """Unseen mutants of the best verified architectures plus a few uniform samples, unique by hash.

        Half of each parent's mutants are one edit away; the other half combine two of its
        one-edit neighbours (two edits, repaired by ``space.project``), which costs no second
        neighbourhood enumeration.
        """
        parents = sorted(self.successes, key=lambda r: -r.score)[: self.num_parents]
        found: dict[str, ArchGraph] = {}
        for parent in parents:
            base = self.space.choices(parent.arch)
            options = self._neighbours(parent.arch)
            for _ in range(self.mutations_per_parent):
                first = self.space.choices(options[int(self.rng.integers(len(options)))])
                if self.rng.random() < 0.5:
                    second = self.space.choices(options[int(self.rng.integers(len(options)))])
                    first = self.space.project([b if b != o else f for f, b, o in zip(first, second, base)])
                child = self.space.from_choices(first)
                found.setdefault(child.canonical_hash(), child)
        for arch in self.space.sample_many(self.num_random, self.rng):
            found.setdefault(arch.canonical_hash(), arch)
        return [a for h, a in found.items() if h not in self._seen]

    @with_own_threads
    def ask(self, k: int) -> list[ArchGraph]:
        ok = self.successes
        if self._asked < self.num_init or len(ok) < 2:
            out = self._random_batch(k)
            self._asked += len(out)
            return out
        candidates = self._candidates()
        if not candidates:
            return self._random_batch(k)
        x = self.encode([r.arch for r in ok])
        y = np.array([r.score for r in ok], dtype=np.float64)
        if self._model is None:
            self._model = MLPEnsemble(x.shape[1], members=self.ensemble_size, epochs=self.epochs,
                                      seed=int(self.rng.integers(2**31 - 1))).fit(x, y)
        else:
            # Warm start: one result more barely moves the optimum, so a short refit from the
            # previous weights matches a full refit at an eighth of the cost.
            self._model.fit(x, y, epochs=self.refit_epochs)
        mean, std = self._model.predict(self.encode(candidates))
        if self.acquisition == "its":
            value = self.rng.normal(mean, std + 1e-9)
        else:
            value = mean + self.beta * std
        out = []
        for i in np.argsort(-value):
            if self._claim(candidates[int(i)]):
                out.append(candidates[int(i)])
            if len(out) == k:
                break
        self._asked += len(out)
        return out
