"""Settings of the design loop (:class:`~gennas.design.loop.DesignLoop`) and the defaults that
depend on whether it starts from a pretrained predictor or from scratch."""

from __future__ import annotations

from dataclasses import dataclass

#: results between two guided generations from scratch: every refit retrains the whole network
#: there, and the guidance is what it learned
REGENERATE_SCRATCH = 4
#: with a pretrained predictor and no latency budget: most refits train only the heads and move
#: the guidance little; generating half as often cut a 50-verification transfer run from 5.8 to
#: 4.9 CPU s (``python experiments/loop_cost.py --methods gennas-transfer --regenerate 8`` vs
#: ``4``). Under a budget it saved nothing (the feasible pool runs out sooner; the README's
#: latency search: 5.2 CPU s per run with 8, 5.6 with 4) and found worse cells in 2 of its 9 settings
#: (gold_6240 at 7.9 / 10 ms: median 92.57 / 93.64 vs 92.69 / 93.72), so budgets keep 4
REGENERATE_PRETRAINED = 8
#: candidates whose warm-up proxy is computed per ask where the space ships no scores for it:
#: synflow builds each network, ~0.4 s on one CPU thread for mbv3, ~0.75 s for darts (64 of them
#: made a from-scratch designer's first ask take 27 / 48 CPU s, 16 take 6.0 / 11.8, none 0.2 / 0.3)
WARMUP_COMPUTED = 16


@dataclass
class LoopSettings:
    """Acquisition knobs of the loop.

    Attributes:
        kappa: uncertainty bonus of the acquisition, in score stds.
        diversity: diversity penalty of the acquisition, in score spreads.
        local_share: share of each batch taken from the neighbours of the best verified.
        pool: architectures generated per asked one (at least 200 in all).
        regenerate: verified results between two guided generations (at least; a new one
            also needs a guidance that changed); None: :data:`REGENERATE_PRETRAINED` with a
            pretrained predictor and no budget, else :data:`REGENERATE_SCRATCH`. Between them the loop
            re-ranks the unseen rest of the last generated pool with the refitted predictor: in
            the profile of ``experiments/loop_cost.py --profile`` a guided generation costs
            ~0.3 s of CPU (9 in a 50-result transfer run under a budget: 2.7 s, most of it the
            denoising steps' guidance gradients).
        refit_steps_per_result / max_refit_steps: warm refit steps of the predictor per new
            result, and at most per refit.
        encoder_growth: on a task new to a pretrained predictor, its encoders are refitted when
            the told results have grown by this factor since they last were (heads only between).
        guide_members: ensemble members whose mean guides generation (None: all).
        warmup / warmup_proxy / warmup_top: from scratch, the first ``warmup`` picks are ranked by
            the zero-cost proxy ``warmup_proxy``, with the ``warmup_top`` cells it scores highest
            among the candidates where the space ships its scores (nb201).

    The reasons and measurements behind each default are the comments in this class's source.
    """

    #: 1.0 from scratch looked better on development seeds 100-109 (median verifications to the
    #: optimum 33 / 27 against 36 / 38 on cifar10 / cifar100, 2.0: 45 / 39.5; ``python
    #: experiments/loop_variants.py --guide-members 1 --top-weight 4 --budget 150 --kappa K``) but
    #: not on the search table's seeds 0-19 (means 43.2 / 38.4 against 42.9 / 42.1, medians 28 / 30
    #: against 30 / 24), so it is 0.5 throughout
    kappa: float = 0.5
    diversity: float = 0.5
    local_share: float = 0.5
    pool: int = 10
    regenerate: int | None = None
    #: warm refit steps per new result, at most ``max_refit_steps`` per refit: one new result
    #: in a memory of dozens moves a warm predictor little, and the refit was half the loop's
    #: cost at batch 1 (20 steps, ~0.6 s, for every verification)
    refit_steps_per_result: int = 5
    max_refit_steps: int = 20
    #: on a task new to a pretrained predictor its encoders are refitted when the told results
    #: have doubled since they last were (a transfer search of 50 results: at 20 and 40, not at each of
    #: 31 refits); the refits in between train only the heads on frozen embeddings, which
    #: also keeps every cached embedding valid. ``python experiments/transfer_refit.py
    #: --encoder-growth G`` (what the loop's ranking knows of the new dataset after 20 / 30 / 50
    #: results): 2.0 ranks about as well as 1.5 and 1.0, at a third less refit CPU than 1.5; never
    #: (inf) degrades by 50 results. From scratch the encoders are the model and are
    #: refitted every time: heads-only refits there cost the search verifications (median to
    #: the optimum on seeds 100-109, cifar10 / cifar100: 54 / 41 vs 47 / 37,
    #: ``python experiments/loop_variants.py --encoder-growth 1.5`` vs ``1.0``). On a task the
    #: pretrained predictor knows, never (:meth:`DesignLoop.encoder_growth`)
    encoder_growth: float = 2.0
    #: ensemble members whose mean guides generation (None: all); ranking always uses all.
    #: One cost a from-scratch search no verifications that matter (``experiments/loop_variants.py
    #: --guide-members 1``: 50 / 38 vs 47 / 37) and saves a fifth of a transfer run's CPU
    #: (``experiments/loop_cost.py --guide-members 0`` for all members: 11.0 vs 8.9 s)
    guide_members: int | None = 1
    #: from scratch, the first ``warmup`` picks are ranked by the zero-cost ``warmup_proxy``
    #: instead of taken at random (the "warmup" of Abdelfattah et al., ICLR 2021; shipped for
    #: every nb201 cell, elsewhere computed on demand for at most ``WARMUP_COMPUTED`` candidates).
    #: Median verifications to the optimum on development seeds 100-109 (``python
    #: experiments/loop_variants.py --guide-members 1 --top-weight 4 --budget 150 --warmup W``),
    #: cifar10 / cifar100, W = 0 / 5 / 10: 36 / 38, 23.5 / 17, 24 / 18.5 (cifar10: fewer on all 10 seeds
    #: at 5); after the proxy table became float64 (synflow had overflowed for 745 cells), W = 5: 18 / 7.5
    warmup: int = 5
    warmup_proxy: str = "synflow"
    #: during the warm-up, the ``warmup_top`` cells of highest shipped ``warmup_proxy`` score join
    #: the candidates where the space ships it for every cell (nb201): the proxy ranks the whole
    #: space, not only a pool of samples (:func:`gennas.design.pool.proxy_top`; as many as the
    #: source tables' cells a new task's pool holds, PRIOR_TOP). Verifying in the proxy's order
    #: alone had reached the optimum sooner than the designer from scratch. On the
    #: development seeds 100-109 (``python experiments/loop_variants.py --guide-members 1
    #: --top-weight 4 --members 1 --budget 150 --warmup-top T``), T = 0 / 50: cifar10 21 / 13
    #: (fewer on 7 seeds, more on 3), cifar100 8.5 / 3 (3 on all 10)
    warmup_top: int = 50
