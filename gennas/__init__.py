"""gennas: graph-based generative neural-architecture design.

Start here::

    designer = gennas.Designer("nb201", task="cifar10", device="pixel3", max_latency_ms=20, seed=0)
    designs = designer.generate(10)             # stated accuracy (%), 90 % interval, latency (ms)
    result = designer.search(gennas.TableEvaluator("nb201", "cifar10"), budget=20)  # verify and learn
    arch = designer.ask(1)[0]; designer.tell(arch, 93.1)  # or verify by hand, your own training

``help(gennas.Designer)`` for every option; ``gennas.list_spaces()`` the bundled spaces;
``gennas.Evaluator`` what a custom evaluator provides (a function ``arch -> score`` wrapped in
``gennas.CallableEvaluator(fn, kind="train")``); ``gennas.Task`` a new dataset described by
samples or images; ``gennas.Designer.from_study`` a designer rebuilt from a stored search;
``gennas.export`` ONNX and PyTorch exports. The command line: ``gennas --help``.

Light names are imported eagerly; anything that pulls heavy dependencies (torch-geometric,
optuna) is imported on first use (the Optuna pattern), so ``import gennas`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # what type checkers and IDEs see: the real types of the names loaded lazily below
    # (without it every one was Any to mypy and pyright, and no mistake in a call was caught: user walk 49);
    # tests/test_typing.py keeps it equal to _LAZY
    from gennas.bench import Benchmark, load_benchmark
    from gennas.design.budget import FewerDesigns, LatencyBudget, MissedCheck, UncalibratedBound
    from gennas.design.candidate import Candidate
    from gennas.design.designer import Designer, GuidanceSettings
    from gennas.design.holdout import HeldOutNaming
    from gennas.design.loop import DesignLoop, LoopSettings
    from gennas.design.notes import Designs
    from gennas.design.pretrained import OtherDirectionSaved, PredictorNotRemembered, SavedTasksReplaced
    from gennas.design.scores import InterruptedTell, RepeatedArchitecture, ToldTwice
    from gennas.design.statement import ScoresOffTable
    from gennas.design.study_replay import UnstoredTell
    from gennas.design.task_names import TaskNameSlip
    from gennas.design.told_units import OtherUnit
    from gennas.errors import CannotWrite, OtherSpec
    from gennas.evaluators import (
        CallableEvaluator,
        Evaluator,
        ProxyCombination,
        ProxyEvaluator,
        Result,
        Supernet,
        TableEvaluator,
        TrainEvaluator,
        as_evaluator,
    )
    from gennas.export import MissingWeights
    from gennas.generators import load_generator
    from gennas.generators.base import SlotGenerator
    from gennas.generators.guidance import Guidance, InfeasibleBudget
    from gennas.resources import NoHome
    from gennas.search import Optimizer, run_search
    from gennas.search.evaluator_settings import OtherThreads, WeightsNotKept
    from gennas.search.interrupted import InterruptedSearch
    from gennas.search.search_result import SearchResult
    from gennas.search.storage import NewStudyOnResume
    from gennas.seeds import UnseededStudy
    from gennas.spaces.schema import SpecError
    from gennas.surrogates.calibration import Predictions
    from gennas.surrogates.latency import LatencyEstimator, load_latency_estimator, measure_latency
    from gennas.surrogates.latency_bound import OutlyingTiming
    from gennas.surrogates.measure import BrokenDeviceFile
    from gennas.surrogates.predictor import Predictor
    from gennas.surrogates.protocols import AccuracyModel, LatencyModel
    from gennas.surrogates.shipped_predictor import load_predictor
    from gennas.surrogates.task import Task
    from gennas import baselines, bench, datasets, design, evaluators, export, search, surrogates  # noqa: F401
    from gennas import proxies  # noqa: F401  (_SUBMODULES, attributes of gennas)

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
    # what generate and search return, and what they raise or warn
    "Candidate": "gennas.design.candidate",
    "Designs": "gennas.design.notes",
    "Predictions": "gennas.surrogates.calibration",
    # types a signature names: to annotate with them without reaching into the modules
    "SlotGenerator": "gennas.generators.base",
    "LatencyBudget": "gennas.design.budget",
    "ProxyCombination": "gennas.evaluators.proxy",
    "SearchResult": "gennas.search.search_result",
    "InfeasibleBudget": "gennas.generators.guidance",
    "FewerDesigns": "gennas.design.budget",
    "ToldTwice": "gennas.design.scores",
    # every other error and warning class, to catch or filter by name without importing the module
    # that raises it (20 warning classes lived in 15 modules: user walk 44)
    "CannotWrite": "gennas.errors",
    "OtherSpec": "gennas.errors",
    "NoHome": "gennas.resources",
    "SpecError": "gennas.spaces.schema",
    "BrokenDeviceFile": "gennas.surrogates.measure",
    "HeldOutNaming": "gennas.design.holdout",
    "InterruptedSearch": "gennas.search.interrupted",
    "InterruptedTell": "gennas.design.scores",
    "MissedCheck": "gennas.design.budget",
    "MissingWeights": "gennas.export",
    "NewStudyOnResume": "gennas.search.storage",
    "OtherDirectionSaved": "gennas.design.pretrained",
    "OtherThreads": "gennas.search.evaluator_settings",
    "OtherUnit": "gennas.design.told_units",
    "OutlyingTiming": "gennas.surrogates.latency_bound",
    "PredictorNotRemembered": "gennas.design.pretrained",
    "RepeatedArchitecture": "gennas.design.scores",
    "SavedTasksReplaced": "gennas.design.pretrained",
    "ScoresOffTable": "gennas.design.statement",
    "TaskNameSlip": "gennas.design.task_names",
    "UncalibratedBound": "gennas.design.budget",
    "UnseededStudy": "gennas.seeds",
    "UnstoredTell": "gennas.design.study_replay",
    "WeightsNotKept": "gennas.search.evaluator_settings",
}
#: modules reachable as attributes (``gennas.proxies.score(...)``)
#: (the packages the README names, ``gennas.search.run_search``: after a bare ``import gennas`` they
#: were an AttributeError until imported by name)
_SUBMODULES = {"proxies": "gennas.proxies", "datasets": "gennas.datasets",
               "baselines": "gennas.baselines", "export": "gennas.export", "search": "gennas.search",
               "design": "gennas.design", "surrogates": "gennas.surrogates", "evaluators": "gennas.evaluators",
               "bench": "gennas.bench"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, _SUBMODULES)
del annotations, lazy_exports, TYPE_CHECKING  # not the package's API: dir(gennas) listed them


# a literal list (pyright could not read `*_LAZY`); tests/test_typing.py keeps it equal to the names above
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
    "Benchmark",
    "load_benchmark",
    "Task",
    "Predictor",
    "load_predictor",
    "LatencyEstimator",
    "load_latency_estimator",
    "measure_latency",
    "load_generator",
    "Guidance",
    "Designer",
    "GuidanceSettings",
    "LoopSettings",
    "DesignLoop",
    "AccuracyModel",
    "LatencyModel",
    "run_search",
    "Optimizer",
    "Evaluator",
    "Result",
    "as_evaluator",
    "CallableEvaluator",
    "TableEvaluator",
    "TrainEvaluator",
    "ProxyEvaluator",
    "Supernet",
    "Candidate",
    "Designs",
    "Predictions",
    "SlotGenerator",
    "LatencyBudget",
    "ProxyCombination",
    "SearchResult",
    "InfeasibleBudget",
    "FewerDesigns",
    "ToldTwice",
    "CannotWrite",
    "OtherSpec",
    "NoHome",
    "SpecError",
    "BrokenDeviceFile",
    "HeldOutNaming",
    "InterruptedSearch",
    "InterruptedTell",
    "MissedCheck",
    "MissingWeights",
    "NewStudyOnResume",
    "OtherDirectionSaved",
    "OtherThreads",
    "OtherUnit",
    "OutlyingTiming",
    "PredictorNotRemembered",
    "RepeatedArchitecture",
    "SavedTasksReplaced",
    "ScoresOffTable",
    "TaskNameSlip",
    "UncalibratedBound",
    "UnseededStudy",
    "UnstoredTell",
    "WeightsNotKept",
]
