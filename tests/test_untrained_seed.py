"""A designer's seed reaches the predictor it starts untrained (walk 34 #9).

In a space without a shipped predictor (darts, a user's YAML, ``--untrained``) every designer
started from ``untrained_predictor(space, seed=0)``: two seeds differed only in what the generator
drew, and an unseeded designer's network was always seed 0's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gennas
from gennas.design.loop import LoopSettings


def _score(arch: gennas.ArchGraph) -> float:
    """A cheap score of a darts cell: its separable convolutions, then its skips (ties broken)."""
    text = arch.to_string()
    return float(text.count("sep_conv") + 0.1 * text.count("skip"))


def _designer(darts: gennas.SearchSpace, seed: int) -> gennas.Designer:
    """A seeded darts designer that saves nothing in the home (each run starts untrained) and skips
    the warm-up's zero-cost ranking (a synflow pass per darts network: 30 s of this test)."""
    designer = gennas.Designer(darts, task="mine", seed=seed, loop=LoopSettings(warmup=0))
    designer.loop.remember = False
    return designer


def _weights(designer: gennas.Designer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in designer.predictor.members[0].parameters()])


@pytest.fixture
def darts(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path / "home"))  # nothing saved: every designer starts untrained
    return gennas.load_space("darts")


def test_the_designer_s_seed_initialises_its_untrained_predictor(darts):
    one, again, two = (gennas.Designer(darts, task="mine", seed=s) for s in (1, 1, 2))
    assert one.predictor_start == "untrained" and one.predictor.seed == 1 and two.predictor.seed == 2
    assert torch.equal(_weights(one), _weights(again))
    assert not torch.equal(_weights(one), _weights(two))  # before: both seed 0's network
    unseeded = [gennas.Designer(darts, task="mine", seed=None).predictor.seed for _ in range(2)]
    assert unseeded[0] != unseeded[1]  # an unseeded run differs in its predictor too


def test_a_study_begun_untrained_resumes_and_rebuilds_from_its_own_seed(darts, tmp_path):
    """Stopped and resumed, or rebuilt by ``from_study``, a seed-3 study restarts from seed 3's
    untrained network: the resumed run verifies what the uninterrupted one did, and the rebuilt
    designer predicts as a seed-3 designer told the study's results does."""
    full = _designer(darts, 3)
    full.search(_score, budget=4, batch_size=2, storage=f"sqlite:///{tmp_path / 'full.db'}", study_name="s")
    url = f"sqlite:///{tmp_path / 'stopped.db'}"
    stopped = _designer(darts, 3)
    stopped.search(_score, budget=2, batch_size=2, storage=url, study_name="s")
    resumed = _designer(darts, 3)
    resumed.search(_score, budget=4, batch_size=2, storage=url, study_name="s", resume=True)
    assert [r.arch.to_string() for r in resumed.history] == [r.arch.to_string() for r in full.history]

    rebuilt = gennas.Designer.from_study(url, "s")
    told = _designer(darts, 3)
    told.tell(resumed.history)  # one refit on the four, as from_study replays them
    archs = darts.sample_many(5, np.random.default_rng(0))
    assert rebuilt.predictor.seed == 3
    assert np.allclose(rebuilt.loop.predict(archs)[0], told.loop.predict(archs)[0])
