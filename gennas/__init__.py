"""gennas: graph-based generative neural-architecture design.

Light names are imported eagerly; anything that pulls heavy dependencies (torch-geometric,
optuna) is imported on first use through ``__getattr__`` (the Optuna pattern), so
``import gennas`` stays fast.
"""

from __future__ import annotations

from gennas._lazy import lazy_exports
from gennas.errors import (
    DataError,
    GennasError,
    GennasWarning,
    InvalidArchitecture,
    MissingDependency,
    TrainingDiverged,
    UnknownDataset,
    UnknownDevice,
    UnknownSpace,
)
from gennas.graph import ArchGraph
from gennas.spaces import SearchSpace, list_spaces, load_space

__version__ = "0.1.0"

#: public name -> module that defines it, imported on first access
_LAZY: dict[str, str] = {
    "Benchmark": "gennas.bench",
    "load_benchmark": "gennas.bench",
    # predictor and latency estimator (issue 3)
    "Task": "gennas.surrogates.task",
    "Predictor": "gennas.surrogates.predictor",
    "load_predictor": "gennas.surrogates.shipped_predictor",
    "LatencyEstimator": "gennas.surrogates.latency",
    "load_latency_estimator": "gennas.surrogates.latency",
    "measure_latency": "gennas.surrogates.latency",
    # generators and guidance (issue 4)
    "load_generator": "gennas.generators",
    "Guidance": "gennas.generators.guidance",
    "Designer": "gennas.design.designer",
    "GuidanceSettings": "gennas.design.designer",
    "LoopSettings": "gennas.design.loop",
    "DesignLoop": "gennas.design.loop",
    "AccuracyModel": "gennas.surrogates.protocols",
    "LatencyModel": "gennas.surrogates.protocols",
    "run_search": "gennas.search",
    "Optimizer": "gennas.search",
    # verification (issue 5)
    "Evaluator": "gennas.evaluators",
    "Result": "gennas.evaluators",
    "as_evaluator": "gennas.evaluators",
    "CallableEvaluator": "gennas.evaluators",
    "TableEvaluator": "gennas.evaluators",
    "TrainEvaluator": "gennas.evaluators",
    "ProxyEvaluator": "gennas.evaluators",
    "Supernet": "gennas.evaluators",
}
#: modules reachable as attributes (``gennas.proxies.score(...)``)
_SUBMODULES = {"proxies": "gennas.evaluators.zero_cost", "datasets": "gennas.datasets",
               "baselines": "gennas.baselines", "export": "gennas.export"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, _SUBMODULES)


__all__ = [
    "ArchGraph",
    "DataError",
    "GennasError",
    "GennasWarning",
    "InvalidArchitecture",
    "MissingDependency",
    "TrainingDiverged",
    "SearchSpace",
    "UnknownDataset",
    "UnknownDevice",
    "UnknownSpace",
    "list_spaces",
    "load_space",
    *_LAZY,
]
