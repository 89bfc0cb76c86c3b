"""The from-scratch warm-up ranks the proxy's best cells of the whole space where they are shipped
(walk 27: verifying in synflow's order alone had beaten the designer from scratch)."""

from __future__ import annotations

import gennas
from gennas.baselines import ProxyTopK
from gennas.design.loop_settings import LoopSettings
from gennas.design.pool import proxy_top
from gennas.design.pretrained import untrained_predictor


def test_a_from_scratch_designer_first_asks_synflows_best_cell_of_the_space(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    space = gennas.load_space("nb201")
    best = ProxyTopK(space, seed=0).order[0].canonical_hash()
    for seed in (0, 1):
        designer = gennas.Designer(space, task="own", seed=seed, predictor=untrained_predictor(space, seed))
        assert designer.ask(1)[0].canonical_hash() == best
    without = gennas.Designer(space, task="own", seed=0, predictor=untrained_predictor(space, 0),
                              loop=LoopSettings(warmup_top=0))
    assert without.ask(1)[0].canonical_hash() != best  # a pool of samples alone did not hold it


def test_proxy_top_is_empty_where_the_proxy_is_not_shipped_for_every_cell():
    assert proxy_top(gennas.load_space("darts"), "synflow", 50) == ()
    assert len(proxy_top(gennas.load_space("nb201"), "synflow", 50)) == 50
