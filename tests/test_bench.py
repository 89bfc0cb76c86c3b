"""Bundled NAS-Bench-201 tables: published values, vectorised lookups, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gennas import InvalidArchitecture, UnknownDataset, UnknownDevice
from tests.conftest import BEST_C10, BEST_C100


def test_shape_and_names(bench):
    assert len(bench) == 15625
    assert bench.datasets == ["cifar10", "cifar100"]
    assert len(bench.devices) == 19 and "pixel3" in bench.devices


def test_published_best_values(bench):
    assert bench.accuracy_of(None, "cifar10").max() == pytest.approx(94.3733)
    assert bench.accuracy_of(None, "cifar100").max() == pytest.approx(73.5133)
    assert bench.best("cifar10") == (BEST_C10, pytest.approx(94.3733))
    assert bench.best("cifar100") == (BEST_C100, pytest.approx(73.5133))
    assert bench.accuracy(BEST_C10, "cifar10") == pytest.approx(94.3733)


def test_rows_follow_official_index(bench):
    # Row 0 of NAS-Bench-201 (official index 0) and its measured values.
    assert bench.strings[0] == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert bench.accuracy(bench.strings[0], "cifar10") == pytest.approx(85.8633)
    assert bench.latency(bench.strings[0], "pixel3") == pytest.approx(3.6058)


def test_vectorised_lookup_of_all_cells_is_fast(bench, all_cells):
    start = time.perf_counter()
    acc = bench.accuracy_of(all_cells, "cifar100")
    lat = bench.latency_of(all_cells, "titanx_256")
    assert time.perf_counter() - start < 1.0
    assert acc.shape == lat.shape == (15625,)
    assert np.isfinite(acc).all() and (lat > 0).all()


def test_isomorphic_cells_keep_their_own_rows(bench, nb201):
    # Same canonical class, trained separately: values differ slightly.
    a = nb201.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|")
    b = nb201.from_string("|avg_pool_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|")
    assert a.canonical_hash() == b.canonical_hash()
    assert bench.rows([a])[0] != bench.rows([b])[0]


def test_errors(bench, mbv3):
    with pytest.raises(UnknownDataset, match="imagenet.*cifar10"):
        bench.accuracy(BEST_C10, "imagenet")
    with pytest.raises(UnknownDevice, match="toaster.*pixel3"):
        bench.latency(BEST_C10, "toaster")
    with pytest.raises(InvalidArchitecture, match="unknown op"):
        bench.accuracy("|x~0|+|none~0|none~1|+|none~0|none~1|none~2|", "cifar10")
    with pytest.raises(InvalidArchitecture, match="mbv3"):
        bench.accuracy(mbv3.sample(0), "cifar10")


def test_a_benchmark_reads_as_a_line_in_a_repl(bench):
    """Echoing the object listed every row (1.4 MB for nb201)."""
    assert repr(bench) == "Benchmark(nb201, 15,625 rows, datasets=['cifar10', 'cifar100'], devices=19)"
