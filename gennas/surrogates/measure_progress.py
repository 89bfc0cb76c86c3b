"""The timings a ``gennas latency measure`` has taken so far, on disk as each is taken, so that the
same command run again after an interruption resumes instead of timing everything again.

A user interrupted a measure of random architectures part-way: Ctrl-C saved the
timings taken to a file that registers the device only with an uncalibrated bound, a closed
terminal or a killed process kept nothing, and the command run again timed every architecture
anew. Here each timing goes to ``$GENNAS_HOME/measuring/<space>/<name>.json`` when it is taken,
by phase (the references, their second timings, the check) and architecture string. The command
run again on the same machine with the same settings and space takes the kept timings and times
the rest; it removes the file when it ends other than by an interruption.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gennas.atomic_write import write_whole
from gennas.errors import GennasError, GennasWarning
from gennas.resources import gennas_home
from gennas.surrogates.measure import Timing
from gennas.surrogates.measure_commands import MEASURE_OPTIONS


def progress_path(name: str, space: str) -> Path:
    """Where a measure of device ``name`` in ``space`` keeps its timings while it runs (outside
    ``devices/``: a half-timed device is not a device)."""
    return gennas_home() / "measuring" / space / f"{name}.json"


class MeasureProgress:
    """Timings of one device's measure kept as they are taken (module doc).

    ``settings``: everything that makes two timings of one architecture comparable (the command's
    timing options, the machine, the build, the space's spec); a kept file with other settings is
    not resumed."""

    def __init__(self, path: Path, settings: dict[str, Any], kept: dict[str, dict[str, list[Any]]]) -> None:
        self.path = path
        self.settings = settings
        self.kept = kept  # phase -> architecture string -> [ms, spread, passes, wall ms]
        self.writable = True

    @classmethod
    def open(cls, name: str, space: str, settings: Mapping[str, Any], restart: bool = False) -> MeasureProgress:
        """The progress of measuring ``name`` in ``space`` with ``settings``: the timings an
        interrupted run with the same settings kept, none where ``restart`` or none were kept.
        Raises GennasError where kept timings were taken with other settings, naming them:
        timing over them would throw minutes of work away without the user's word."""
        path = progress_path(name, space)
        stored: dict[str, Any] = json.loads(json.dumps(dict(settings)))  # as the file holds them (tuples as lists)
        record = None if restart else _read(path)
        if record is None:
            return cls(path, stored, {})
        if record.get("settings") != stored:
            held = kept if isinstance(kept := record.get("settings"), dict) else {}
            differ = "; ".join(_difference(key, held.get(key), stored.get(key))
                               for key in sorted(set(held) | set(stored)) if held.get(key) != stored.get(key))
            raise GennasError(f"an interrupted measure of {name!r} kept {_count(record['timings'])} timings in {path} "
                              f"taken with other settings ({differ}): run it again with those to resume it, or add "
                              "--restart to time every architecture with these")
        return cls(path, stored, record["timings"])

    def resumed(self) -> int:
        """How many timings an interrupted run kept and this one takes instead of timing them."""
        return _count(self.kept)

    def keeping(self, phase: str, take: Callable[[Any], Timing],
                label: Callable[[Any], str]) -> Callable[[Any], Timing]:
        """``take`` (architecture -> :class:`Timing`) answered from the kept timings of ``phase``
        where one is kept for the architecture's ``label``; a new timing is kept before it is
        returned."""
        def timed(arch: Any) -> Timing:
            key = label(arch)
            held = self.kept.get(phase, {}).get(key)
            if held is not None:
                return Timing(*held)
            timing = take(arch)
            self.kept.setdefault(phase, {})[key] = [timing.ms, timing.spread, timing.repeats, timing.wall_ms]
            self._write()
            return timing

        return timed

    def finished(self) -> None:
        """The command ended (registered, or refused with its timings saved): nothing to resume."""
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        if not self.writable:
            return
        try:  # a whole file or the previous one: a kill mid-write leaves no half record
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_whole(self.path, json.dumps({"settings": self.settings, "timings": self.kept}))
        except OSError as exc:  # the measure goes on: only resuming it is lost
            self.writable = False
            warnings.warn(f"cannot keep the timings in {self.path} as they are taken ({exc.strerror or exc}): "
                          "an interrupted measure will not resume", GennasWarning, stacklevel=2)


def _read(path: Path) -> dict[str, Any] | None:
    """The kept record at ``path``; None where there is none or it is unreadable (a kept file is
    a convenience: a broken one is timed over, as if absent)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    timings = record.get("timings") if isinstance(record, dict) else None
    if not isinstance(timings, dict) or not all(isinstance(v, dict) for v in timings.values()):
        return None
    return record


def _count(timings: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(by_arch) for by_arch in timings.values())


def _difference(key: str, held: Any, here: Any) -> str:
    """One differing setting, by its option where it has one (``--batch-size 4 there, 1 here``)."""
    if key == "space_spec":
        return "the space's spec changed"
    return f"{MEASURE_OPTIONS.get(key, key)} {_shown(held)} there, {_shown(here)} here"


def _shown(value: Any) -> str:
    return "unset" if value is None else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
