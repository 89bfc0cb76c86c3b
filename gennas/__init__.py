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
    InvalidArchitecture,
    MissingDependency,
    TrainingDiverged,
    UnknownDataset,
    UnknownDevice,
    UnknownSpace,
)
from gennas.graph import ArchGraph
from gennas.space import SearchSpace, list_spaces, load_space

__version__ = "0.1.0"

#: public name -> module that defines it, imported on first access
_LAZY: dict[str, str] = {
    "Benchmark": "gennas.bench",
    "load_benchmark": "gennas.bench",
    # predictor and latency estimator (issue 3)
    "Task": "gennas.task",
    "Predictor": "gennas.predictor",
    "load_predictor": "gennas.predictor",
    "LatencyEstimator": "gennas.latency",
    "load_latency_estimator": "gennas.latency",
    "measure_latency": "gennas.latency",
    # generators and guidance (issue 4)
    "load_generator": "gennas.generators",
    "Guidance": "gennas.guidance",
    "Designer": "gennas.designer",
    # verification (issue 5)
    "Evaluator": "gennas.evaluators",
    "Result": "gennas.evaluators",
    "as_evaluator": "gennas.evaluators",
    "TableEvaluator": "gennas.evaluators",
    "TrainEvaluator": "gennas.evaluators",
    "ProxyEvaluator": "gennas.evaluators",
    "Supernet": "gennas.evaluators",
}
#: submodules reachable as attributes (``gennas.proxies.score(...)``)
_SUBMODULES = {"proxies", "datasets", "baselines"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, _SUBMODULES)


__all__ = [
    "ArchGraph",
    "DataError",
    "GennasError",
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
