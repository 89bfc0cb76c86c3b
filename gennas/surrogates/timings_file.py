"""Latency timings in a file: taken elsewhere and read for ``gennas latency register``, or kept
by a ``gennas latency measure`` that did not register them (:func:`save_timings`).

A phone, an accelerator or a machine without gennas can be timed with any tool; its timings
register it as a device like ``gennas latency measure`` does on this machine. Accepted:

* JSON: an object with ``"samples": [[architecture, ms], ...]`` (a registered device's file,
  or the file ``gennas latency measure`` saves when it refuses noisy timings; its other fields,
  ``space`` and ``noisy`` among them, are kept), or a bare list of such pairs;
* CSV: ``architecture,ms`` rows, with or without that header.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from gennas.errors import GennasError
from gennas.spaces import SearchSpace, known_spaces
from gennas.spaces.identity import spec_record
from gennas.surrogates.record_fields import check_record_fields


def read_timings(path: str | Path) -> tuple[list[tuple[str, float]], dict[str, Any]]:
    """``([(architecture string, ms), ...], other fields)`` of a timings file (module doc).
    Raises GennasError naming the file and what is wrong: unreadable, no samples, a row that
    is not an architecture and a positive finite number of ms, one architecture timed twice."""
    path = Path(path)
    try:  # utf-8-sig: a BOM (Excel, Notepad, PowerShell) was "not JSON" (user walk 46)
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GennasError(f"cannot read timings file {path}: {exc}; save it as UTF-8 (Windows PowerShell 5.1's "
                          "`>` writes UTF-16: use `| Out-File -Encoding utf8`)") from None
    except OSError as exc:
        raise GennasError(f"cannot read timings file {path}: {exc}") from None
    info: dict[str, Any] = {}
    if path.suffix.lower() == ".csv":
        rows: list[Any] | None = [row for row in csv.reader(text.splitlines())
                                  if row and any(cell.strip() for cell in row)]
        if rows and rows[0][-1].strip().lower() in ("ms", "latency_ms", "latency"):
            rows = rows[1:]  # the header
    else:
        try:
            record = json.loads(text)
        except ValueError as exc:
            raise GennasError(f"timings file {path} is not JSON ({exc}); a .csv file is read as CSV") from None
        rows = record.get("samples") if isinstance(record, dict) else record
        info = {k: v for k, v in record.items() if k not in ("name", "samples")} if isinstance(record, dict) else {}
        check_record_fields(info, f"timings file {path}")  # copied into the device record, acted on later
    if not isinstance(rows, list) or not rows:
        raise GennasError(f"timings file {path} holds no timings: [architecture, ms] pairs")
    samples: dict[str, float] = {}
    for row in rows:
        try:
            arch, ms = row
            arch, ms = str(arch).strip(), float(ms)
        except (TypeError, ValueError):
            raise GennasError(f"timings file {path}: a row must be an architecture and its ms, got {row!r}") from None
        if not 0 < ms < float("inf"):
            raise GennasError(f"timings file {path}: {arch}: ms must be a positive finite number, got {ms}")
        if arch in samples:  # two timings of one cell: which is right is the user's to say
            raise GennasError(f"timings file {path}: {arch} is timed twice ({samples[arch]:g} and {ms:g} ms); keep "
                              "one (their median, say)")
        samples[arch] = ms
    return list(samples.items()), info


def save_timings(name: str, space: SearchSpace, samples: list[tuple[Any, float]], info: dict[str, Any]) -> Path:
    """Write measured samples to a JSON file in the system's temporary folder; returns its path.

    The record has the fields of a registered device file, so it can be copied into
    ``$GENNAS_HOME/devices/<space>/`` once the reason it was not registered is fixed."""
    record = {"name": name, "space": space.name, "samples": [[space.to_string(a), float(ms)] for a, ms in samples],
              **info, "space_spec": spec_record(space)}
    if space.source is not None:  # `gennas latency register` finds a user's space by it
        record["space_file"] = str(space.source)
    fd, path = tempfile.mkstemp(prefix=f"gennas-measured-{name}-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(record, indent=2) + "\n")
    return Path(path)


def space_of_timings(info: dict[str, Any]) -> str | None:
    """The space a timings file names: the YAML file a refused `gennas latency measure` recorded
    for a user's space, where it still exists (its name alone is unknown to a new process)."""
    source = info.get("space_file")
    if isinstance(source, str) and Path(source).is_file() and info.get("space") not in known_spaces():
        return source
    return info.get("space")
