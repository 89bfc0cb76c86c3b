"""A generator of one's own (a ``SlotGenerator`` subclass) whose ``_sample_indices`` returns floats
or indices past the vocabulary is named, where it failed in ``to_archs`` with a bare IndexError or
TypeError (walk 36 #5); a sound one designs end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gennas
from gennas.errors import GennasError
from gennas.generators.base import SlotGenerator


class Uniform(SlotGenerator):
    """Every slot uniform over the vocabulary."""

    kind = "uniform"

    def __init__(self, space):
        super().__init__(space)
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def loss(self, x0, generator=None):
        return self.dummy.sum()

    def _sample_indices(self, n, generator, guidance):
        return torch.randint(0, self.vocab, (n, self.num_slots), generator=generator)

    def config_dict(self):
        return {}


class PastTheVocabulary(Uniform):
    def _sample_indices(self, n, generator, guidance):
        return torch.full((n, self.num_slots), self.vocab + 5)


class Floats(Uniform):
    def _sample_indices(self, n, generator, guidance):
        return torch.rand(n, self.num_slots)


def test_a_sound_generator_of_one_s_own_designs():
    space = gennas.load_space("nb201")
    designs = gennas.Designer(space, task="cifar10", seed=0, generator=Uniform(space)).generate(3)
    assert len(designs) == 3


@pytest.mark.parametrize("broken, seen", [(PastTheVocabulary, r"int64 \(\d+, 6\), values 10\.\.10"),
                                          (Floats, r"float32 \(\d+, 6\)")])
def test_samples_that_are_not_slot_indices_are_named(broken, seen):
    space = gennas.load_space("nb201")
    designer = gennas.Designer(space, task="cifar10", seed=0, generator=broken(space))
    with pytest.raises(GennasError, match=rf"{broken.__name__}\._sample_indices must return whole slot indices "
                                          rf"\(n, S\) = \(\d+, S\) in 0\.\.4, got {seen}"):
        designer.generate(3)


class _Sampler:
    """A researcher's generator following the Generator protocol only: distinct random cells."""

    kind = "random"

    def __init__(self, space):
        self.space = space

    def sample(self, n, seed=None, guidance=None, *, max_draws=None):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise gennas.GennasError(f"n must be a positive integer, got {n!r}")
        out = {}
        for arch in self.space.sample_many(4 * n + 64, np.random.default_rng(seed)):
            out.setdefault(arch.canonical_hash(), arch)
        return list(out.values())[:n]


def test_a_generator_of_the_protocol_alone_is_taken_by_the_designer(nb201):
    """Designer(generator=...) refused one that passes gennas.testing.check_generator: "unknown
    generator kind <...RandomGen object>" (user walk 50); a thing that is no generator is named."""
    from gennas.testing.generators import check_generator

    check_generator(_Sampler(nb201))
    designer = gennas.Designer("nb201", task="cifar10", seed=0, generator=_Sampler(nb201))
    assert len(designer.generate(3)) == 3 and "generator=random" in repr(designer)
    out = designer.search(gennas.TableEvaluator("nb201", "cifar10"), budget=3, progress=False)
    assert len(out.history) == 3
    with pytest.raises(gennas.GennasError, match=r"generator= \(int\) is not a Generator: it lacks"):
        gennas.Designer("nb201", task="cifar10", generator=3)
