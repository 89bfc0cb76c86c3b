"""Bundled benchmark tables: real NAS-Bench-201 accuracies and measured latencies.

``gennas/data/nb201_accuracy.csv.gz`` holds the NATS-Bench test accuracy (%, 200 epochs, mean
over seeds) on ``cifar10`` and ``cifar100``; ``nb201_latency.csv.gz`` holds HELP's measured
inference latency (ms) on 19 devices. Both are keyed by the official NAS-Bench-201 index and
string. Every cell answers with its own row: isomorphic cells were trained separately and
differ slightly; group them with ``ArchGraph.canonical_hash()``.
"""

from __future__ import annotations

import csv
import functools
import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gennas.errors import GennasError, InvalidArchitecture, UnknownDataset, UnknownDevice, unknown
from gennas.graph import ArchGraph, ArchLike
from gennas.resources import data_dir
from gennas.spaces import SearchSpace, load_space


def _read_table(path) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """(arch strings, column name -> float64 values, official indices) of a gzipped CSV."""
    with gzip.open(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    arch_col, index_col = header.index("arch"), header.index("index")
    columns = {name: np.array([float(r[i]) for r in rows]) for i, name in enumerate(header)
               if i not in (arch_col, index_col)}
    return [r[arch_col] for r in rows], columns, np.array([int(r[index_col]) for r in rows])


@dataclass
class Benchmark:
    """Lookup tables for one finite search space, rows in official-index order.

    Attributes:
        space: the search space the rows belong to.
        strings: architecture string of each row, ``(rows,)``.
        accuracies: dataset -> test accuracy in %, float64 ``(rows,)``.
        latencies: device -> latency in ms, float64 ``(rows,)``.
    """

    space: SearchSpace
    strings: list[str]
    accuracies: dict[str, np.ndarray]
    latencies: dict[str, np.ndarray]
    _row: dict[str, int] = field(init=False, repr=False)

    def __repr__(self) -> str:
        # the dataclass repr listed every row (1.4 MB for nb201) when a REPL echoed the object
        return (f"Benchmark({self.space.name}, {len(self.strings):,} rows, datasets={sorted(self.accuracies)}, "
                f"devices={len(self.latencies)})")

    def __post_init__(self) -> None:
        self._row = {s: i for i, s in enumerate(self.strings)}

    # ------------------------------------------------------------ listings
    @property
    def name(self) -> str:
        """The benchmark's name (its space's: ``"nb201"``)."""
        return self.space.name

    @property
    def datasets(self) -> list[str]:
        """The datasets whose test accuracies the table holds, sorted."""
        return sorted(self.accuracies)

    @property
    def devices(self) -> list[str]:
        """The devices whose measured latencies the table holds, sorted."""
        return sorted(self.latencies)

    def __len__(self) -> int:
        return len(self.strings)

    def archs(self) -> list[ArchGraph]:
        """Every architecture of the table, in row order."""
        return [self.space.from_string(s) for s in self.strings]

    # ------------------------------------------------------------ lookups
    def rows(self, archs: Sequence[ArchLike]) -> np.ndarray:
        """Row index of each architecture, int64 ``(len(archs),)``."""
        out = np.empty(len(archs), dtype=np.int64)
        for i, arch in enumerate(archs):
            if not isinstance(arch, (ArchGraph, str)):  # a design generate returned; anything else named
                arch = self.space.parse(arch)
            if isinstance(arch, ArchGraph) and arch.space != self.space.name:
                raise InvalidArchitecture(f"architecture of space {arch.space!r} looked up in the "
                                          f"{self.space.name} benchmark")
            text = arch if isinstance(arch, str) else self.space.to_string(arch)
            row = self._row.get(text)
            if row is None:
                self.space.from_string(text)  # raises a precise error if the string is malformed
                raise InvalidArchitecture(f"{text!r} has no row in the {self.name} benchmark")
            out[i] = row
        return out

    def _column(self, table: dict[str, np.ndarray], kind: str, name: str,
                error: type[GennasError]) -> np.ndarray:
        if name not in table:
            raise error(unknown(kind, name, list(table)))
        return table[name]

    def accuracy(self, arch: ArchLike, dataset: str) -> float:
        """Test accuracy in % of one architecture on ``dataset``."""
        return float(self.accuracy_of([arch], dataset)[0])

    def latency(self, arch: ArchLike, device: str) -> float:
        """Measured inference latency in ms of one architecture on ``device``."""
        return float(self.latency_of([arch], device)[0])

    def accuracy_of(self, archs: Sequence[ArchLike] | None, dataset: str) -> np.ndarray:
        """Accuracies in %, float64 ``(len(archs),)``; ``archs=None`` gives every row."""
        column = self._column(self.accuracies, "dataset", dataset, UnknownDataset)
        return column.copy() if archs is None else column[self.rows(archs)]

    def latency_of(self, archs: Sequence[ArchLike] | None, device: str) -> np.ndarray:
        """Latencies in ms, float64 ``(len(archs),)``; ``archs=None`` gives every row."""
        column = self._column(self.latencies, "device", device, UnknownDevice)
        return column.copy() if archs is None else column[self.rows(archs)]

    def best(self, dataset: str, max_latency_ms: float | None = None, device: str | None = None) -> tuple[str, float]:
        """The best row on ``dataset`` (optionally under a latency on ``device``): (string, accuracy %)."""
        acc = self.accuracy_of(None, dataset)
        if max_latency_ms is not None:
            if device is None:
                raise GennasError("a latency budget needs a device")
            acc = np.where(self.latency_of(None, device) <= max_latency_ms, acc, -np.inf)
            if not np.isfinite(acc).any():
                raise GennasError(f"no architecture runs under {max_latency_ms} ms on {device}")
        row = int(np.argmax(acc))
        return self.strings[row], float(acc[row])


@functools.lru_cache(maxsize=None)
def load_benchmark(name: str = "nb201") -> Benchmark:
    """The bundled tables for benchmark ``name`` (only ``nb201`` ships), cached."""
    if name != "nb201":
        raise GennasError(unknown("benchmark", name, ["nb201"]))
    space = load_space("nb201")
    strings, acc, index = _read_table(data_dir() / "nb201_accuracy.csv.gz")
    lat_strings, lat, lat_index = _read_table(data_dir() / "nb201_latency.csv.gz")
    if not (np.array_equal(index, lat_index) and strings == lat_strings):
        raise GennasError("bundled nb201 accuracy and latency tables disagree on rows")
    accuracies = {col.removesuffix("_test"): values for col, values in acc.items()}
    latencies = {col.removesuffix("_ms"): values for col, values in lat.items()}
    return Benchmark(space, strings, accuracies, latencies)


#: measured latency tables of sampled subnets, per space (no accuracies): the file in gennas/data
LATENCY_TABLES = {"mbv3": "mbv3_latency.csv.gz"}


@functools.lru_cache(maxsize=None)
def load_latency_table(space: str = "mbv3") -> Benchmark:
    """Measured latencies (ms) of a space's architectures, as a :class:`Benchmark` whose
    ``latencies`` are the devices and whose ``accuracies`` are empty; cached.

    ``mbv3``: ``gennas/data/mbv3_latency.csv.gz``, seeded samples of MobileNetV3 subnets timed on
    one CPU (224 px, batch 1, 1 thread) with torch (``cpu_torch_1t``) and onnxruntime
    (``cpu_ort_1t``), written by ``experiments/measure_mbv3.py`` (manifest: ``mbv3_latency.json``).
    ``nb201``: the latencies of :func:`load_benchmark`.
    """
    if space == "nb201":
        return load_benchmark("nb201")
    if space not in LATENCY_TABLES:
        raise GennasError(unknown("latency table", space, ["nb201", *LATENCY_TABLES]))
    strings, columns, _ = _read_table(data_dir() / LATENCY_TABLES[space])
    # <device>_ms columns are the latencies; <device>_wall_ms (wall time of the same passes on a
    # shared machine), _spread and _repeats describe the measurement and are not devices.
    latencies = {col.removesuffix("_ms"): values for col, values in columns.items()
                 if col.endswith("_ms") and not col.endswith("_wall_ms")}
    return Benchmark(load_space(space), strings, {}, latencies)


@functools.lru_cache(maxsize=None)
def sampled_timings(space: str, device: str) -> dict[str, float]:
    """Architecture string -> ms that a space's bundled table of *sampled* architectures
    (:data:`LATENCY_TABLES`, mbv3's 2,000 subnets) measured on ``device``; empty where the space
    has no such table or the table has no such device. Cached (read-only: copy before changing)."""
    if space not in LATENCY_TABLES:
        return {}
    table = load_latency_table(space)
    if device not in table.devices:
        return {}
    parse, to_string = table.space.parse, table.space.to_string
    # the table's strings in the space's own text form, as budgets and registered timings key them
    return {to_string(parse(s)): float(ms) for s, ms in zip(table.strings, table.latency_of(None, device))}
