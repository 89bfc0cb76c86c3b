"""Shared fixtures: spaces and the bundled benchmark are loaded once per session."""

from __future__ import annotations

import os
import signal

import pytest
import torch

import gennas

# Two cores on CI: one thread per test process keeps timings predictable.
torch.set_num_threads(1)

#: set by :func:`_sigterm` when a SIGTERM arrived
_TERMINATED: list[int] = []


def _sigterm(signum: int, frame: object) -> None:
    """SIGTERM (``timeout`` ending the run) stops the run, and says so. The CLI's own handler used
    to take it inside a CliRunner command: the run's timeout read as a failed test (exit 143, not
    130) and the run went on (walk 22 #7); gennas.cli.output.friendly keeps this handler."""
    _TERMINATED.append(signum)
    raise KeyboardInterrupt("SIGTERM: the test run was terminated (a timeout?)")


def _default_sigterm() -> None:
    """In a forked child, which stands in for a fresh `gennas` process (tests/test_faults.py):
    SIGTERM's default, as there, whatever handler the parent held. ``ray.init`` replaces it (and
    leaves its own after ``ray.shutdown``): after the executor tests the child kept ray's, the
    CLI's handler stood back, and a SIGTERM killed it (-15, not 143) in the full suite only."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


signal.signal(signal.SIGTERM, _sigterm)
os.register_at_fork(after_in_child=_default_sigterm)


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    """Stop the run after a test a SIGTERM interrupted (a command in it caught the KeyboardInterrupt)."""
    if _TERMINATED:
        pytest.exit(f"SIGTERM during {nodeid}: the test run was terminated (a timeout?); that test's failure is the "
                    "signal's", returncode=143)

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BEST_C100 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture
def register_here():
    """A function registering a device of a space as `gennas latency measure` here would, with
    quick settings: ``register_here(name, space, ms, **info_changes)``, the reference
    architectures timed at ``ms * (1 + i / 10)``. Set GENNAS_HOME first."""
    import platform

    from gennas.surrogates import measure
    from gennas.surrogates.latency import load_latency_estimator

    def register(name: str, space: gennas.SearchSpace, ms: float, **changes) -> None:
        refs = load_latency_estimator(space).reference_archs()
        info = {"batch_size": 1, "repeats": 2, "max_repeats": 2, "warmup": 1, "target_spread": 1.0,
                "max_seconds": 2.0, "clock": "wall", "torch_device": "cpu", "machine": platform.node(),
                "torch_threads": 1, "build": measure.table_build_options(space), **changes}
        measure.register_device(name, space, [(a, ms * (1 + i / 10)) for i, a in enumerate(refs)], info)

    return register


@pytest.fixture(scope="session")
def nb201() -> gennas.SearchSpace:
    return gennas.load_space("nb201")


@pytest.fixture(scope="session")
def space(nb201) -> gennas.SearchSpace:
    """The space evaluator tests build networks in (nb201)."""
    return nb201


@pytest.fixture(scope="session")
def mbv3() -> gennas.SearchSpace:
    return gennas.load_space("mbv3")


@pytest.fixture(scope="session")
def bench():
    return gennas.load_benchmark("nb201")


@pytest.fixture(scope="session")
def all_cells(nb201):
    return list(nb201.enumerate())


#: a user's 3-node cell space (no shipped estimator, generator or predictor); each module names its
#: own, so the checkpoints and devices a test writes for it stay apart
USER_CELL_SPACE = """kind: cell
name: {name}
input_size: 32
cell:
  nodes: {nodes}
  zero_op: none
  identity_op: skip
  ops:
    none: {{type: zero}}
    skip: {{type: identity}}
    conv3: {{type: relu_conv_bn, kernel: 3}}
    pool3: {{type: avg_pool, kernel: 3}}
macro: {{channels: 4, cells_per_stage: 1, stages: 1}}
"""


@pytest.fixture
def user_cell_space(tmp_path):
    """``write(name, nodes=3)``: :data:`USER_CELL_SPACE` written to ``tmp_path / "own.yaml"``,
    returns the file's path (``gennas.load_space`` of it is the space)."""
    def write(name: str, nodes: int = 3):
        path = tmp_path / "own.yaml"
        path.write_text(USER_CELL_SPACE.format(name=name, nodes=nodes))
        return path
    return write


def small_trained_study(root, task: str) -> tuple:
    """(home, storage URL) under ``root``: a 2-result study of ``task`` trained as the README's
    own-task example (MNIST 16 px grey, the small build: channels 8, one cell per stage;
    keep_weights, inputs recorded), on 40 images for 1 epoch."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENNAS_HOME", str(root / "home"))
        space = gennas.load_space("nb201")
        train, val = gennas.datasets.image_loaders("mnist", size=16, channels=1, limit=40)
        evaluator = gennas.TrainEvaluator(space, train, val, epochs=1, build_options=space.small_build_options,
                                          keep_weights=True, progress=False,
                                          inputs=gennas.datasets.input_recipe("mnist", size=16, channels=1))
        storage = f"sqlite:///{root / 'ref.db'}"
        gennas.Designer("nb201", task=task, seed=0).search(evaluator, budget=2, storage=storage)
    return root / "home", storage
