"""Models that stand in for measurements: the accuracy predictor, the latency estimator, task
descriptions, and the protocols the rest of the package depends on."""

from gennas._lazy import lazy_exports, own_modules

__getattr__, __dir__ = lazy_exports(__name__, {}, own_modules(__path__))
